"""Tests for sparse_layers/counts.py: exact counts without float64."""

import numpy as np
import tensorflow as tf

from sparse_layers import counts


def _both(fraction, n):
  return counts.floor_count(fraction, n), counts.rounded_complement_count(
      fraction, n)


class CountsTest(tf.test.TestCase):

  def setUp(self):
    super().setUp()
    rng = np.random.default_rng(0)
    self.fractions = np.concatenate([
        rng.random(2000).astype(np.float32),
        np.float32([0.0, 1.0, 0.5, 0.8, 0.25, 0.3, 0.9999999, 1e-30, 1e-40])])
    self.sizes = np.concatenate([
        rng.integers(0, 2**29, 2000),
        [7, 5, 2**24 + 1, 1000005, 10, 3, 2**28 + 3, 2**28, 2**28]])

  def test_equal_to_float64_numpy_compiled_or_not(self):
    # numpy in float64 is exact here: float32 p times n < 2**29.
    p64 = self.fractions.astype(np.float64)
    floor = np.floor(p64 * self.sizes)
    complement = np.round((1.0 - p64) * self.sizes)  # Ties to even.
    for jit_compile in (False, True):
      got_floor, got_complement = tf.function(
          _both, jit_compile=jit_compile)(
              tf.constant(self.fractions), tf.constant(self.sizes, tf.int32))
      self.assertAllEqual(got_floor, floor, msg=f'jit {jit_compile}')
      self.assertAllEqual(got_complement, complement,
                          msg=f'jit {jit_compile}')

  def test_where_float32_arithmetic_is_off(self):
    # float32(0.8) * 20000001 is 16000001.04 exactly; float32 arithmetic
    # rounds it to 16000000.
    self.assertEqual(float(np.float32(0.8) * np.float32(20000001)), 16000000)
    self.assertEqual(int(counts.floor_count(0.8, 20000001)), 16000001)
    # Ties of (1 - s) n go to even, as tf.round: s = 0.5.
    got = counts.rounded_complement_count(
        tf.fill([6], 0.5), tf.constant([1, 3, 5, 2, 4, 7]))
    self.assertAllEqual(got, [0, 2, 2, 1, 2, 4])


if __name__ == '__main__':
  tf.test.main()
