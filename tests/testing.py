"""Shared test helpers: tiny models, data and the two-CPU set-up."""

import numpy as np
import tensorflow as tf

from sparse_layers import models
from sparse_layers.keras_alias import keras


def use_two_logical_cpus():
  """Splits the CPU into 2 logical devices for MirroredStrategy tests.

  Must run before TensorFlow initialises its devices; returns False if that
  already happened with fewer than 2 CPUs.
  """
  cpus = tf.config.list_physical_devices('CPU')
  try:
    tf.config.set_logical_device_configuration(
        cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2)
  except RuntimeError:
    pass
  return len(tf.config.list_logical_devices('CPU')) >= 2


_MIRRORED = []


def mirrored_strategy():
  """One MirroredStrategy over the 2 logical CPUs, shared by the process.

  Two MirroredStrategy objects in one process reuse collective instance
  keys, and their all-reduces then abort with shape mismatches.
  """
  if not _MIRRORED:
    _MIRRORED.append(tf.distribute.MirroredStrategy(['/cpu:0', '/cpu:1']))
  return _MIRRORED[0]


def tiny_wrn(num_classes=4, image_size=8, masked=True, l2=0.0,
             inactive_gradient='dense'):
  """A WRN-10-1 on small images: 9 convs + 1 classifier."""
  return models.wide_resnet((image_size, image_size, 3), depth=10,
                            width_multiplier=1, num_classes=num_classes,
                            l2=l2, masked=masked,
                            inactive_gradient=inactive_gradient)


def random_data(num_examples=64, image_size=8, num_classes=4, seed=0):
  rng = np.random.default_rng(seed)
  x = rng.normal(size=(num_examples, image_size, image_size, 3))
  y = rng.integers(0, num_classes, size=num_examples)
  return x.astype(np.float32), y.astype(np.int64)


def cross_entropy_loss_fn(model):
  """loss_fn(batch) -> mean cross-entropy of `model` on an (x, y) batch."""

  def loss_fn(batch):
    x, y = batch
    return tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(
        y, model(x, training=True), from_logits=True))

  return loss_fn
