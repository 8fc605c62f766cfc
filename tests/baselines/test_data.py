"""Tests for baselines/data.py: npz validation, order, augmentation."""

import os

import numpy as np
import tensorflow as tf

from baselines import data


def _write_npz(directory, name, x, y):
  path = os.path.join(directory, name)
  np.savez(path, x=x, y=y)
  return path


class DataTest(tf.test.TestCase):

  def setUp(self):
    super().setUp()
    rng = np.random.default_rng(0)
    self.x = rng.integers(0, 256, (20, 32, 32, 3)).astype(np.uint8)
    self.y = rng.integers(0, 10, 20)

  def test_npz_round_trip(self):
    split = data.load_npz(_write_npz(self.get_temp_dir(), 'ok.npz', self.x,
                                     self.y), 10)
    self.assertEqual(split.num_examples, 20)
    images = np.stack([x.numpy() for x, _ in split.dataset])
    self.assertAllEqual(images, self.x)

  def test_npz_errors_name_the_file(self):
    d = self.get_temp_dir()
    cases = [
        ('float.npz', self.x.astype(np.float32), self.y, 'x must be uint8'),
        ('shape.npz', self.x[:, :28], self.y, r'\[20, 28, 32, 3\]'),
        ('labels.npz', self.x, self.y + 10, r'labels must be in \[0, 10\)'),
        ('count.npz', self.x, self.y[:5], 'y must be integer labels'),
    ]
    for name, x, y, message in cases:
      path = _write_npz(d, name, x, y)
      with self.assertRaisesRegex(data.DataError, name + '.*' + message):
        data.load_npz(path, 10)
    with self.assertRaisesRegex(data.DataError, 'not found: .*missing.npz'):
      data.load_npz(os.path.join(d, 'missing.npz'), 10)

  def test_missing_tfds_data_dir_is_a_clear_error(self):
    with self.assertRaisesRegex(data.DataError,
                                "'cifar10'.*--download_data"):
      data.load_tfds('cifar10', 'train', self.get_temp_dir(), download=False)

  def test_epoch_order_is_a_function_of_seed_and_epoch(self):
    split = data.load_npz(_write_npz(self.get_temp_dir(), 'ok.npz', self.x,
                                     self.y), 10)

    def epoch(seed, e):
      return np.concatenate([y.numpy() for _, y in
                             data.train_dataset(split, 4, seed, e)])

    def images(seed, e):
      return np.concatenate([x.numpy() for x, _ in
                             data.train_dataset(split, 4, seed, e)])

    self.assertAllEqual(epoch(1, 3), epoch(1, 3))
    self.assertAllEqual(images(1, 3), images(1, 3))
    self.assertNotAllEqual(images(1, 3), images(1, 4))
    self.assertLen(epoch(1, 0), 20)  # 5 full batches of 4.

  def test_eval_dataset_is_normalised_and_in_order(self):
    split = data.load_npz(_write_npz(self.get_temp_dir(), 'ok.npz', self.x,
                                     self.y), 10)
    batches = list(data.eval_dataset(split, 8))
    self.assertEqual([b[0].shape[0] for b in batches], [8, 8, 4])
    first = (self.x[0].astype(np.float32) / 255 - data.MEAN) / data.STD
    self.assertAllClose(batches[0][0][0], first, atol=1e-5)
    self.assertAllEqual(np.concatenate([b[1] for b in batches]), self.y)


if __name__ == '__main__':
  tf.test.main()
