"""Tests for baselines/methods/batch_scaling.py: batch, LR and ΔT scaling."""

import tensorflow as tf

from baselines.methods import batch_scaling


class ScalingTest(tf.test.TestCase):

  def test_default_global_batch_is_128_up_to_8_replicas_then_16_each(self):
    for replicas in (1, 2, 4, 8):
      self.assertEqual(batch_scaling.global_batch_size(None, replicas), 128)
    # A pod slice: never fewer than 16 images per replica by default.
    for replicas, batch in ((16, 256), (32, 512), (12, 192), (256, 4096)):
      self.assertEqual(batch_scaling.global_batch_size(None, replicas), batch)
    self.assertEqual(batch_scaling.global_batch_size(64, 4), 256)  # UB.
    self.assertEqual(batch_scaling.global_batch_size(4, 32), 128)  # Given.
    with self.assertRaisesRegex(ValueError, 'cannot be split over 3 '
                                'replicas; set --per_core_batch_size'):
      batch_scaling.global_batch_size(None, 3)

  def test_lr_scales_linearly_with_the_global_batch(self):
    self.assertAllClose(batch_scaling.scaled_learning_rate(0.1, 128), 0.1)
    self.assertAllClose(batch_scaling.scaled_learning_rate(0.1, 1024), 0.8)
    self.assertAllClose(batch_scaling.scaled_learning_rate(0.1, 32), 0.025)

  def test_update_interval_keeps_examples_between_updates(self):
    # ΔT = 1000 steps of 128 examples = 128,000 examples at any batch.
    for batch, steps in ((128, 1000), (256, 500), (1024, 125), (64, 2000),
                         (32, 4000)):
      self.assertEqual(batch_scaling.scaled_update_interval(1000, batch),
                       steps)
      self.assertEqual(steps * batch, 128_000)
    self.assertEqual(batch_scaling.scaled_update_interval(50, 96), 67)
    self.assertEqual(batch_scaling.scaled_update_interval(1, 4096), 1)


if __name__ == '__main__':
  tf.test.main()
