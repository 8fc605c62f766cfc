"""Tests for baselines/methods/plans.py: members' phases, UB's LR steps."""

import tensorflow as tf

from baselines.methods import plans
from sparse_layers import schedules


class PlansTest(tf.test.TestCase):

  def test_member_phase_is_named_by_its_ticket(self):
    (phase,) = plans.member_phases(250, ((0.0, 1.0),), 2)
    self.assertEqual((phase.name, phase.ticket_index, phase.epochs),
                     ('member_2', 2, 250))

  def test_decays_at_whole_epochs_of_train_epochs(self):
    # UB: epoch e given for 200 epochs decays at e * train_epochs // 200.
    self.assertEqual(plans.decay_multipliers(['100', '150'], 0.1, 250),
                     ((0.0, 1.0), (125 / 250, 0.1), (187 / 250, 0.1**2)))
    self.assertEqual(plans.decay_multipliers(['100', '150'], 0.1, 10),
                     ((0.0, 1.0), (5 / 10, 0.1), (7 / 10, 0.1**2)))
    self.assertAllClose(plans.decay_multipliers(['60'], 0.2, 10),
                        ((0.0, 1.0), (0.3, 0.2)))
    schedule = schedules.plan_learning_rate(
        plans.member_phases(10, plans.decay_multipliers(['100', '150'], 0.1,
                                                        10), 0),
        steps_per_epoch=62, base_learning_rate=0.1)
    for step, lr in {0: 0.1, 309: 0.1, 310: 0.01, 433: 0.01, 434: 0.001,
                     619: 0.001}.items():
      self.assertAllClose(float(schedule(step)), lr, msg=f'step {step}')

  def test_decay_multipliers_of_imagenet_given_for_90(self):
    # UB's ImageNet decays (30, 60, 80 of 90); 27, 54, 81 of 90 are the
    # paper's 60, 120, 180 of 200 for DST members.
    self.assertAllClose(plans.decay_multipliers(['27', '54', '81'], 0.1, 200,
                                                reference_epochs=90),
                        ((0.0, 1.0), (0.3, 0.1), (0.6, 0.01), (0.9, 0.001)))

  def test_rebased_multipliers_continue_from_the_start(self):
    pairs = ((0.0, 1.0), (0.5, 0.1), (0.75, 0.01))
    self.assertEqual(plans.rebased_lr_multipliers(pairs, 0.25),
                     ((0.0, 1.0), (1 / 3, 0.1), (2 / 3, 0.01)))
    self.assertEqual(plans.rebased_lr_multipliers(pairs, 0.6),
                     ((0.0, 0.1), ((0.75 - 0.6) / 0.4, 0.01)))


if __name__ == '__main__':
  tf.test.main()
