"""Tests for sparse_layers/sparse_init.py."""

import math

import numpy as np
import tensorflow as tf

from sparse_layers import layers
from sparse_layers import sparse_init
from tests import testing


class SparsifyTest(tf.test.TestCase):

  def test_exact_counts_and_zero_kernels(self):
    model = testing.tiny_wrn()
    plan = sparse_init.sparsify(model, 0.8, 'erk', seed=5)
    masked = layers.masked_layers(model)
    self.assertLen(plan, 10)
    total = sum(math.prod(e.shape) for e in plan)
    self.assertLessEqual(abs(sum(e.nonzeros for e in plan) - 0.2 * total), 1)
    for layer, entry in zip(masked, plan):
      mask, kernel = layer.mask.numpy(), layer.kernel.numpy()
      self.assertEqual(layer.name, entry.name)
      self.assertEqual(int(mask.sum()), entry.nonzeros)
      self.assertEqual(np.count_nonzero(kernel[mask == 0]), 0)

  def test_first_last_and_override_options(self):
    model = testing.tiny_wrn()
    plan = sparse_init.sparsify(model, 0.8, 'uniform', first_layer='dense',
                                last_layer=0.5,
                                overrides={'group2_block1_conv1': 0.9},
                                seed=0)
    by_name = {e.name: e for e in plan}
    self.assertEqual(by_name['conv_init'].nonzeros, 3 * 3 * 3 * 16)
    self.assertEqual(by_name['classifier'].nonzeros, 128)  # 64 * 4 * 0.5
    self.assertLessEqual(
        abs(by_name['group2_block1_conv1'].nonzeros - 0.1 * 9 * 16 * 32), 1)
    self.assertEqual(layers.masked_layers(model)[0].mask.numpy().min(), 1.0)

  def test_seed_reproducible_and_different_seeds_differ(self):
    masks = []
    for seed in (1, 1, 2):
      model = testing.tiny_wrn()
      sparse_init.sparsify(model, 0.8, seed=seed)
      masks.append(np.concatenate(
          [l.mask.numpy().ravel() for l in layers.masked_layers(model)]))
    self.assertAllEqual(masks[0], masks[1])
    self.assertNotAllEqual(masks[0], masks[2])

  def test_bad_options(self):
    model = testing.tiny_wrn()
    with self.assertRaisesRegex(ValueError, "first_layer must be 'include', "
                                "'dense' or a sparsity"):
      sparse_init.sparsify(model, 0.8, first_layer='sparse')
    with self.assertRaisesRegex(ValueError, r'last_layer sparsity must be in '
                                r'\[0, 1\)'):
      sparse_init.sparsify(model, 0.8, last_layer=1.2)
    with self.assertRaisesRegex(ValueError, "unknown layer 'nope'"):
      sparse_init.sparsify(model, 0.8, overrides={'nope': 0.5})
    with self.assertRaisesRegex(ValueError, 'no MaskedConv2D'):
      sparse_init.sparsify(testing.tiny_wrn(masked=False), 0.8)


if __name__ == '__main__':
  tf.test.main()
