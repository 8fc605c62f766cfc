"""Tests for baselines/evaluation/attacks.py: FGSM in pixel space."""

import numpy as np
import tensorflow as tf

from baselines.data import cifar
from baselines.evaluation import attacks
from sparse_layers import models
from sparse_layers.keras_alias import keras

CIFAR10 = cifar.PREPROCESSING['cifar10']


class AttacksTest(tf.test.TestCase):

  def setUp(self):
    super().setUp()
    keras.utils.set_random_seed(0)
    self.model = models.wide_resnet((32, 32, 3), 10, 1, 10, masked=False)
    rng = np.random.default_rng(0)
    self.images = rng.integers(0, 256, (24, 32, 32, 3)).astype(np.uint8)
    clean = attacks.predict_pixels(self.model, self.images / 255.0, CIFAR10)
    # Labels the model gets right: FGSM can only make it worse.
    self.labels = np.argmax(clean, -1)

  def test_step_zero_changes_nothing(self):
    pixels = attacks.fgsm(self.model, self.images, self.labels, 0.0, CIFAR10)
    self.assertAllClose(pixels, self.images / 255.0)
    result = attacks.robustness([self.model], self.images, self.labels, 0.0,
                                CIFAR10)
    self.assertEqual(result['single'], result['clean']['single'])

  def test_step_stays_in_pixel_range_and_lowers_accuracy(self):
    epsilon = 8 / 255
    pixels = attacks.fgsm(self.model, self.images, self.labels, epsilon,
                          CIFAR10)
    self.assertBetween(pixels.min(), 0.0, 1.0)
    self.assertBetween(pixels.max(), 0.0, 1.0)
    self.assertLessEqual(np.abs(pixels - self.images / 255.0).max(),
                         epsilon + 1e-6)
    result = attacks.robustness([self.model, self.model], self.images,
                                self.labels, epsilon, CIFAR10)
    self.assertEqual(result['clean']['single'], [1.0, 1.0])
    self.assertLess(result['single'][0], 1.0)
    matrix = np.array(result['matrix'])
    self.assertEqual(matrix.shape, (2, 3))
    self.assertAllClose(result['ensemble']['mean'], matrix[:, -1].mean())


if __name__ == '__main__':
  tf.test.main()
