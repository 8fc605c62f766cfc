"""Tests for baselines/training/host_loops.py: steps per compiled loop."""

from absl.testing import absltest

from baselines.training import host_loops


class LoopSizerTest(absltest.TestCase):

  def test_given_steps_per_loop_never_pass_the_epoch_end(self):
    sizer = host_loops.LoopSizer(4)
    self.assertEqual(sizer.next_size(10), 4)
    self.assertEqual(sizer.next_size(3), 3)
    with self.assertRaisesRegex(ValueError, 'steps_per_loop must be >= 1'):
      host_loops.LoopSizer(0)

  def test_default_answers_within_30_seconds_at_the_measured_step_time(self):
    sizer = host_loops.LoopSizer()
    self.assertEqual(sizer.next_size(1000), 1)  # Traces and compiles.
    sizer.record(1, 40.0)  # Not a step time: it traced.
    self.assertEqual(sizer.next_size(1000), 1)
    sizer.record(1, 0.5)
    self.assertEqual(sizer.next_size(1000), 60)  # 30 s / 0.5 s.
    self.assertEqual(sizer.next_size(20), 20)  # The rest of the epoch.
    sizer.record(60, 60.0)
    self.assertEqual(sizer.next_size(1000), 30)
    sizer.record(30, 3000.0)  # Slower than 30 s a step: one at a time.
    self.assertEqual(sizer.next_size(1000), 1)


if __name__ == '__main__':
  absltest.main()
