"""Tests for baselines/methods/experiment.py (the parts below the binaries)."""

from absl import flags
from absl import logging as absl_logging
from absl.testing import absltest

from baselines.methods import experiment


def _flag_values(argv):
  values = flags.FlagValues()
  flags.DEFINE_integer('depth', 28, 'WRN depth.', flag_values=values)
  flags.DEFINE_integer('width_multiplier', 10, 'Width.', flag_values=values)
  flags.DEFINE_integer('train_examples', None, 'N.', flag_values=values)
  flags.DEFINE_integer('train_epochs', 250, 'Epochs.', flag_values=values)
  values(argv)
  return values


class QuickModeTest(absltest.TestCase):

  def test_fills_in_only_flags_the_user_did_not_set(self):
    values = _flag_values(['prog', '--depth=16'])
    # The absl logger itself: TF code run earlier in the process (e.g. a
    # SavedModel save) may have set its level to WARNING.
    with self.assertLogs(absl_logging.get_absl_logger(), level='INFO') as logs:
      set_here = experiment.apply_quick_mode(values, {'train_epochs': 3})
    self.assertEqual(values.depth, 16)
    self.assertEqual(values.width_multiplier, 1)
    self.assertEqual(values.train_examples, 4096)
    self.assertEqual(values.train_epochs, 3)
    self.assertEqual(set_here, {'width_multiplier': 1,
                                'train_examples': 4096, 'train_epochs': 3})
    self.assertIn('kept your --depth=16', '\n'.join(logs.output))
    self.assertIn('--width_multiplier=1', '\n'.join(logs.output))

  def test_an_explicit_default_value_is_kept_too(self):
    values = _flag_values(['prog', '--train_epochs=250'])
    experiment.apply_quick_mode(values, {'train_epochs': 3})
    self.assertEqual(values.train_epochs, 250)
    self.assertEqual(values.depth, 10)


if __name__ == '__main__':
  absltest.main()
