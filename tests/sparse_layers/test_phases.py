"""Tests for sparse_layers/phases.py: EDST's plan and its LR schedule."""

import tensorflow as tf

from sparse_layers import phases
from sparse_layers import schedules


class PhasesTest(tf.test.TestCase):

  def test_edst_phases_number_tickets_from_zero(self):
    plan = phases.edst_phases(150, 100, 3, 0.8)
    self.assertEqual([p.name for p in plan],
                     ['exploration', 'refinement_0', 'refinement_1',
                      'refinement_2'])
    self.assertEqual([p.epochs for p in plan], [150, 100, 100, 100])
    self.assertEqual([p.ticket_index for p in plan], [None, 0, 1, 2])
    # Re-exploration after every ticket but the last (Algorithm 1).
    self.assertEqual([p.reexplore_fraction for p in plan],
                     [None, 0.8, 0.8, None])
    self.assertEqual(plan[0].lr_multipliers, ((0.0, 1.0),))
    # Without parameter exploration (Table 5): no re-exploration at all.
    fixed = phases.edst_phases(150, 100, 3, None)
    self.assertEqual([p.reexplore_fraction for p in fixed], [None] * 4)
    self.assertEqual([p.ticket_index for p in fixed], [None, 0, 1, 2])

  def test_refinement_lr_switches_after_ceil_half(self):
    self.assertEqual(phases.refinement_lr(100), ((0.0, 0.1), (0.5, 0.01)))
    # t_re = 3: 2 epochs at 0.01 x 10, then 1 at 0.001 x 10.
    (_, first), (switch, second) = phases.refinement_lr(3)
    self.assertAllClose([first, switch, second], [0.1, 2 / 3, 0.01])

  def test_imagenet_refinement_lr_is_the_authors_pattern(self):
    # 70 epochs: 0.01 from 0, 0.001 from 30, 0.0001 from 60 (x 10 of LR).
    self.assertAllClose(phases.imagenet_refinement_lr(70),
                        ((0.0, 0.1), (30 / 70, 0.01), (60 / 70, 0.001)))
    # t_re = 2: the switch at 3/7 rounds to epoch 1, the one at 6/7 to
    # the phase's end (left out).
    self.assertAllClose(phases.imagenet_refinement_lr(2),
                        ((0.0, 0.1), (0.5, 0.01)))
    self.assertAllClose(phases.imagenet_refinement_lr(1), ((0.0, 0.1),))

  def test_edst_plan_boundaries_and_warmup(self):
    schedule = schedules.plan_learning_rate(
        phases.edst_phases(2, 4, 2, 0.8), steps_per_epoch=10,
        base_learning_rate=0.1, warmup_epochs=1)
    # Exploration: steps 0-19; refinement 1: 20-59 (0.01 to 39, 0.001 from
    # 40); refinement 2: 60-99; warm-up over the first 10 steps.
    expected = {0: 0.0, 5: 0.05, 10: 0.1, 19: 0.1, 20: 0.01, 39: 0.01,
                40: 0.001, 59: 0.001, 60: 0.01, 79: 0.01, 80: 0.001}
    for step, lr in expected.items():
      self.assertAllClose(float(schedule(step)), lr, msg=f'step {step}')

  def test_imagenet_edst_lr_sequence(self):
    # The paper's ImageNet EDST (M = 2): warm-up over 5 epochs to 0.1,
    # exploration to epoch 30, refinements of 70 epochs at 0.01 / 0.001 /
    # 0.0001 from their epochs 0 / 30 / 60 (the authors' milestones 30, 60,
    # 90 and, after the re-exploration at 100, 100, 130, 160).
    schedule = schedules.plan_learning_rate(
        phases.edst_phases(30, 70, 2, 0.8, phases.imagenet_refinement_lr),
        steps_per_epoch=10, base_learning_rate=0.1, warmup_epochs=5)
    expected = {0: 0.0, 25: 0.05, 50: 0.1, 299: 0.1, 300: 0.01, 599: 0.01,
                600: 0.001, 899: 0.001, 900: 0.0001, 999: 0.0001, 1000: 0.01,
                1299: 0.01, 1300: 0.001, 1600: 0.0001, 1699: 0.0001}
    for step, lr in expected.items():
      self.assertAllClose(float(schedule(step)), lr, msg=f'step {step}')

  def test_odd_refinement_switches_lr_after_ceil_half(self):
    schedule = schedules.plan_learning_rate(
        phases.edst_phases(2, 3, 2, 0.8), steps_per_epoch=10,
        base_learning_rate=0.1)
    # Refinement 1 is epochs 2-4: 0.01 for ceil(3 / 2) = 2 epochs (the
    # authors' np.ceil), then 0.001; no warm-up: step 0 is at 0.1.
    expected = {0: 0.1, 19: 0.1, 20: 0.01, 39: 0.01, 40: 0.001, 49: 0.001,
                50: 0.01, 69: 0.01, 70: 0.001}
    for step, lr in expected.items():
      self.assertAllClose(float(schedule(step)), lr, msg=f'step {step}')


if __name__ == '__main__':
  tf.test.main()
