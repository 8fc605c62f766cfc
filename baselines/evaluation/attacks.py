"""FGSM in pixel space (paper App. G, Table 8), through the normalisation.

Images are attacked as pixels in [0, 1]: x' = clip(x + ε sign(∇_x L), 0, 1)
with L the cross entropy of the attacked model on the normalised image
(the gradient flows through `Preprocessing.normalize`), so ε = 8/255 is 8
grey levels whatever the dataset's mean and std.
"""

import numpy as np
import tensorflow as tf

from sparse_layers.keras_alias import keras


def _normalized(pixels, preprocessing):
  # Preprocessing.normalize takes 0..255 values.
  return preprocessing.normalize(pixels * 255.0)


def fgsm(model, images, labels, epsilon, preprocessing, batch_size=256):
  """Adversarial pixels in [0, 1] against `model`.

  Args:
    model: a Keras model of normalised images -> logits.
    images: uint8 [N, H, W, C].
    labels: int [N].
    epsilon: the step in [0, 1] pixel units (8 / 255 in the paper).
    preprocessing: the training dataset's `cifar.Preprocessing`.
    batch_size: images per gradient computation.

  Returns:
    float32 [N, H, W, C] pixels in [0, 1].
  """
  adversarial = []
  for start in range(0, len(images), batch_size):
    pixels = tf.constant(images[start:start + batch_size], tf.float32) / 255.0
    batch_labels = tf.constant(labels[start:start + batch_size])
    with tf.GradientTape() as tape:
      tape.watch(pixels)
      logits = model(_normalized(pixels, preprocessing), training=False)
      loss = keras.losses.sparse_categorical_crossentropy(
          batch_labels, tf.cast(logits, tf.float32), from_logits=True)
    gradient = tape.gradient(loss, pixels)
    adversarial.append(tf.clip_by_value(
        pixels + epsilon * tf.sign(gradient), 0.0, 1.0).numpy())
  return np.concatenate(adversarial)


def predict_pixels(model, pixels, preprocessing, batch_size=256):
  """Softmax probabilities of `model` on [0, 1] pixels."""
  probs = []
  for start in range(0, len(pixels), batch_size):
    batch = tf.constant(pixels[start:start + batch_size], tf.float32)
    logits = model(_normalized(batch, preprocessing), training=False)
    probs.append(tf.nn.softmax(tf.cast(logits, tf.float32)).numpy())
  return np.concatenate(probs)


def robustness(models, images, labels, epsilon, preprocessing):
  """Table 8's figures: FGSM crafted against each model in turn.

  Returns:
    dict with 'clean' (each model's and the ensemble's clean accuracy),
    'matrix' [M, M + 1]: row i, the accuracy of model k (column k) and of
    the ensemble (last column) on examples crafted against model i;
    'ensemble' {min, mean, max} of the last column over sources; 'single'
    each model's accuracy on its own adversarial examples (matrix[i, i]).
  """
  clean_pixels = images.astype(np.float32) / 255.0
  clean = [predict_pixels(m, clean_pixels, preprocessing) for m in models]
  matrix = np.zeros((len(models), len(models) + 1))
  for i, source in enumerate(models):
    pixels = fgsm(source, images, labels, epsilon, preprocessing)
    probs = [predict_pixels(m, pixels, preprocessing) for m in models]
    for k, p in enumerate(probs):
      matrix[i, k] = np.mean(np.argmax(p, -1) == labels)
    matrix[i, -1] = np.mean(np.argmax(np.mean(probs, 0), -1) == labels)
  return {
      'clean': {'single': [float(np.mean(np.argmax(p, -1) == labels))
                           for p in clean],
                'ensemble': float(np.mean(
                    np.argmax(np.mean(clean, 0), -1) == labels))},
      'matrix': matrix.tolist(),
      'ensemble': {'min': float(matrix[:, -1].min()),
                   'mean': float(matrix[:, -1].mean()),
                   'max': float(matrix[:, -1].max())},
      'single': [float(matrix[i, i]) for i in range(len(models))],
  }
