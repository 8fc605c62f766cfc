"""Tests for baselines/plans.py: EDST's phases, members, LR steps."""

import tensorflow as tf

from baselines import plans


class PlansTest(tf.test.TestCase):

  def test_edst_phases_number_tickets_from_zero(self):
    phases = plans.edst_phases(150, 100, 3, 0.8)
    self.assertEqual([p.name for p in phases],
                     ['exploration', 'refinement_0', 'refinement_1',
                      'refinement_2'])
    self.assertEqual([p.epochs for p in phases], [150, 100, 100, 100])
    self.assertEqual([p.ticket_index for p in phases], [None, 0, 1, 2])
    # Re-exploration after every ticket but the last (Algorithm 1).
    self.assertEqual([p.reexplore_fraction for p in phases],
                     [None, 0.8, 0.8, None])
    self.assertEqual(phases[0].lr_multipliers, ((0.0, 1.0),))

  def test_refinement_lr_switches_after_ceil_half(self):
    self.assertEqual(plans.refinement_lr(100), ((0.0, 0.1), (0.5, 0.01)))
    # t_re = 3: 2 epochs at 0.01 x 10, then 1 at 0.001 x 10.
    (_, first), (switch, second) = plans.refinement_lr(3)
    self.assertAllClose([first, switch, second], [0.1, 2 / 3, 0.01])

  def test_imagenet_refinement_lr_is_the_authors_pattern(self):
    # 70 epochs: 0.01 from 0, 0.001 from 30, 0.0001 from 60 (x 10 of LR).
    self.assertAllClose(plans.imagenet_refinement_lr(70),
                        ((0.0, 0.1), (30 / 70, 0.01), (60 / 70, 0.001)))
    # t_re = 2: the switch at 3/7 rounds to epoch 1, the one at 6/7 to
    # the phase's end (left out).
    self.assertAllClose(plans.imagenet_refinement_lr(2),
                        ((0.0, 0.1), (0.5, 0.01)))
    self.assertAllClose(plans.imagenet_refinement_lr(1), ((0.0, 0.1),))

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
