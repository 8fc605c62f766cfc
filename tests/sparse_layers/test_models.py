"""Tests for sparse_layers/models.py."""

import math

import numpy as np
import tensorflow as tf

from sparse_layers import layers
from sparse_layers import models


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


if __name__ == '__main__':
  tf.test.main()
