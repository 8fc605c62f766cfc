"""Training losses of a batch: (integer labels, float32 logits) -> mean."""

import tensorflow as tf

from sparse_layers.keras_alias import keras


def cross_entropy(labels, logits):
  """Mean cross entropy of integer labels and logits (the NLL)."""
  return tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(
      labels, logits, from_logits=True))


def label_smoothing_loss(smoothing):
  """(labels, logits) -> mean cross entropy with smoothed one-hot targets.

  (1 - ε) NLL + ε mean_k(-log p_k): Keras' `label_smoothing`, the same as
  the FreeTickets authors' ImageNet `LabelSmoothing` module.
  """
  if not 0.0 <= smoothing < 1.0:
    raise ValueError(f'label smoothing must be in [0, 1), got {smoothing}.')
  if not smoothing:
    return cross_entropy

  def loss(labels, logits):
    one_hot = tf.one_hot(labels, tf.shape(logits)[-1], dtype=logits.dtype)
    return tf.reduce_mean(keras.losses.categorical_crossentropy(
        one_hot, logits, from_logits=True, label_smoothing=smoothing))

  return loss
