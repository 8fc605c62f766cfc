"""A NaN/Inf loss stops the run: message, last good checkpoint, no ticket."""

import json
import os
import re
import signal
import tempfile

import tensorflow as tf

from tests.baselines import binary_testing as bt

ARGS = bt.SPARSE_FLAGS + ['--ensemble_size=2', '--exploration_epochs=2',
                          '--refinement_epochs=1']


class NonFiniteLossTest(tf.test.TestCase):

  def test_nan_loss_stops_with_the_epoch_and_keeps_the_last_checkpoint(self):
    out = tempfile.mkdtemp()
    args = ARGS + [f'--output_dir={out}']
    # One good epoch, checkpointed; then the process is killed.
    killed = bt.run('baselines.cifar.edst', args, kill_at='run:epoch_end:2')
    self.assertEqual(killed.returncode, -signal.SIGKILL)
    checkpoints = os.path.join(out, 'run', 'checkpoints')
    good = tf.train.latest_checkpoint(checkpoints)
    self.assertTrue(good.endswith('ckpt-1'))
    # Restarted with an absurd LR, epoch 2 diverges. The restart must match
    # the run's identity, so its stored LR is edited too (as only a
    # deliberate hand would).
    identity_path = os.path.join(out, 'run.json')
    identity = bt.load_json(identity_path)
    identity['flags']['base_learning_rate'] = 1e30
    with open(identity_path, 'w') as f:
      json.dump(identity, f)
    result = bt.run('baselines.cifar.edst',
                    args + ['--base_learning_rate=1e30'])
    self.assertNotEqual(result.returncode, 0)
    self.assertRegex(result.stderr, r'non-finite training loss at epoch 2 '
                     r'\(step \d+ of 3, global step \d+\)')
    self.assertIn(f'the last good checkpoint is {good}', result.stderr)
    self.assertNotIn('Traceback', result.stderr)
    self.assertEqual(tf.train.latest_checkpoint(checkpoints), good)
    self.assertFalse(os.path.exists(os.path.join(out, 'tickets')))
    self.assertFalse(os.path.exists(os.path.join(out, 'metrics.json')))
    step = int(re.search(r'global step (\d+)', result.stderr).group(1))
    self.assertBetween(step, 4, 6)  # Within epoch 2 (steps 4 to 6).


if __name__ == '__main__':
  tf.test.main()
