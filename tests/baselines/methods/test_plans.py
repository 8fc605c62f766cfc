"""Tests for baselines/methods/plans.py: members' phases, UB's LR steps."""

import tensorflow as tf

from baselines.methods import plans


class PlansTest(tf.test.TestCase):

  def test_member_phase_is_named_by_its_ticket(self):
    (phase,) = plans.member_phases(250, ((0.0, 1.0),), 2)
    self.assertEqual((phase.name, phase.ticket_index, phase.epochs),
                     ('member_2', 2, 250))

  def test_decay_multipliers_scale_epochs_given_for_200(self):
    self.assertAllClose(plans.decay_multipliers(['100', '150'], 0.1, 250),
                        ((0.0, 1.0), (125 / 250, 0.1), (187 / 250, 0.01)))
    self.assertAllClose(plans.decay_multipliers(['60'], 0.2, 10),
                        ((0.0, 1.0), (0.3, 0.2)))

  def test_decay_multipliers_of_imagenet_given_for_90(self):
    # UB's ImageNet decays (30, 60, 80 of 90); 27, 54, 81 of 90 are the
    # paper's 60, 120, 180 of 200 for DST members.
    self.assertAllClose(plans.decay_multipliers(['27', '54', '81'], 0.1, 200,
                                                reference_epochs=90),
                        ((0.0, 1.0), (0.3, 0.1), (0.6, 0.01), (0.9, 0.001)))

  def test_rebased_lr_multipliers_continue_from_the_start(self):
    pairs = ((0.0, 1.0), (0.5, 0.1), (0.75, 0.01))
    self.assertAllClose(plans.rebased_lr_multipliers(pairs, 0.6),
                        ((0.0, 0.1), (0.375, 0.01)))


if __name__ == '__main__':
  tf.test.main()
