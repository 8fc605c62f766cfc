"""Tests for baselines/imagenet.py: ResNet preprocessing, errors."""

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from baselines.data import imagenet
from baselines.data import pipeline


class PreprocessingTest(tf.test.TestCase):

  def setUp(self):
    super().setUp()
    self.preprocessing = imagenet.ImagenetPreprocessing(image_size=32)

  def test_eval_resizes_the_shorter_side_and_center_crops(self):
    # A 64x32 image: its shorter side becomes round(32 * 256 / 224) = 37,
    # so 74x37; the center 32x32 crop starts at row 21, column 2.
    rows = np.arange(64, dtype=np.float32)[:, None, None] * np.ones(
        (1, 32, 3), np.float32)
    image = tf.constant(rows)
    out = self.preprocessing.eval_image(image)
    self.assertEqual(out.shape, (32, 32, 3))
    resized = tf.image.resize(image, [74, 37])[21:53, 2:34]
    self.assertAllClose(out, self.preprocessing.normalize(resized))
    # A constant image stays constant: (v / 255 - mean) / std.
    grey = self.preprocessing.eval_image(tf.fill([50, 70, 3], 128.0))
    expected = (128.0 / 255 - np.array(imagenet.MEAN)) / np.array(
        imagenet.STD)
    self.assertAllClose(grey, np.broadcast_to(expected, (32, 32, 3)),
                        atol=1e-5)

  def test_train_crop_is_seeded_and_varies_with_the_seed(self):
    rng = np.random.default_rng(0)
    image = tf.constant(rng.integers(0, 256, (40, 60, 3)).astype(np.uint8))
    seeds = [tf.constant([1, 2], tf.int64), tf.constant([1, 3], tf.int64)]
    first = self.preprocessing.train_image(image, seeds[0])
    self.assertEqual(first.shape, (32, 32, 3))
    self.assertAllEqual(first, self.preprocessing.train_image(image,
                                                              seeds[0]))
    self.assertNotAllClose(first, self.preprocessing.train_image(image,
                                                                 seeds[1]))

  def test_batches_of_images_of_any_size(self):
    images = [np.full((h, w, 3), 7, np.uint8) for h, w in ((40, 33),
                                                          (90, 64))]
    split = pipeline.Split('mixed', tf.data.Dataset.from_generator(
        lambda: ((x, np.int64(1)) for x in images),
        output_signature=(tf.TensorSpec([None, None, 3], tf.uint8),
                          tf.TensorSpec([], tf.int64))), 2)
    batch, labels = next(iter(pipeline.train_dataset(split, 2, 0, 0,
                                                     self.preprocessing)))
    self.assertEqual(batch.shape, (2, 32, 32, 3))
    self.assertAllEqual(labels, [1, 1])
    batch, _ = next(iter(pipeline.eval_dataset(split, 2, self.preprocessing)))
    self.assertEqual(batch.shape, (2, 32, 32, 3))


class LoadingTest(tf.test.TestCase):

  def test_not_prepared_says_how_to_prepare(self):
    with self.assertRaisesRegex(pipeline.DataError,
                                'TFDS cannot download ImageNet.*tfds build '
                                'imagenet2012'):
      imagenet.load_train_test(self.get_temp_dir())

  def test_ubs_fifteen_corruptions_four_held_out_and_alexnet_errors(self):
    self.assertLen(set(imagenet.CORRUPTIONS), 15)
    self.assertEqual(imagenet.HELD_OUT_CORRUPTIONS, (
        'gaussian_blur', 'saturate', 'spatter', 'speckle_noise'))
    self.assertEmpty(set(imagenet.CORRUPTIONS) &
                     set(imagenet.HELD_OUT_CORRUPTIONS))
    self.assertEqual(list(imagenet.ALEXNET_ERRORS), list(imagenet.CORRUPTIONS))
    # Hendrycks & Dietterich's AlexNet errors (%), to their printed digit.
    self.assertEqual([round(100 * e, 1) for e in
                      imagenet.ALEXNET_ERRORS.values()],
                     [88.6, 89.4, 92.3, 82.0, 82.6, 78.6, 79.8, 86.7, 82.7,
                      81.9, 56.5, 85.3, 64.6, 71.8, 60.7])
    self.assertEqual(imagenet.IMAGENET_C.held_out,
                     imagenet.HELD_OUT_CORRUPTIONS)

  def test_imagenet_a_is_scored_over_its_200_classes(self):
    classes = imagenet.IMAGENET_A_CLASSES
    self.assertLen(set(classes), 200)
    self.assertEqual(list(classes), sorted(classes))
    self.assertEqual((classes[0], classes[-1]), (6, 988))
    with tfds.testing.mock_data(num_examples=3):
      split = imagenet.load_imagenet_a()
    self.assertEqual(split.classes, classes)


if __name__ == '__main__':
  tf.test.main()
