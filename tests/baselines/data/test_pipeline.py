"""Tests for baselines/data/pipeline.py: TFDS errors, epoch order, shards."""

from unittest import mock

import numpy as np
import requests
import tensorflow as tf

from baselines.data import cifar
from baselines.data import pipeline
from tests import testing

CIFAR10 = cifar.PREPROCESSING['cifar10']


class PipelineTest(tf.test.TestCase):

  def setUp(self):
    super().setUp()
    self.x, self.y = testing.cifar_arrays()

  def test_missing_tfds_data_dir_is_a_clear_error(self):
    with self.assertRaisesRegex(pipeline.DataError,
                                "'cifar10'.*--download_data"):
      pipeline.load_tfds('cifar10', 'train', self.get_temp_dir(),
                         download=False)

  def test_unreachable_download_is_one_clear_error_at_once(self):
    unreachable = OSError('[Errno -2] Name or service not known')
    with mock.patch.object(pipeline.socket, 'create_connection',
                           side_effect=unreachable) as connect, \
        mock.patch('tensorflow_datasets.core.DatasetBuilder.'
                   'download_and_prepare') as download:
      with self.assertRaisesRegex(
          pipeline.DataError, r"cannot download TFDS dataset 'cifar10' "
          r'\(--download_data\): www.cs.toronto.edu is not reachable .*'
          r'--train_npz/--test_npz'):
        pipeline.load_tfds('cifar10', 'train', self.get_temp_dir(),
                           download=True)
    connect.assert_called_once()
    download.assert_not_called()  # No minutes of retries.

  def test_lost_connection_in_tfds_download_path_is_a_clear_error(self):
    # TFDS's real download_and_prepare runs (its lazy imports, such as
    # importlib_resources, included) up to the HTTP request, which fails.
    lost = requests.exceptions.ConnectionError('Network is unreachable')
    with mock.patch.object(pipeline, '_check_reachable'), mock.patch(
        'tensorflow_datasets.core.download.downloader._open_with_requests',
        side_effect=lost) as request:
      with self.assertRaisesRegex(
          pipeline.DataError, r"cannot download TFDS dataset 'cifar10' .*"
          r'ConnectionError: Network is unreachable.*--train_npz/--test_npz'):
        pipeline.load_tfds('cifar10', 'train', self.get_temp_dir(),
                           download=True)
    request.assert_called()

  def test_epoch_order_is_a_function_of_seed_and_epoch(self):
    split = cifar.load_npz(
        testing.write_npz(self.get_temp_dir(), 'ok.npz', self.x, self.y), 10)

    def epoch(seed, e):
      return np.concatenate([y.numpy() for _, y in
                             pipeline.train_dataset(split, 4, seed, e,
                                                    CIFAR10)])

    def images(seed, e):
      return np.concatenate([x.numpy() for x, _ in
                             pipeline.train_dataset(split, 4, seed, e,
                                                    CIFAR10)])

    self.assertAllEqual(epoch(1, 3), epoch(1, 3))
    self.assertAllEqual(images(1, 3), images(1, 3))
    self.assertNotAllEqual(images(1, 3), images(1, 4))
    self.assertLen(epoch(1, 0), 20)  # 5 full batches of 4.

  def test_shards_interleave_the_batches_of_one_pipeline(self):
    split = cifar.load_npz(
        testing.write_npz(self.get_temp_dir(), 'ok.npz', self.x, self.y), 10)
    one = [x.numpy()
           for x, _ in pipeline.train_dataset(split, 2, 1, 0, CIFAR10)]
    shards = [[x.numpy() for x, _ in pipeline.train_dataset(split, 2, 1, 0,
                                                            CIFAR10, 3, i)]
              for i in range(3)]
    self.assertEqual([len(s) for s in shards], [4, 3, 3])  # 10 batches.
    for i, shard in enumerate(shards):
      for j, batch in enumerate(shard):
        # Same examples, same augmentation, as batch i + 3 j of one pipeline.
        self.assertAllEqual(batch, one[i + 3 * j])

  def test_bounded_shuffle_buffer(self):
    split = cifar.load_npz(
        testing.write_npz(self.get_temp_dir(), 'ok.npz', self.x, self.y), 10)
    split.shuffle_buffer = 1  # No shuffling at all: the file order.
    labels = np.concatenate([y.numpy() for _, y in
                             pipeline.train_dataset(split, 4, 1, 0, CIFAR10)])
    self.assertAllEqual(labels, self.y)


if __name__ == '__main__':
  tf.test.main()
