"""Tests for sparse_layers/updaters.py."""

import numpy as np
import tensorflow as tf

from sparse_layers import layers
from sparse_layers import updaters
from sparse_layers.keras_alias import keras


def _layer_with(kernel, mask):
  layer = layers.MaskedDense(kernel.shape[1], use_bias=False)
  layer(np.zeros((1, kernel.shape[0]), np.float32))
  layer.kernel.assign(kernel * mask)
  layer.mask.assign(mask)
  return layer


def _numpy_rigl(kernel, mask, grad, fraction):
  """Reference RigL update on distinct values (no ties)."""
  flat_w, flat_m, flat_g = kernel.ravel(), mask.ravel(), grad.ravel()
  active = np.flatnonzero(flat_m)
  k = int(np.floor(fraction * active.size))
  keep = active[np.argsort(np.abs(flat_w[active]))[k:]]
  candidates = np.setdiff1d(np.arange(flat_m.size), keep)
  grow = candidates[np.argsort(-np.abs(flat_g[candidates]))[:k]]
  new_mask = np.zeros_like(flat_m)
  new_mask[keep] = 1
  new_mask[grow] = 1
  return new_mask.reshape(mask.shape)


class UpdatersTest(tf.test.TestCase):

  def setUp(self):
    super().setUp()
    rng = np.random.default_rng(0)
    self.kernel = rng.normal(size=(10, 6)).astype(np.float32)
    self.mask = (rng.random((10, 6)) < 0.4).astype(np.float32)
    self.grad = rng.normal(size=(10, 6)).astype(np.float32)

  def test_rigl_matches_numpy_reference(self):
    layer = _layer_with(self.kernel, self.mask)
    grown = updaters.RigLUpdater(seed=1).update(
        [layer], 0.5, tf.constant(3), [tf.constant(self.grad)])
    expected = _numpy_rigl(self.kernel * self.mask, self.mask, self.grad, 0.5)
    new_mask = layer.mask.numpy()
    self.assertAllEqual(new_mask, expected)
    self.assertEqual(new_mask.sum(), self.mask.sum())
    self.assertEqual(int(grown), int(((new_mask == 1) & (self.mask == 0)).sum()))
    kernel = layer.kernel.numpy()
    newly_grown = (new_mask == 1) & (self.mask == 0)
    survivors = (new_mask == 1) & (self.mask == 1)
    self.assertAllEqual(kernel[newly_grown], np.zeros(newly_grown.sum()))
    self.assertAllEqual(kernel[survivors], self.kernel[survivors])
    self.assertEqual(np.count_nonzero(kernel[new_mask == 0]), 0)

  def test_dropped_weights_and_momentum_slots_are_zeroed(self):
    layer = _layer_with(self.kernel, self.mask)
    optimizer = keras.optimizers.SGD(0.1, momentum=0.9)
    optimizer.build([layer.kernel])
    (slot,) = updaters.optimizer_slots(optimizer, layer.kernel)
    slot.assign(np.full((10, 6), 2.0, np.float32) * self.mask)
    updaters.RigLUpdater().update([layer], 0.5, tf.constant(1),
                                  [tf.constant(self.grad)], optimizer)
    new_mask = layer.mask.numpy()
    survivors = (new_mask == 1) & (self.mask == 1)
    self.assertAllEqual(slot.numpy()[~survivors],
                        np.zeros((~survivors).sum()))
    self.assertAllEqual(slot.numpy()[survivors], np.full(survivors.sum(), 2.0))

  def test_optimizer_slots_finds_adam_moments(self):
    variable = tf.Variable(tf.zeros([3, 4]))
    optimizer = keras.optimizers.Adam()
    optimizer.build([variable])
    self.assertLen(updaters.optimizer_slots(optimizer, variable), 2)
    legacy = keras.optimizers.legacy.SGD(0.1, momentum=0.9)
    legacy.apply_gradients([(tf.ones([3, 4]), variable)])
    self.assertLen(updaters.optimizer_slots(legacy, variable), 1)
    self.assertEqual(updaters.optimizer_slots(None, variable), [])

  def test_set_grows_among_inactive_keeps_counts_and_is_seeded(self):
    results = []
    for step in (5, 5, 6):
      layer = _layer_with(self.kernel, self.mask)
      updaters.SETUpdater(seed=0).update([layer], 0.5, tf.constant(step))
      results.append(layer.mask.numpy())
    self.assertAllEqual(results[0], results[1])
    self.assertNotAllEqual(results[0], results[2])
    for new_mask in results:
      self.assertEqual(new_mask.sum(), self.mask.sum())
      # The kept half are the largest magnitudes, as for RigL.
      active = np.flatnonzero(self.mask.ravel())
      k = int(0.5 * active.size)
      keep = active[np.argsort(np.abs(self.kernel.ravel()[active]))[k:]]
      self.assertAllEqual(new_mask.ravel()[keep], np.ones(keep.size))

  def test_static_and_zero_fraction_change_nothing(self):
    layer = _layer_with(self.kernel, self.mask)
    updaters.StaticUpdater().update([layer], 0.5, tf.constant(1))
    self.assertAllEqual(layer.mask.numpy(), self.mask)
    updaters.RigLUpdater().update([layer], 0.0, tf.constant(1),
                                  [tf.constant(self.grad)])
    self.assertAllEqual(layer.mask.numpy(), self.mask)
    self.assertAllEqual(layer.kernel.numpy(), self.kernel * self.mask)

  def test_ties_in_grow_scores_broken_by_seeded_permutation(self):
    zero_grad = [tf.zeros([10, 6])]
    masks = []
    for step in (1, 1, 2):
      layer = _layer_with(self.kernel, self.mask)
      updaters.RigLUpdater(seed=3).update([layer], 0.5, tf.constant(step),
                                          zero_grad)
      masks.append(layer.mask.numpy())
      self.assertEqual(masks[-1].sum(), self.mask.sum())
    self.assertAllEqual(masks[0], masks[1])
    self.assertNotAllEqual(masks[0], masks[2])

  def test_rigl_needs_gradients_and_names_are_checked(self):
    layer = _layer_with(self.kernel, self.mask)
    with self.assertRaisesRegex(ValueError, 'needs dense gradients'):
      updaters.RigLUpdater().update([layer], 0.5, tf.constant(1))
    with self.assertRaisesRegex(ValueError, "growth rule must be one of .* "
                                "got 'magnitude'"):
      updaters.make_updater('magnitude')
    self.assertIsInstance(updaters.make_updater('set'), updaters.SETUpdater)


if __name__ == '__main__':
  tf.test.main()
