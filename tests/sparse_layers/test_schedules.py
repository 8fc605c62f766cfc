"""Tests for sparse_layers/schedules.py."""

import math

from absl.testing import parameterized
import tensorflow as tf

from sparse_layers import schedules


class SchedulesTest(tf.test.TestCase, parameterized.TestCase):

  def test_update_steps(self):
    schedule = schedules.ConstantDropFraction(0.5, 3, begin_step=2,
                                              end_step=11)
    due = [s for s in range(0, 20) if schedule.is_update_step(s)]
    self.assertEqual(due, [5, 8, 11])
    # next_update_step agrees with is_update_step at every step.
    self.assertEqual([schedule.next_update_step(s) for s in range(0, 13)],
                     [5] * 5 + [8] * 3 + [11] * 3 + [None] * 2)
    forever = schedules.ConstantDropFraction(0.5, 4)
    self.assertEqual([forever.next_update_step(s) for s in (0, 3, 4, 9)],
                     [4, 4, 8, 12])
    self.assertAllClose(schedule.drop_fraction(8), 0.5)

  def test_no_end_step_updates_forever(self):
    schedule = schedules.ConstantDropFraction(0.3, 1000)
    self.assertFalse(schedule.is_update_step(0))
    self.assertTrue(schedule.is_update_step(1000))
    self.assertTrue(schedule.is_update_step(10**7))

  def test_cosine_values(self):
    schedule = schedules.CosineDropFraction(0.5, 10, begin_step=100,
                                            end_step=300)
    self.assertAllClose(schedule.drop_fraction(100), 0.5)
    self.assertAllClose(schedule.drop_fraction(200), 0.25)
    self.assertAllClose(schedule.drop_fraction(150),
                        0.25 * (1 + math.cos(math.pi / 4)))
    self.assertAllClose(schedule.drop_fraction(300), 0.0)
    self.assertFalse(schedule.is_update_step(310))

  def test_cosine_restarts_at_each_restart_step(self):
    # The authors' ImageNet EDST: one cosine over t_ex + t_re = 100
    # "epochs", then one over each later refinement of 70.
    schedule = schedules.CosineRestartsDropFraction(0.5, 10, [100, 170],
                                                    end_step=240)
    expected = {0: 0.5, 50: 0.25, 99: 0.25 * (1 + math.cos(math.pi * 0.99)),
                100: 0.5, 135: 0.25, 170: 0.5, 205: 0.25, 240: 0.0}
    for step, value in expected.items():
      self.assertAllClose(schedule.drop_fraction(step), value,
                          msg=f'step {step}')
    self.assertTrue(schedule.is_update_step(170))
    self.assertFalse(schedule.is_update_step(250))
    clone = schedules.CosineRestartsDropFraction.from_config(
        schedule.get_config())
    self.assertEqual(clone.get_config(), schedule.get_config())
    with self.assertRaisesRegex(ValueError, 'restart_steps must be'):
      schedules.CosineRestartsDropFraction(0.5, 10, [170, 100], end_step=240)
    with self.assertRaisesRegex(ValueError, 'restart_steps must be'):
      schedules.CosineRestartsDropFraction(0.5, 10, [240], end_step=240)

  def test_config_round_trip(self):
    for cls in (schedules.ConstantDropFraction, schedules.CosineDropFraction):
      schedule = cls(0.4, 7, 3, 70)
      clone = cls.from_config(schedule.get_config())
      self.assertEqual(clone.get_config(), schedule.get_config())
    self.assertIsInstance(schedules.make_schedule('cosine', 0.5, 4, 0, 40),
                          schedules.CosineDropFraction)

  @parameterized.parameters(
      (dict(drop_fraction=1.5, update_interval=10), r'drop_fraction must be '
       r'in \[0, 1\], got 1.5'),
      (dict(drop_fraction=-0.1, update_interval=10), 'drop_fraction'),
      (dict(drop_fraction=0.5, update_interval=0), r'update_interval \(ΔT\) '
       'must be an integer >= 1, got 0'),
      (dict(drop_fraction=0.5, update_interval=2.5), 'update_interval'),
      (dict(drop_fraction=0.5, update_interval=5, begin_step=-1),
       'begin_step must be'),
      (dict(drop_fraction=0.5, update_interval=5, begin_step=10, end_step=10),
       r'end_step must be an integer > begin_step \(10\)'),
  )
  def test_bad_arguments(self, kwargs, message):
    with self.assertRaisesRegex(ValueError, message):
      schedules.ConstantDropFraction(**kwargs)

  def test_bad_names(self):
    with self.assertRaisesRegex(ValueError, 'needs end_step'):
      schedules.CosineDropFraction(0.5, 10)
    with self.assertRaisesRegex(ValueError, "got 'linear'"):
      schedules.make_schedule('linear', 0.5, 10)


if __name__ == '__main__':
  tf.test.main()
