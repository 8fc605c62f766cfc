"""Tests for baselines/methods/ensemble_inputs.py: UB's --checkpoint_dir."""

import os
import types

from absl import app
import tensorflow as tf

from baselines.methods import ensemble_inputs


def _checkpoints(directory, count):
  """`count` checkpoints of one variable in `directory`; the last prefix."""
  manager = tf.train.CheckpointManager(
      tf.train.Checkpoint(v=tf.Variable(1.0)), directory, max_to_keep=5)
  return [manager.save() for _ in range(count)][-1]


class CheckpointDirTest(tf.test.TestCase):

  def test_one_member_per_subdirectory_as_ubs_parse_checkpoint_dir(self):
    parent = self.get_temp_dir()
    ticket = os.path.join(parent, 'a_ticket')
    os.makedirs(ticket)
    with open(os.path.join(ticket, 'ticket.json'), 'w') as f:
      f.write('{}')
    latest = _checkpoints(os.path.join(parent, 'b_run', 'nested'), 3)
    _checkpoints(os.path.join(parent, 'b_run', 'nested', 'deeper'), 1)
    os.makedirs(os.path.join(parent, 'c_empty', 'sub'))
    with open(os.path.join(parent, 'd_file'), 'w') as f:
      f.write('not a member')
    self.assertEqual(ensemble_inputs.members_of_checkpoint_dir(parent),
                     [ticket, latest])
    self.assertTrue(latest.endswith('ckpt-3'))

  def test_checkpoint_dir_fills_checkpoint_dirs_and_refuses_both(self):
    parent = self.get_temp_dir()
    latest = _checkpoints(os.path.join(parent, 'member_0'), 2)
    flag_values = types.SimpleNamespace(checkpoint_dir=parent,
                                        checkpoint_dirs=[])
    self.assertEqual(ensemble_inputs.checkpoint_specs(flag_values), {})
    self.assertEqual(flag_values.checkpoint_dirs, [latest])
    both = types.SimpleNamespace(checkpoint_dir=parent,
                                 checkpoint_dirs=['x'])
    with self.assertRaisesRegex(app.UsageError, 'not both'):
      ensemble_inputs.checkpoint_specs(both)
    empty = os.path.join(parent, 'empty')
    os.makedirs(os.path.join(empty, 'sub'))
    with self.assertRaisesRegex(app.UsageError,
                                'no subdirectory holds a ticket'):
      ensemble_inputs.members_of_checkpoint_dir(empty)
    with self.assertRaisesRegex(app.UsageError, 'not a directory'):
      ensemble_inputs.members_of_checkpoint_dir(os.path.join(parent, 'no'))


if __name__ == '__main__':
  tf.test.main()
