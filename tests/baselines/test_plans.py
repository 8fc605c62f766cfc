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

  def test_member_phase_is_named_by_its_ticket(self):
    (phase,) = plans.member_phases(250, ((0.0, 1.0),), 2)
    self.assertEqual((phase.name, phase.ticket_index, phase.epochs),
                     ('member_2', 2, 250))

  def test_decay_multipliers_scale_epochs_given_for_200(self):
    self.assertAllClose(plans.decay_multipliers(['100', '150'], 0.1, 250),
                        ((0.0, 1.0), (125 / 250, 0.1), (187 / 250, 0.01)))
    self.assertAllClose(plans.decay_multipliers(['60'], 0.2, 10),
                        ((0.0, 1.0), (0.3, 0.2)))

  def test_rebased_lr_multipliers_continue_from_the_start(self):
    pairs = ((0.0, 1.0), (0.5, 0.1), (0.75, 0.01))
    self.assertAllClose(plans.rebased_lr_multipliers(pairs, 0.6),
                        ((0.0, 0.1), (0.375, 0.01)))


if __name__ == '__main__':
  tf.test.main()
