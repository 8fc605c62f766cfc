"""Tests for sparse_layers/models.py."""

import math

import numpy as np
import tensorflow as tf

from sparse_layers import layers
from sparse_layers import models
from sparse_layers.keras_alias import keras


def _kernel_params(model):
  return sum(math.prod(l.kernel.shape) for l in layers.masked_layers(model))


class ModelsTest(tf.test.TestCase):

  def test_wrn_layout(self):
    model = models.wide_resnet((32, 32, 3), depth=16, width_multiplier=4,
                               num_classes=10)
    masked = layers.masked_layers(model)
    # 1 stem + 3 groups x 2 blocks x 2 convs + 3 shortcuts + classifier.
    self.assertLen(masked, 1 + 12 + 3 + 1)
    self.assertEqual(masked[0].name, 'conv_init')
    self.assertEqual(masked[-1].name, 'classifier')
    widths = [64, 128, 256]
    expected = 3 * 3 * 3 * 16 + 256 * 10
    cin = 16
    for w in widths:
      expected += cin * w + 9 * cin * w + 9 * w * w  # shortcut, conv1, conv2
      expected += 9 * w * w * 2                     # second block
      cin = w
    self.assertEqual(_kernel_params(model), expected)
    self.assertEqual(model.output_shape, (None, 10))

  def test_wrn_shortcut_takes_the_activated_block_input(self):
    model = models.wide_resnet((16, 16, 3), depth=10, width_multiplier=2,
                               num_classes=4)
    x = np.random.default_rng(0).normal(size=(2, 16, 16, 3)).astype(
        np.float32)
    for group in (1, 2, 3):
      prefix = f'group{group}_block1'
      shortcut = model.get_layer(f'{prefix}_shortcut')
      relu = model.get_layer(f'{prefix}_relu1')
      # Same input tensor as the block's first conv: relu(bn1(x)).
      self.assertIs(shortcut.input, relu.output)
      self.assertIs(model.get_layer(f'{prefix}_conv1').input, relu.output)
    # Numerically: the shortcut's output is its conv of relu(bn1(block input)).
    sub = keras.Model(model.input,
                             [model.get_layer('group1_block1_relu1').output,
                              model.get_layer('group1_block1_shortcut').output])
    activated, projected = sub(x)
    kernel = model.get_layer('group1_block1_shortcut').kernel.numpy()
    self.assertAllClose(projected, np.einsum('nhwc,cd->nhwd', activated,
                                             kernel[0, 0]), atol=1e-4)

  def test_wrn_initialisers_are_the_authors(self):
    model = models.wide_resnet((32, 32, 3), depth=16, width_multiplier=4,
                               num_classes=10, masked=False)
    conv = model.get_layer('group3_block2_conv2').kernel.numpy()
    k, out = conv.shape[0], conv.shape[-1]
    self.assertAllClose(conv.std(), math.sqrt(2.0 / (k * k * out)), rtol=0.02)
    self.assertGreater(np.abs(conv).max(), 2.5 * conv.std())  # Not truncated.
    # Each conv draws its own weights.
    self.assertNotAllClose(model.get_layer('group3_block2_conv1').kernel,
                           model.get_layer('group3_block2_conv2').kernel)
    classifier = model.get_layer('classifier')
    bound = 1.0 / math.sqrt(classifier.kernel.shape[0])
    weights = classifier.kernel.numpy()
    self.assertLessEqual(np.abs(weights).max(), bound)
    self.assertGreater(np.abs(weights).max(), 0.95 * bound)
    self.assertAllEqual(classifier.bias.numpy(), np.zeros(10))
    bn = model.get_layer('final_bn')
    self.assertEqual((bn.momentum, bn.epsilon), (0.9, 1e-5))

  def test_wrn_dropout_only_when_asked(self):
    plain = models.wide_resnet((8, 8, 3), depth=10, width_multiplier=1)
    with_dropout = models.wide_resnet((8, 8, 3), depth=10, width_multiplier=1,
                                      dropout_rate=0.3)
    def count(model):
      return sum(isinstance(l, keras.layers.Dropout) for l in model.layers)

    self.assertEqual((count(plain), count(with_dropout)), (0, 3))

  def test_wrn_28_10_parameter_count(self):
    model = models.wide_resnet(depth=28, width_multiplier=10, num_classes=10,
                               masked=False)
    trainable = sum(int(np.prod(v.shape)) for v in model.trainable_weights)
    self.assertEqual(trainable, 36_479_194)  # The usual 36.5M.

  def test_resnet50_parameter_count(self):
    model = models.resnet50((64, 64, 3), num_classes=1000)
    self.assertLen(layers.masked_layers(model), 54)  # 53 convs + classifier.
    trainable = sum(int(np.prod(v.shape)) for v in model.trainable_weights)
    self.assertEqual(trainable, 25_557_032)  # torchvision's ResNet-50 count.

  def test_bad_arguments(self):
    with self.assertRaisesRegex(ValueError, 'depth must be 6n \\+ 4'):
      models.wide_resnet(depth=12)
    with self.assertRaisesRegex(ValueError, 'width_multiplier must be >= 1'):
      models.wide_resnet(depth=10, width_multiplier=0)
    with self.assertRaisesRegex(ValueError, 'dropout_rate must be in'):
      models.wide_resnet(depth=10, width_multiplier=1, dropout_rate=1.0)


if __name__ == '__main__':
  tf.test.main()
