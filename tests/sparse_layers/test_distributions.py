"""Tests for sparse_layers/distributions.py."""

import math

from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from sparse_layers import distributions


class DistributionsTest(tf.test.TestCase, parameterized.TestCase):

  def test_erk_two_layers_by_hand(self):
    # Raw scores 20/100 and 25/100; budget 0.5 * 200 = 100 = eps * 45.
    shapes = {'a': (10, 10), 'b': (20, 5)}
    densities = distributions.layer_densities(shapes, 0.5, 'erk')
    self.assertAllClose([densities['a'], densities['b']],
                        [0.2 * 100 / 45, 0.25 * 100 / 45])

  def test_erk_caps_dense_layers_and_resolves(self):
    # 'small' would get eps * 1.0 > 1: it is made dense, eps re-solved on 'big'.
    shapes = {'small': (2, 2), 'big': (100, 100)}
    densities = distributions.layer_densities(shapes, 0.5, 'erk')
    self.assertEqual(densities['small'], 1.0)
    self.assertAllClose(densities['big'], (0.5 * 10004 - 4) / 10000)

  def test_er_uses_last_two_dimensions(self):
    shapes = {'conv': (3, 3, 8, 8), 'fc': (16, 8)}
    er = distributions.raw_scores(shapes, 'er')
    erk = distributions.raw_scores(shapes, 'erk')
    self.assertAllClose(er['conv'], 16 / 64)
    self.assertAllClose(erk['conv'], 22 / 576)
    self.assertAllClose(er['fc'], erk['fc'])

  def test_uniform_and_power_scale_zero_agree(self):
    shapes = {'a': (3, 3, 4, 8), 'b': (8, 10), 'c': (3, 3, 8, 8)}
    uniform = distributions.layer_densities(shapes, 0.7, 'uniform')
    self.assertAllClose(list(uniform.values()), [0.3] * 3)
    erk0 = distributions.layer_densities(shapes, 0.7, 'erk',
                                         erk_power_scale=0.0)
    self.assertAllClose(list(erk0.values()), [0.3] * 3)

  def test_fixed_densities_keep_the_total(self):
    shapes = {'first': (3, 3, 3, 16), 'mid': (3, 3, 16, 16), 'fc': (16, 10)}
    densities = distributions.layer_densities(shapes, 0.8, 'erk',
                                              fixed_densities={'first': 1.0,
                                                               'fc': 0.5})
    self.assertEqual(densities['first'], 1.0)
    self.assertEqual(densities['fc'], 0.5)
    sizes = {n: math.prod(s) for n, s in shapes.items()}
    nonzeros = sum(densities[n] * sizes[n] for n in shapes)
    self.assertAllClose(nonzeros, 0.2 * sum(sizes.values()))

  @parameterized.parameters(0.5, 0.8, 0.9, 0.95)
  def test_counts_total_within_one_weight(self, sparsity):
    shapes = {'conv_init': (3, 3, 3, 16)}
    for i, (cin, cout) in enumerate([(16, 160), (160, 160), (160, 320),
                                     (320, 320), (320, 640), (640, 640)]):
      shapes[f'c{i}'] = (3, 3, cin, cout)
    shapes['fc'] = (640, 100)
    for distribution in distributions.DISTRIBUTIONS:
      densities = distributions.layer_densities(shapes, sparsity, distribution)
      counts = distributions.nonzero_counts(shapes, densities, sparsity)
      total = sum(math.prod(s) for s in shapes.values())
      self.assertLessEqual(abs(sum(counts.values()) - (1 - sparsity) * total),
                           1.0)
      for name, shape in shapes.items():
        self.assertLessEqual(abs(counts[name] -
                                 densities[name] * math.prod(shape)), 1.0)

  def test_random_mask_exact_count_and_seeding(self):
    a = distributions.random_mask((3, 3, 4, 5), 37, [7, 0])
    self.assertEqual(a.sum(), 37)
    self.assertEqual(a.dtype, np.float32)
    self.assertAllEqual(a, distributions.random_mask((3, 3, 4, 5), 37, [7, 0]))
    self.assertNotAllEqual(a, distributions.random_mask((3, 3, 4, 5), 37,
                                                        [8, 0]))
    with self.assertRaisesRegex(ValueError, r'nonzeros must be in \[0, 180\]'):
      distributions.random_mask((3, 3, 4, 5), 181, 0)

  @parameterized.parameters(-0.1, 1.0, 1.5, '0.5')
  def test_bad_sparsity(self, sparsity):
    with self.assertRaisesRegex(ValueError, r'sparsity must be in \[0, 1\)'):
      distributions.layer_densities({'a': (4, 4)}, sparsity)

  def test_bad_names_and_budgets(self):
    with self.assertRaisesRegex(ValueError, "distribution must be one of .*"
                                "got 'erk2'"):
      distributions.layer_densities({'a': (4, 4)}, 0.5, 'erk2')
    with self.assertRaisesRegex(ValueError, 'erk_power_scale must be >= 0'):
      distributions.layer_densities({'a': (4, 4)}, 0.5, erk_power_scale=-1)
    with self.assertRaisesRegex(ValueError, 'more than the'):
      distributions.layer_densities({'a': (100, 100), 'b': (4, 4)}, 0.9,
                                    fixed_densities={'a': 1.0})
    with self.assertRaisesRegex(ValueError, r'unknown layers: \[.zz.\]'):
      distributions.layer_densities({'a': (4, 4)}, 0.5,
                                    fixed_densities={'zz': 1.0})


if __name__ == '__main__':
  tf.test.main()
