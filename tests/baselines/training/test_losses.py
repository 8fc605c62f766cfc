"""Tests for baselines/training/losses.py: label smoothing against numpy."""

import numpy as np
import tensorflow as tf

from baselines.training import losses


class LossesTest(tf.test.TestCase):

  def test_label_smoothing_loss_matches_numpy(self):
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(6, 5)).astype(np.float32)
    labels = rng.integers(0, 5, 6)
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    nll = -log_p[np.arange(6), labels]
    expected = np.mean(0.9 * nll + 0.1 * -log_p.mean(-1))
    loss = losses.label_smoothing_loss(0.1)
    self.assertAllClose(float(loss(tf.constant(labels), logits)), expected,
                        rtol=1e-6)
    self.assertAllClose(float(losses.label_smoothing_loss(0.0)(
        tf.constant(labels), logits)), nll.mean(), rtol=1e-6)
    with self.assertRaisesRegex(ValueError, 'label smoothing'):
      losses.label_smoothing_loss(1.0)


if __name__ == '__main__':
  tf.test.main()
