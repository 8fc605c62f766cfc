"""Tests for sparse_layers/layers.py."""

import os
import tempfile

import numpy as np
import tensorflow as tf

from sparse_layers import layers
from sparse_layers import sparse_init
from sparse_layers import updaters
from sparse_layers.keras_alias import keras
from tests import testing


def _binary_mask(shape, density, seed):
  rng = np.random.default_rng(seed)
  return (rng.random(shape) < density).astype(np.float32)


class MaskedLayersTest(tf.test.TestCase):

  def test_conv_output_equals_numpy_masked_kernel(self):
    layer = layers.MaskedConv2D(5, 3, padding='same', use_bias=False)
    x = np.random.default_rng(0).normal(size=(2, 6, 6, 3)).astype(np.float32)
    layer(x)
    kernel = layer.kernel.numpy()
    mask = _binary_mask(kernel.shape, 0.3, 1)
    layer.mask.assign(mask)  # Kernel left dense: the forward pass must mask.
    reference = keras.layers.Conv2D(5, 3, padding='same', use_bias=False)
    reference(x)
    reference.kernel.assign(kernel * mask)
    self.assertAllClose(layer(x), reference(x), atol=1e-5)

  def test_dense_output_equals_numpy(self):
    layer = layers.MaskedDense(4)
    x = np.random.default_rng(0).normal(size=(3, 6)).astype(np.float32)
    layer(x)
    mask = _binary_mask((6, 4), 0.5, 2)
    layer.set_mask(mask)
    expected = x @ (layer.kernel.numpy() * mask) + layer.bias.numpy()
    self.assertAllClose(layer(x), expected, atol=1e-5)
    x3 = np.stack([x, x])
    self.assertAllClose(layer(x3), np.stack([expected, expected]), atol=1e-5)

  def test_set_mask_zeroes_kernel_and_validates(self):
    layer = layers.MaskedDense(4)
    with self.assertRaisesRegex(ValueError, 'must be built'):
      layer.set_mask(np.ones((6, 4)))
    layer(np.zeros((1, 6), np.float32))
    with self.assertRaisesRegex(ValueError, r'mask shape \(4, 6\) does not '
                                r'match the kernel shape \(6, 4\)'):
      layer.set_mask(np.ones((4, 6)))
    with self.assertRaisesRegex(ValueError, 'only 0 and 1'):
      layer.set_mask(np.full((6, 4), 0.5))
    mask = _binary_mask((6, 4), 0.5, 3)
    layer.set_mask(mask)
    self.assertAllEqual(layer.kernel.numpy()[mask == 0],
                        np.zeros(int((mask == 0).sum())))
    self.assertEqual(layer.density, mask.sum() / 24)

  def test_fit_keeps_inactive_weights_exactly_zero(self):
    for inactive_gradient in layers.INACTIVE_GRADIENTS:
      model = testing.tiny_wrn(l2=1e-3, inactive_gradient=inactive_gradient)
      sparse_init.sparsify(model, 0.8, seed=0)
      model.compile(
          keras.optimizers.SGD(0.1, momentum=0.9, nesterov=True),
          keras.losses.SparseCategoricalCrossentropy(from_logits=True))
      x, y = testing.random_data()
      model.fit(x, y, batch_size=16, epochs=2, verbose=0)
      for layer in layers.masked_layers(model):
        kernel, mask = layer.kernel.numpy(), layer.mask.numpy()
        self.assertEqual(np.count_nonzero(kernel[mask == 0]), 0, layer.name)
        self.assertGreater(np.count_nonzero(kernel[mask == 1]), 0, layer.name)

  def _kernel_gradients(self, model, x, y):
    loss_fn = testing.cross_entropy_loss_fn(model)
    kernels = [l.kernel for l in layers.masked_layers(model)]

    @tf.function
    def grads():
      with tf.GradientTape() as tape:
        loss = loss_fn((x, y))
      return tape.gradient(loss, kernels)

    return [g.numpy() for g in grads()]

  def test_inactive_gradient_zero_or_dense_where_masked(self):
    x, y = testing.random_data(16)
    results = {}
    for inactive_gradient in layers.INACTIVE_GRADIENTS:
      keras.utils.set_random_seed(0)
      model = testing.tiny_wrn(inactive_gradient=inactive_gradient)
      sparse_init.sparsify(model, 0.9, seed=0)
      results[inactive_gradient] = (self._kernel_gradients(model, x, y),
                                    [l.mask.numpy()
                                     for l in layers.masked_layers(model)])
    (zero, masks), (dense, _) = results['zero'], results['dense']
    masked_dense_grad = 0
    for g_zero, g_dense, mask in zip(zero, dense, masks):
      self.assertEqual(np.count_nonzero(g_zero[mask == 0]), 0)
      # Same network, so active weights get the same gradient either way.
      self.assertAllClose(g_zero[mask == 1], g_dense[mask == 1], atol=1e-6)
      masked_dense_grad += np.count_nonzero(g_dense[mask == 0])
    self.assertGreater(masked_dense_grad, 0)

  def test_dense_mode_momentum_accumulates_while_weights_stay_zero(self):
    # The authors' SGD: inactive weights collect momentum from the dense
    # gradient but are 0 after every step (the kernel constraint).
    layer = layers.MaskedDense(3, use_bias=False)
    x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    layer(x)
    mask = np.array([[1, 0, 1], [0, 0, 1], [1, 1, 0], [0, 1, 0]], np.float32)
    layer.set_mask(mask)
    optimizer = keras.optimizers.SGD(0.1, momentum=0.9)
    for _ in range(3):
      with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x)**2)
      optimizer.apply_gradients(
          [(tape.gradient(loss, layer.kernel), layer.kernel)])
      self.assertAllEqual(layer.kernel.numpy()[mask == 0], np.zeros(6))
    (momentum,) = updaters.optimizer_slots(optimizer, layer.kernel)
    self.assertEqual(np.count_nonzero(momentum.numpy()[mask == 0]), 6)

  def test_dense_gradient_scope_gives_gradient_of_effective_kernel(self):
    for inactive_gradient in layers.INACTIVE_GRADIENTS:
      layer = layers.MaskedDense(3, use_bias=False,
                                 inactive_gradient=inactive_gradient)
      x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
      layer(x)
      mask = np.array([[1, 0, 1], [0, 0, 1], [1, 1, 0], [0, 1, 0]],
                      np.float32)
      layer.set_mask(mask)

      def grad():
        with tf.GradientTape() as tape:
          loss = tf.reduce_sum(layer(x)**2)  # pylint: disable=cell-var-from-loop
        return tape.gradient(loss, layer.kernel).numpy()  # pylint: disable=cell-var-from-loop

      # d/dW sum((xW)^2) = 2 x^T (x W), with W the masked kernel.
      dense = 2 * x.T @ (x @ (layer.kernel.numpy() * mask))
      outside = dense * mask if inactive_gradient == 'zero' else dense
      self.assertAllClose(grad(), outside, atol=1e-4)
      with layers.dense_gradient_scope():
        self.assertAllClose(grad(), dense, atol=1e-4)
        self.assertAllClose(layer(x), x @ (layer.kernel.numpy() * mask),
                            atol=1e-5)

  def test_config_round_trip(self):
    for layer in (layers.MaskedConv2D(7, 3, strides=2, padding='same',
                                      use_bias=False, name='c',
                                      inactive_gradient='zero'),
                  layers.MaskedDense(
                      5, activation='relu', name='d',
                      kernel_constraint=keras.constraints.NonNeg())):
      clone = type(layer).from_config(layer.get_config())
      self.assertIsInstance(clone, type(layer))
      self.assertEqual(clone.get_config(), layer.get_config())
      self.assertEqual(clone.inactive_gradient, layer.inactive_gradient)
    self.assertEqual(layer.get_config()['kernel_constraint']['class_name'],
                     'NonNeg')
    model = testing.tiny_wrn()
    clone = keras.Model.from_config(model.get_config(),
                                    custom_objects=layers.CUSTOM_OBJECTS)
    self.assertLen(layers.masked_layers(clone), 10)
    with self.assertRaisesRegex(ValueError, 'inactive_gradient must be one'):
      layers.MaskedDense(2, inactive_gradient='momentum')

  def test_user_kernel_constraint_applies_before_the_mask(self):
    layer = layers.MaskedDense(2, use_bias=False,
                               kernel_constraint=keras.constraints.NonNeg())
    layer(np.zeros((1, 2), np.float32))
    layer.set_mask(np.array([[1, 0], [1, 1]], np.float32))
    layer.kernel.assign([[-1.0, 5.0], [2.0, -3.0]])
    optimizer = keras.optimizers.SGD(0.0)
    optimizer.apply_gradients([(tf.zeros([2, 2]), layer.kernel)])
    self.assertAllEqual(layer.kernel.numpy(), [[0.0, 0.0], [2.0, 0.0]])

  def test_checkpoint_round_trip_keeps_masks_and_zeros(self):
    model = testing.tiny_wrn()
    sparse_init.sparsify(model, 0.8, seed=3)
    path = tf.train.Checkpoint(model=model).save(
        os.path.join(tempfile.mkdtemp(), 'ckpt'))
    restored = testing.tiny_wrn()
    tf.train.Checkpoint(model=restored).restore(path).assert_consumed()
    for a, b in zip(layers.masked_layers(model),
                    layers.masked_layers(restored)):
      self.assertAllEqual(a.mask.numpy(), b.mask.numpy())
      self.assertAllEqual(a.kernel.numpy(), b.kernel.numpy())
      self.assertEqual(np.count_nonzero(b.kernel.numpy()[b.mask.numpy() == 0]),
                       0)

  def test_mixed_bfloat16(self):
    keras.mixed_precision.set_global_policy('mixed_bfloat16')
    try:
      model = testing.tiny_wrn()
      sparse_init.sparsify(model, 0.8, seed=0)
      layer = layers.masked_layers(model)[1]
      self.assertEqual(layer.kernel.dtype, tf.float32)
      self.assertEqual(layer.mask.dtype, tf.float32)
      x, y = testing.random_data(16)
      self.assertEqual(model(x).dtype, tf.bfloat16)
      model.compile(keras.optimizers.SGD(0.1, momentum=0.9),
                    keras.losses.SparseCategoricalCrossentropy(
                        from_logits=True))
      model.fit(x, y, batch_size=8, epochs=1, verbose=0)
      for layer in layers.masked_layers(model):
        kernel, mask = layer.kernel.numpy(), layer.mask.numpy()
        self.assertEqual(np.count_nonzero(kernel[mask == 0]), 0)
    finally:
      keras.mixed_precision.set_global_policy('float32')

  def test_to_masked_clone_computes_the_same_function(self):
    dense = testing.tiny_wrn(masked=False)
    clone = layers.to_masked(dense)
    self.assertLen(layers.masked_layers(clone), 10)
    x, _ = testing.random_data(4)
    self.assertAllClose(dense(x), clone(x), atol=1e-5)

  def test_masked_layers_rejects_duplicate_names(self):
    inner = keras.Sequential([layers.MaskedDense(2, name='fc')])
    outer = keras.Sequential([keras.Input((3,)), layers.MaskedDense(3,
                                                                    name='fc'),
                              inner])
    with self.assertRaisesRegex(ValueError, r"repeated: \['fc'\]"):
      layers.masked_layers(outer)


if __name__ == '__main__':
  tf.test.main()
