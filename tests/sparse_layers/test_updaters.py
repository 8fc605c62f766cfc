"""Tests for sparse_layers/updaters.py."""

import numpy as np
import tensorflow as tf

from sparse_layers import layers
from sparse_layers import updaters
from sparse_layers.keras_alias import keras
from tests import testing


def _layer_with(kernel, mask, inactive_gradient='dense'):
  layer = layers.MaskedDense(kernel.shape[1], use_bias=False,
                             inactive_gradient=inactive_gradient)
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

  def test_rigl_matches_numpy_reference_and_restarts_k_weights_at_zero(self):
    layer = _layer_with(self.kernel, self.mask)
    reset = updaters.RigLUpdater(seed=1).update(
        [layer], 0.5, tf.constant(3), [tf.constant(self.grad)])
    expected = _numpy_rigl(self.kernel * self.mask, self.mask, self.grad, 0.5)
    new_mask = layer.mask.numpy()
    self.assertAllEqual(new_mask, expected)
    self.assertEqual(new_mask.sum(), self.mask.sum())
    k = int(np.floor(0.5 * self.mask.sum()))
    self.assertEqual(int(reset), k)
    # Kept: the n - k largest active magnitudes, values unchanged.
    active = np.flatnonzero(self.mask.ravel())
    kept = np.zeros(self.mask.size, bool)
    kept[active[np.argsort(np.abs(self.kernel.ravel()[active]))[k:]]] = True
    kept = kept.reshape(self.mask.shape)
    kernel = layer.kernel.numpy()
    self.assertAllEqual(kernel[kept], self.kernel[kept])
    # Every grown weight restarts at 0, those dropped and regrown included.
    grown = (new_mask == 1) & ~kept
    self.assertEqual(int(grown.sum()), k)
    self.assertGreater(int((grown & (self.mask == 1)).sum()), 0)
    self.assertAllEqual(kernel[grown], np.zeros(k))
    self.assertEqual(np.count_nonzero(kernel[new_mask == 0]), 0)

  def test_without_regrow_at_zero_regrown_weights_keep_their_value(self):
    layer = _layer_with(self.kernel, self.mask)
    reset = updaters.RigLUpdater(seed=1, regrow_at_zero=False).update(
        [layer], 0.5, tf.constant(3), [tf.constant(self.grad)])
    new_mask, kernel = layer.mask.numpy(), layer.kernel.numpy()
    self.assertAllEqual(
        new_mask, _numpy_rigl(self.kernel * self.mask, self.mask, self.grad,
                              0.5))
    both = (new_mask == 1) & (self.mask == 1)
    self.assertAllEqual(kernel[both], self.kernel[both])
    newly_active = (new_mask == 1) & (self.mask == 0)
    self.assertEqual(int(reset), int(newly_active.sum()))
    self.assertLess(int(reset), int(np.floor(0.5 * self.mask.sum())))

  def test_exact_counts_per_layer_dense_layers_included(self):
    shapes_and_density = (((12, 7), 0.3), ((9, 5), 1.0), ((20, 3), 0.55))
    for fraction in (0.5, 0.8):
      rng = np.random.default_rng(5)
      built = []
      for shape, density in shapes_and_density:
        kernel = rng.normal(size=shape).astype(np.float32)
        mask = np.ones(shape, np.float32)
        if density < 1:
          mask = (rng.random(shape) < density).astype(np.float32)
        built.append((_layer_with(kernel, mask), kernel * mask, mask))
      grads = [tf.constant(rng.normal(size=s).astype(np.float32))
               for s, _ in shapes_and_density]
      before = [(l.kernel.numpy(), l.mask.numpy()) for l, _, _ in built]
      reset = updaters.RigLUpdater(seed=0).update(
          [l for l, _, _ in built], fraction, tf.constant(7), grads)
      total = 0
      for (layer, _, _), (kernel, mask) in zip(built, before):
        count = int(np.floor(fraction * mask.sum()))
        total += count
        new_mask, new_kernel = layer.mask.numpy(), layer.kernel.numpy()
        self.assertEqual(new_mask.sum(), mask.sum(), layer.name)
        # Random normal weights are never 0: the zeros are the restarts.
        restarted = (new_mask == 1) & (new_kernel == 0)
        self.assertEqual(int(restarted.sum()), count, layer.name)
        kept = (new_mask == 1) & ~restarted
        self.assertAllEqual(new_kernel[kept], kernel[kept])
        if mask.min() == 1:  # A dense layer: its k smallest restart at 0.
          self.assertAllEqual(new_mask, mask)
          order = np.argsort(np.abs(kernel.ravel()))
          self.assertAllEqual(new_kernel.ravel()[order[:count]],
                              np.zeros(count))
          self.assertAllEqual(new_kernel.ravel()[order[count:]],
                              kernel.ravel()[order[count:]])
      self.assertEqual(int(reset), total)

  def test_update_dense_layers_false_leaves_dense_layers_alone(self):
    kernel = np.random.default_rng(2).normal(size=(6, 4)).astype(np.float32)
    dense = _layer_with(kernel, np.ones((6, 4), np.float32))
    sparse = _layer_with(self.kernel, self.mask)
    reset = updaters.SETUpdater(update_dense_layers=False).update(
        [dense, sparse], 0.5, tf.constant(1))
    self.assertAllEqual(dense.kernel.numpy(), kernel)
    self.assertEqual(int(reset), int(np.floor(0.5 * self.mask.sum())))

  def test_momentum_slots_follow_the_inactive_gradient(self):
    for inactive_gradient in layers.INACTIVE_GRADIENTS:
      layer = _layer_with(self.kernel, self.mask, inactive_gradient)
      optimizer = keras.optimizers.SGD(0.1, momentum=0.9)
      optimizer.build([layer.kernel])
      (slot,) = updaters.optimizer_slots(optimizer, layer.kernel)
      slot.assign(np.full((10, 6), 2.0, np.float32))
      updaters.RigLUpdater().update([layer], 0.5, tf.constant(1),
                                    [tf.constant(self.grad)], optimizer)
      new_mask, new_kernel = layer.mask.numpy(), layer.kernel.numpy()
      kept = (new_mask == 1) & (new_kernel != 0)
      if inactive_gradient == 'zero':
        # RigL: only the kept weights keep their momentum.
        self.assertAllEqual(slot.numpy()[kept], np.full(kept.sum(), 2.0))
        self.assertAllEqual(slot.numpy()[~kept], np.zeros((~kept).sum()))
      else:  # The authors: momentum untouched, regrown weights carry it.
        self.assertAllEqual(slot.numpy(), np.full((10, 6), 2.0))

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


class CompiledUpdateTest(tf.test.TestCase):
  """Every updater compiles under XLA and chooses as the graph path does."""

  def _update(self, name, jit_compile, ties):
    rng = np.random.default_rng(0)
    kernel = rng.normal(size=(50, 30)).astype(np.float32)
    mask = (rng.random((50, 30)) < 0.3).astype(np.float32)
    grad = rng.normal(size=(50, 30)).astype(np.float32)
    if ties:  # Many equal magnitudes and gradients.
      kernel, grad = np.round(kernel, 1), np.round(grad)
    built = [_layer_with(kernel, mask),
             _layer_with(kernel[:20, :10], np.ones((20, 10), np.float32))]
    updater = updaters.make_updater(name, seed=3)
    gradients = [tf.constant(grad), tf.constant(grad[:20, :10])]
    # Step 2 with seed 3 folds to negative per-layer seeds, where TF's and
    # XLA's default random algorithms differ (philox is asked for).
    update = tf.function(
        lambda: updater.update(built, 0.5, tf.constant(2), gradients),
        jit_compile=jit_compile)
    self.expected_grown = int(np.floor(0.5 * mask.sum())) + 100
    grown = int(update())
    return update, grown, [l.mask.numpy() for l in built], [
        l.kernel.numpy() for l in built]

  def test_compiled_masks_equal_the_graph_path_ties_included(self):
    for name in ('rigl', 'set', 'static'):
      for ties in (False, True):
        _, grown, masks, kernels = self._update(name, False, ties)
        _, xla_grown, xla_masks, xla_kernels = self._update(name, True, ties)
        self.assertEqual(xla_grown, grown, name)
        self.assertEqual(grown, 0 if name == 'static' else
                         self.expected_grown)
        for a, b in zip(masks + kernels, xla_masks + xla_kernels):
          self.assertAllEqual(a, b, msg=f'{name}, ties {ties}')

  def test_no_float64_in_the_update(self):
    update, _, _, _ = self._update('rigl', True, False)
    self.assertNotIn(tf.float64, testing.graph_dtypes(update))


if __name__ == '__main__':
  tf.test.main()
