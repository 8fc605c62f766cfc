"""Tests for sparse_layers/pruning.py."""

import numpy as np
import tensorflow as tf

from sparse_layers import layers
from sparse_layers import pruning
from sparse_layers.keras_alias import keras


def _dense_layer(seed=0):
  layer = layers.MaskedDense(8, use_bias=False)
  layer(np.zeros((1, 10), np.float32))
  layer.kernel.assign(np.random.default_rng(seed).normal(size=(10, 8)))
  return layer


class PruningTest(tf.test.TestCase):

  def test_cubic_schedule_and_magnitude_masks(self):
    layer = _dense_layer()
    model = keras.Sequential([keras.Input((10,)), layer])
    optimizer = keras.optimizers.SGD(0.1, momentum=0.9)
    optimizer.build(model.trainable_variables)
    schedule = pruning.polynomial_decay(0.75, begin_step=0, end_step=8,
                                        frequency=2)
    hook = pruning.GradualPruningHook(model, schedule, optimizer)
    # The steps tfmot's schedule prunes at, as next_update_step gives them.
    due = [t for t in range(12) if bool(schedule(t)[0])]
    self.assertEqual(due, [0, 2, 4, 6, 8])
    self.assertEqual([hook.next_update_step(t) for t in range(-1, 9)],
                     [0, 2, 2, 4, 4, 6, 6, 8, 8, None])
    late = pruning.GradualPruningHook(
        model, pruning.polynomial_decay(0.5, 5, 20, frequency=4), optimizer)
    self.assertEqual([late.next_update_step(t) for t in (0, 4, 5, 9, 17)],
                     [5, 5, 9, 13, None])
    original = layer.kernel.numpy().copy()
    counts = []
    for _ in range(10):
      hook.after_train_step()
      counts.append(int(layer.mask.numpy().sum()))
    # s_t = 0.75 (1 - (1 - t/8)^3) at t = 2, 4, 6, 8; 80 weights.
    expected = {t: round((1 - 0.75 * (1 - (1 - t / 8)**3)) * 80)
                for t in (2, 4, 6, 8)}
    self.assertEqual([counts[t - 1] for t in (2, 4, 6, 8)],
                     [expected[t] for t in (2, 4, 6, 8)])
    self.assertEqual(counts[-1], 20)
    mask = layer.mask.numpy()
    # The kept weights are the 20 largest magnitudes of the original kernel.
    largest = np.argsort(-np.abs(original).ravel())[:20]
    self.assertAllEqual(np.sort(np.flatnonzero(mask.ravel())),
                        np.sort(largest))
    self.assertEqual(np.count_nonzero(layer.kernel.numpy()[mask == 0]), 0)
    (slot,) = [v for v in optimizer.variables if v.shape == (10, 8)]
    self.assertEqual(np.count_nonzero(slot.numpy()[mask == 0]), 0)

  def test_compiled_pruning_in_the_step_matches_the_graph_path(self):
    masks = []
    for jit_compile in (False, True):
      layer = _dense_layer()
      model = keras.Sequential([keras.Input((10,)), layer])
      optimizer = keras.optimizers.SGD(0.1, momentum=0.9)
      optimizer.build(model.trainable_variables)
      hook = pruning.GradualPruningHook(
          model, pruning.polynomial_decay(0.75, 0, 8, frequency=2), optimizer)
      inputs = tf.constant(np.random.default_rng(1).normal(size=(4, 10)),
                           tf.float32)

      def step():
        with tf.GradientTape() as tape:
          loss = tf.reduce_sum(model(inputs)**2)  # pylint: disable=cell-var-from-loop
        grads = tape.gradient(loss, model.trainable_variables)  # pylint: disable=cell-var-from-loop
        hook.apply_gradients(zip(grads, model.trainable_variables))  # pylint: disable=cell-var-from-loop

      compiled = tf.function(step, jit_compile=jit_compile)
      for _ in range(8):
        compiled()
      mask = layer.mask.numpy()
      self.assertEqual(int(mask.sum()), 20)  # round(0.25 * 80).
      self.assertEqual(np.count_nonzero(layer.kernel.numpy()[mask == 0]), 0)
      masks.append(mask)
    self.assertAllEqual(masks[0], masks[1])

  def test_bad_schedule_arguments(self):
    with self.assertRaisesRegex(ValueError, r'final sparsity must be in'):
      pruning.polynomial_decay(1.0, 0, 10)
    with self.assertRaisesRegex(ValueError, 'begin_step < end_step'):
      pruning.polynomial_decay(0.5, 10, 10)
    with self.assertRaisesRegex(ValueError, 'frequency must be >= 1'):
      pruning.polynomial_decay(0.5, 0, 10, frequency=0)


if __name__ == '__main__':
  tf.test.main()
