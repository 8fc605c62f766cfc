"""Tests for baselines/methods/startup.py: checks before anything is written."""

import os

from absl import app
from absl import logging
import tensorflow as tf

from baselines.data import pipeline
from baselines.methods import startup
from baselines.methods import tasks
from baselines.runtime import files
from baselines.runtime import preemption
from baselines.runtime import run_lock
from sparse_layers import sparse_init
from tests import testing


def _split(name, num_examples):
  return pipeline.Split(name, tf.data.Dataset.range(num_examples), num_examples)


class StartupTest(tf.test.TestCase):

  def test_split_sizes(self):
    ok = tasks.Splits(_split('train', 64), None, _split('test', 10), {}, {})
    startup.check_split_sizes(ok, 64)
    with self.assertRaisesRegex(pipeline.DataError, r'the training split '
                                r'\(train, 64 examples\) is smaller than '
                                r'one global batch \(128\)'):
      startup.check_split_sizes(ok, 128)
    empty = tasks.Splits(_split('train', 64), None, _split('test', 0), {}, {})
    with self.assertRaisesRegex(pipeline.DataError,
                                'test split .* no examples'):
      startup.check_split_sizes(empty, 32)

  def test_extreme_sparsity_is_warned_with_per_layer_counts(self):
    model = testing.tiny_wrn()
    plan = sparse_init.sparsify(model, 0.9999, seed=0)
    with self.assertLogs(logging.get_absl_logger(), 'WARNING') as logs:
      self.assertTrue(startup.warn_extreme_sparsity(plan, 0.9999))
    message = logs.output[0]
    self.assertIn('keeps fewer than 16 weights in', message)
    for entry in plan:
      total = 1
      for size in entry.shape:
        total *= size
      self.assertIn(f'{entry.name} {entry.nonzeros}/{total}', message)
    plan = sparse_init.sparsify(testing.tiny_wrn(), 0.5, seed=0)
    self.assertFalse(startup.warn_extreme_sparsity(plan, 0.5))


class CliMainTest(tf.test.TestCase):

  def _exit(self, error):
    def main(argv):
      del argv
      raise error
    with self.assertRaises(SystemExit) as raised:
      startup.cli_main(main)([])
    return raised.exception.code

  def test_each_ending_has_its_exit_code(self):
    self.assertEqual(self._exit(KeyboardInterrupt()), 130)
    self.assertEqual(self._exit(preemption.Preempted('saved', 130)), 130)
    self.assertEqual(self._exit(preemption.Preempted('saved')), 143)
    self.assertEqual(self._exit(files.FileError('/x/run.json: damaged.')),
                     'FATAL: /x/run.json: damaged.')
    flag_problem = self._exit(app.UsageError('--depth must be 6n + 4.'))
    self.assertEqual(flag_problem, 'FATAL: --depth must be 6n + 4.\n'
                     'Pass --help to see the flags.')

  def test_the_lock_is_released_however_main_ends(self):
    directory = self.get_temp_dir()

    def main(argv):
      del argv
      run_lock.acquire(directory)
      raise KeyboardInterrupt

    with self.assertRaises(SystemExit):
      startup.cli_main(main)([])
    self.assertFalse(os.path.exists(os.path.join(directory,
                                                 run_lock.LOCK_FILE)))


if __name__ == '__main__':
  tf.test.main()
