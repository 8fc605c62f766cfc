"""Gradual magnitude pruning (Zhu & Gupta 2017) of masked layers, for LTR.

The sparsity s_t follows tfmot's `PolynomialDecay` (cubic by default, Zhu &
Gupta's schedule). At each of its pruning steps every
masked layer keeps its round((1 - s_t) n) largest-magnitude active weights
(uniform sparsity across layers, as Zhu & Gupta); pruned weights and their
optimizer slots are zeroed, and masks only shrink. It is a
`hook.TrainingHook` like `SparsityHook`, so the training loop drives both
alike.
"""

import tensorflow as tf
import tensorflow_model_optimization as tfmot

from sparse_layers import counts
from sparse_layers import hook
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


class GradualPruningHook(hook.TrainingHook):
  """Prunes masked layers by magnitude on a tfmot pruning schedule.

  Drive it like `hook.SparsityHook`: `apply_gradients` in the compiled step
  (replica context; every replica prunes its own copy identically), or
  `after_train_step()` after the step in cross-replica code.
  """

  def __init__(self, model, schedule, optimizer=None, strategy=None,
               name='pruning_hook'):
    super().__init__(model, optimizer, strategy, name)
    self.schedule = schedule

  def next_update_step(self, step):
    """tfmot's pruning steps: every `frequency` from `begin_step` to
    `end_step` (-1: no end), both included."""
    s = self.schedule
    candidate = max(step + 1, s.begin_step)
    candidate += -(candidate - s.begin_step) % s.frequency
    if s.end_step != -1 and candidate > s.end_step:
      return None
    return candidate

  def _on_step(self, step, kernel_gradients):
    del kernel_gradients  # Magnitude pruning needs no gradient.
    should_prune, sparsity = self.schedule(step)

    def prune():
      self.prune_to(sparsity)
      return tf.constant(0)

    tf.cond(should_prune, prune, lambda: tf.constant(0))

  def _on_batch(self, step, batch):
    del batch  # Magnitude pruning needs no data.
    should_prune, sparsity = self.schedule(step)
    if should_prune:
      self._run_on_replicas(self.prune_to, sparsity)

  def prune_to(self, sparsity):
    """Keeps round((1 - sparsity) n) largest |w| of each layer's active ones.

    The count is exact (`counts.rounded_complement_count`, no float64);
    ties keep the lowest index.
    """
    for layer in self._layers:
      shape = layer.mask.shape
      size = shape.num_elements()
      mask = tf.reshape(tf.convert_to_tensor(layer.mask), [size])
      kernel = tf.reshape(tf.cast(tf.convert_to_tensor(layer.kernel),
                                  tf.float32), [size])
      keep = tf.minimum(counts.rounded_complement_count(sparsity, size),
                        tf.math.count_nonzero(mask, dtype=tf.int32))
      scores = tf.where(mask > 0, tf.abs(kernel),
                        tf.fill([size], float('-inf')))
      new_mask = tf.reshape(updaters.top_k_mask(scores, keep, tf.range(size)),
                            shape)
      layer.mask.assign(tf.cast(new_mask, layer.mask.dtype))
      layer.kernel.assign(layer.kernel * tf.cast(new_mask, layer.kernel.dtype))
      for slot in updaters.optimizer_slots(self._optimizer, layer.kernel):
        slot.assign(slot * tf.cast(new_mask, slot.dtype))
