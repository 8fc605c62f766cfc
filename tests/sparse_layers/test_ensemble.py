"""Tests for sparse_layers/ensemble.py: the mean of members' probabilities."""

import numpy as np
import tensorflow as tf

from sparse_layers import ensemble
from sparse_layers import layers
from sparse_layers.keras_alias import keras


def _mlp(name, seed, softmax=False, num_classes=3):
  keras.utils.set_random_seed(seed)
  return keras.Sequential([
      keras.Input((5,)), layers.MaskedDense(8, activation='relu'),
      layers.MaskedDense(num_classes,
                         activation='softmax' if softmax else None)],
                          name=name)


def _softmax(logits):
  e = np.exp(logits - logits.max(-1, keepdims=True))
  return e / e.sum(-1, keepdims=True)


class EnsembleTest(tf.test.TestCase):

  def test_mean_of_member_probabilities_against_numpy(self):
    members = [_mlp(f'm{i}', i) for i in range(3)]
    x = np.random.default_rng(0).normal(size=(7, 5)).astype(np.float32)
    probs = [_softmax(m.predict(x, verbose=0).astype(np.float64))
             for m in members]
    mean, per_member = ensemble.ensemble_model(
        members, member_probabilities=True).predict(x, verbose=0)
    self.assertEqual(per_member.shape, (7, 3, 3))
    self.assertAllClose(per_member, np.stack(probs, 1), atol=1e-6)
    self.assertAllClose(mean, np.mean(probs, 0), atol=1e-6)
    self.assertEqual(mean.dtype, np.float32)
    # One member: its probabilities.
    self.assertAllClose(ensemble.ensemble_model(members[:1]).predict(
        x, verbose=0), probs[0], atol=1e-6)

  def test_softmax_outputs_are_not_softmaxed_again(self):
    members = [_mlp(f'p{i}', i, softmax=True) for i in range(2)]
    self.assertTrue(ensemble.outputs_probabilities(members[0]))
    self.assertFalse(ensemble.outputs_probabilities(_mlp('l', 0)))
    x = np.ones((2, 5), np.float32)
    expected = np.mean([m.predict(x, verbose=0) for m in members], 0)
    self.assertAllClose(ensemble.ensemble_model(members).predict(
        x, verbose=0), expected, atol=1e-6)

  def test_members_of_other_shapes_are_refused(self):
    with self.assertRaisesRegex(ValueError, 'at least one member'):
      ensemble.ensemble_model([])
    with self.assertRaisesRegex(ValueError, r'ticket b does not fit the '
                                r'ensemble: its output_shape'):
      ensemble.ensemble_model([_mlp('a', 0), _mlp('b', 1, num_classes=4)])


if __name__ == '__main__':
  tf.test.main()
