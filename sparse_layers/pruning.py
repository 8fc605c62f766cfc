"""Gradual magnitude pruning (Zhu & Gupta 2017) of masked layers, for LTR.

The sparsity s_t follows tfmot's `PolynomialDecay` (cubic by default: the
schedule REFERENCE.md section 4 asks for). At each of its pruning steps every
masked layer keeps its round((1 - s_t) n) largest-magnitude active weights
(uniform sparsity across layers, as Zhu & Gupta); pruned weights and their
optimizer slots are zeroed, and masks only shrink. `after_train_step` has the
same interface as `SparsityHook`, so the training loop drives both alike.
"""

import tensorflow as tf
import tensorflow_model_optimization as tfmot

from sparse_layers import layers as masked
from sparse_layers import updaters


def polynomial_decay(final_sparsity, begin_step, end_step, frequency=100,
                     power=3):
  """tfmot's PolynomialDecay from 0 to `final_sparsity` (validated)."""
  if not 0.0 <= final_sparsity < 1.0:
    raise ValueError(f'final sparsity must be in [0, 1), got '
                     f'{final_sparsity}.')
  if not 0 <= begin_step < end_step:
    raise ValueError(f'need 0 <= begin_step < end_step, got {begin_step}, '
                     f'{end_step}.')
  if frequency < 1:
    raise ValueError(f'pruning frequency must be >= 1, got {frequency}.')
  return tfmot.sparsity.keras.PolynomialDecay(
      initial_sparsity=0.0, final_sparsity=final_sparsity,
      begin_step=begin_step, end_step=end_step, power=power,
      frequency=frequency)


class GradualPruningHook(tf.Module):
  """Prunes masked layers by magnitude on a tfmot pruning schedule."""

  def __init__(self, model, schedule, optimizer=None, name='pruning_hook'):
    super().__init__(name=name)
    self._layers = masked.masked_layers(model)
    if not self._layers:
      raise ValueError('the model has no MaskedConv2D / MaskedDense layers.')
    self.schedule = schedule
    self._optimizer = optimizer
    self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name='step')

  @property
  def masked_layers(self):
    return list(self._layers)

  def after_train_step(self, batch=None):
    """Counts one optimizer step; prunes if the schedule says so."""
    del batch  # Magnitude pruning needs no data.
    step = self.step.assign_add(1)
    should_prune, sparsity = self.schedule(step)
    if should_prune:
      self.prune_to(sparsity)

  def prune_to(self, sparsity):
    """Keeps round((1 - sparsity) n) largest |w| of each layer's active ones."""
    for layer in self._layers:
      shape = layer.mask.shape
      mask = tf.reshape(tf.convert_to_tensor(layer.mask), [-1])
      kernel = tf.reshape(tf.convert_to_tensor(layer.kernel), [-1])
      size = tf.size(mask)
      keep = tf.cast(tf.round((1.0 - tf.cast(sparsity, tf.float64)) *
                              tf.cast(size, tf.float64)), tf.int32)
      keep = tf.minimum(keep, tf.math.count_nonzero(mask, dtype=tf.int32))
      scores = tf.where(mask > 0, tf.abs(kernel),
                        tf.fill(tf.shape(mask), float('-inf')))
      new_mask = tf.reshape(updaters.top_k_mask(scores, keep, tf.range(size)),
                            shape)
      layer.mask.assign(new_mask)
      layer.kernel.assign(layer.kernel * new_mask)
      for slot in updaters.optimizer_slots(self._optimizer, layer.kernel):
        slot.assign(slot * tf.cast(new_mask, slot.dtype))
