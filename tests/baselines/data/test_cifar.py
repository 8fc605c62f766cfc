"""Tests for baselines/data/cifar.py: npz files, corruptions, preprocessing."""

import hashlib
import os

import numpy as np
import tensorflow as tf

from baselines.data import cifar
from baselines.data import pipeline
from tests import testing

CIFAR10 = cifar.PREPROCESSING['cifar10']


class DataTest(tf.test.TestCase):

  def setUp(self):
    super().setUp()
    self.x, self.y = testing.cifar_arrays()

  def test_npz_round_trip(self):
    split = cifar.load_npz(
        testing.write_npz(self.get_temp_dir(), 'ok.npz', self.x, self.y), 10)
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
      path = testing.write_npz(d, name, x, y)
      with self.assertRaisesRegex(pipeline.DataError, name + '.*' + message):
        cifar.load_npz(path, 10)
    with self.assertRaisesRegex(pipeline.DataError, 'not found: .*missing.npz'):
      cifar.load_npz(os.path.join(d, 'missing.npz'), 10)

  def test_npz_identity_is_its_content_and_the_slice(self):
    path = testing.write_npz(self.get_temp_dir(), 'ok.npz', self.x, self.y)
    with open(path, 'rb') as f:
      payload = f.read()
    split = cifar.load_npz(path, 10)
    self.assertEqual(split.identity(), {
        'source': {'npz': path, 'size': len(payload),
                   'sha256': hashlib.sha256(payload).hexdigest()},
        'examples': [0, 20]})
    held_out = pipeline.skip(pipeline.take(split, 20), 15)
    self.assertEqual(held_out.identity()['examples'], [15, 20])
    self.assertEqual(pipeline.take(split, 5).identity()['examples'], [0, 5])

  def test_npz_without_examples_or_damaged_is_one_clear_error(self):
    d = self.get_temp_dir()
    path = testing.write_npz(d, 'none.npz', self.x[:0], self.y[:0])
    with self.assertRaisesRegex(pipeline.DataError,
                                'none.npz: has no examples'):
      cifar.load_npz(path, 10)
    with open(os.path.join(d, 'ok.npz'), 'wb') as f:
      f.write(b'PK\x03\x04 truncated')
    with self.assertRaisesRegex(pipeline.DataError,
                                'ok.npz: not a readable npz file'):
      cifar.load_npz(os.path.join(d, 'ok.npz'), 10)

  def test_cifar100_c_reads_ub_tfrecords(self):
    directory = self.get_temp_dir()
    filename = os.path.join(directory, 'fog-3.tfrecords')
    with tf.io.TFRecordWriter(filename) as writer:
      for image, label in zip(self.x[:5], [3, 1, 4, 1, 5]):
        example = tf.train.Example(features=tf.train.Features(feature={
            'image': tf.train.Feature(bytes_list=tf.train.BytesList(
                value=[image.tobytes()])),
            'label': tf.train.Feature(int64_list=tf.train.Int64List(
                value=[label]))}))
        writer.write(example.SerializeToString())
    split = cifar.load_cifar100_c(directory, 'fog', 3)
    self.assertEqual(split.num_examples, 5)
    images, labels = zip(*split.dataset.as_numpy_iterator())
    self.assertAllEqual(np.stack(images), self.x[:5])
    self.assertAllEqual(labels, [3, 1, 4, 1, 5])
    with self.assertRaisesRegex(pipeline.DataError,
                                'CIFAR-100-C file not found: .*fog-4'):
      cifar.load_cifar100_c(directory, 'fog', 4)
    with self.assertRaisesRegex(pipeline.DataError, 'needs --cifar100_c_path'):
      cifar.load_corrupted('cifar100', 100)

  def test_corrupted_npz_dir_needs_every_corruption_and_severity(self):
    directory = self.get_temp_dir()
    for corruption in cifar.CORRUPTIONS:
      for severity in cifar.SEVERITIES:
        testing.write_npz(directory, f'{corruption}-{severity}.npz',
                          self.x[:2], self.y[:2])
    splits = cifar.load_corrupted('cifar10', 10, npz_dir=directory)
    self.assertLen(splits, 15 * 5)
    self.assertEqual(splits[('fog', 2)].num_examples, 2)
    os.remove(os.path.join(directory, 'fog-2.npz'))
    with self.assertRaisesRegex(pipeline.DataError,
                                r'lacks 1 of the 75 files .*fog-2\.npz'):
      cifar.load_corrupted('cifar10', 10, npz_dir=directory)

  def test_eval_dataset_is_normalised_and_in_order(self):
    split = cifar.load_npz(
        testing.write_npz(self.get_temp_dir(), 'ok.npz', self.x, self.y), 10)
    for name, mean, std in (
        ('cifar10', (0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010)),
        ('cifar100', (0.5070751592371323, 0.48654887331495095,
                      0.4409178433670343),
         (0.2673342858792401, 0.2564384629170883, 0.27615047132568404))):
      batches = list(pipeline.eval_dataset(split, 8, cifar.PREPROCESSING[name]))
      self.assertEqual([b[0].shape[0] for b in batches], [8, 8, 4])
      first = (self.x[0].astype(np.float32) / 255 - mean) / np.array(std)
      self.assertAllClose(batches[0][0][0], first, atol=1e-5)
      self.assertAllEqual(np.concatenate([b[1] for b in batches]), self.y)

  def test_augmentation_crops_the_padded_image_of_each_dataset(self):
    # Each augmented image is a 32x32 window of the image padded by 4
    # (CIFAR-10: reflection; CIFAR-100: zeros), possibly flipped.
    image = self.x[0]
    for name, mode, recipe in (('cifar10', 'reflect', 'authors'),
                               ('cifar100', 'constant', 'authors'),
                               ('cifar10', 'constant', 'ub')):
      padded = np.pad(image, ((4, 4), (4, 4), (0, 0)), mode=mode)
      windows = {}
      for dy in range(9):
        for dx in range(9):
          window = padded[dy:dy + 32, dx:dx + 32]
          windows[(dy, dx, 0)] = window
          windows[(dy, dx, 1)] = window[:, ::-1]
      offsets = []
      for seed in range(40):
        out = cifar.preprocessing(name, recipe).augment(
            tf.constant(image), tf.constant([seed, 7], tf.int64)).numpy()
        found = [k for k, w in windows.items() if np.array_equal(w, out)]
        self.assertNotEmpty(found, f'{name} seed {seed}')
        offsets.append(found[0])
      # Some crops reach into the padding, and both flips occur.
      self.assertTrue(any(dy in (0, 8) or dx in (0, 8)
                          for dy, dx, _ in offsets), name)
      self.assertEqual({f for _, _, f in offsets}, {0, 1}, name)

  def test_ub_recipe_normalises_both_datasets_with_cifar10s_statistics(self):
    pixel = np.array([[[255, 0, 128]]], np.uint8)
    want = (np.array([1.0, 0.0, 128 / 255]) - [0.4914, 0.4822, 0.4465]) / [
        0.2470, 0.2435, 0.2616]
    for name in ('cifar10', 'cifar100'):
      got = cifar.preprocessing(name, 'ub').normalize(tf.constant(pixel))
      self.assertAllClose(got[0, 0], want, atol=1e-6)
    self.assertIs(cifar.preprocessing('cifar100'),
                  cifar.PREPROCESSING['cifar100'])
    with self.assertRaisesRegex(ValueError, 'recipe must be one of'):
      cifar.preprocessing('cifar10', 'torch')


if __name__ == '__main__':
  tf.test.main()
