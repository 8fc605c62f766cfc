"""Tests for baselines/training/progress.py."""

from absl.testing import absltest

from baselines.training import progress


class FormatDurationTest(absltest.TestCase):

  def test_hours_minutes_seconds_then_days(self):
    self.assertEqual(progress.format_duration(0), '00:00:00')
    self.assertEqual(progress.format_duration(3 * 3600 + 4 * 60 + 5.4),
                     '03:04:05')
    self.assertEqual(progress.format_duration(86399), '23:59:59')
    # Beyond a day it counts days instead of wrapping around to 00:00:00.
    self.assertEqual(progress.format_duration(86400), '1d 00:00:00')
    self.assertEqual(
        progress.format_duration(2 * 86400 + 3 * 3600 + 4 * 60 + 5),
        '2d 03:04:05')
    self.assertEqual(progress.format_duration(-3), '00:00:00')


class EtaClockTest(absltest.TestCase):

  def test_first_epoch_alone_then_later_epochs_only(self):
    clock = progress.EtaClock(now=100.0)
    # First epoch: 60 s including tracing; the only measure there is.
    self.assertEqual(clock.epoch_done(epochs_left=9, now=160.0), 9 * 60.0)
    # Later epochs take 10 s each: the first epoch's tracing is left out.
    self.assertEqual(clock.epoch_done(epochs_left=8, now=170.0), 8 * 10.0)
    self.assertEqual(clock.epoch_done(epochs_left=7, now=182.0), 7 * 11.0)
    self.assertEqual(clock.epoch_done(epochs_left=0, now=190.0), 0.0)


class FormatLearningRateTest(absltest.TestCase):

  def test_constant_or_first_to_last(self):
    self.assertEqual(progress.format_learning_rate(0.1, 0.1), '0.1')
    # A warm-up epoch: its first step's LR is 0, never shown alone.
    self.assertEqual(progress.format_learning_rate(0.0, 0.0984375),
                     '0→0.09844')
    self.assertEqual(progress.format_learning_rate(0.01, 0.001), '0.01→0.001')


if __name__ == '__main__':
  absltest.main()
