"""Bad flags and data: a clear message and a non-zero exit before training.

The cases (`bad_input_run.cases`) run in one process of their own, each
binary in turn (`in_process`), as a user would meet them: absl's message
for a flag a validator refuses, the binary's own for bad data or settings.
"""

import os
import tempfile

from absl.testing import parameterized
import tensorflow as tf

from tests.baselines import bad_input_run
from tests.baselines import binary_testing as bt

_DIR = tempfile.mkdtemp()
CASES = bad_input_run.cases(_DIR)


class BadInputTest(tf.test.TestCase, parameterized.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.results = bt.result_of('tests.baselines.bad_input_run', _DIR)

  @parameterized.named_parameters((name, name) for name in CASES)
  def test_clear_error_before_training(self, name):
    result = self.results[name]
    self.assertNotEqual(result['code'], 0, result['message'][-2000:])
    self.assertIsNone(result['traceback'])
    self.assertIn(CASES[name][2], result['message'])
    # Nothing written, not even the output directory.
    self.assertFalse(result['created'])
    self.assertFalse(os.path.exists(bad_input_run.output_dir(_DIR, name)))
    self.assertNotRegex(result['message'], r'\] epoch \d+/')


class HelpTest(tf.test.TestCase):

  def test_help_lists_the_binary_flags_with_paper_symbols(self):
    # absl exits 1 after --help.
    result = bt.run('baselines.cifar.edst', ['--help'], mock=False)
    for line in ('--sparsity: Overall sparsity S', '--ensemble_size: M:',
                 '--exploration_epochs: t_ex:', '--refinement_epochs: t_re:',
                 '--reexploration_fraction: q:', '--update_interval: ΔT:',
                 '--drop_fraction: p:', '--base_learning_rate:',
                 '--checkpoint_interval:', '--corruptions_interval:'):
      self.assertIn(line, result.stdout)


if __name__ == '__main__':
  tf.test.main()
