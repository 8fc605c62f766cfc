"""Tests for baselines/runtime/checkpoints.py: the newest intact one wins."""

import os
import tempfile

import tensorflow as tf

from baselines.runtime import checkpoints


def _flip_a_byte(prefix):
  path = prefix + '.data-00000-of-00001'
  with open(path, 'r+b') as f:
    f.seek(os.path.getsize(path) // 2)
    byte = f.read(1)
    f.seek(-1, 1)
    f.write(bytes([byte[0] ^ 0xFF]))


class RestoreTest(tf.test.TestCase):

  def setUp(self):
    super().setUp()
    self.run_dir = tempfile.mkdtemp()
    self.value = tf.Variable(tf.zeros([256]))
    self.checkpoint = tf.train.Checkpoint(value=self.value)
    manager = tf.train.CheckpointManager(
        self.checkpoint, os.path.join(self.run_dir, 'checkpoints'),
        max_to_keep=2)
    for number in (1, 2, 3):
      self.value.assign(tf.fill([256], float(number)))
      manager.save(checkpoint_number=number)
    self.value.assign(tf.zeros([256]))

  def _prefix(self, number):
    return os.path.join(self.run_dir, 'checkpoints', f'ckpt-{number}')

  def test_restores_the_newest(self):
    self.assertEqual(checkpoints.restore_newest_intact(
        self.checkpoint, self.run_dir), self._prefix(3))
    self.assertAllEqual(self.value, tf.fill([256], 3.0))

  def test_damaged_newest_falls_back_with_a_warning(self):
    _flip_a_byte(self._prefix(3))
    with self.assertLogs(level='WARNING') as logs:
      restored = checkpoints.restore_newest_intact(self.checkpoint,
                                                   self.run_dir)
    self.assertEqual(restored, self._prefix(2))
    self.assertAllEqual(self.value, tf.fill([256], 2.0))
    self.assertIn(f'{self._prefix(3)} cannot be read', logs.output[0])

  def test_preemption_checkpoint_comes_first(self):
    preempted = tf.train.CheckpointManager(
        self.checkpoint, os.path.join(self.run_dir, 'preempted'),
        max_to_keep=1)
    self.value.assign(tf.fill([256], 7.0))
    preempted.save(checkpoint_number=7)
    self.assertEqual(checkpoints.candidates(self.run_dir)[0],
                     os.path.join(self.run_dir, 'preempted', 'ckpt-7'))

  def test_all_damaged_raises_naming_them(self):
    _flip_a_byte(self._prefix(3))
    _flip_a_byte(self._prefix(2))
    with self.assertRaisesRegex(checkpoints.CheckpointError,
                                'none of its 2 checkpoint'):
      checkpoints.restore_newest_intact(self.checkpoint, self.run_dir)

  def test_no_checkpoint_is_none(self):
    self.assertIsNone(checkpoints.restore_newest_intact(
        self.checkpoint, tempfile.mkdtemp()))


if __name__ == '__main__':
  tf.test.main()
