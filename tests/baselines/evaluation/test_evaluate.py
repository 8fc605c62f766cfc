"""Tests for baselines/evaluate.py: evaluation on the device."""

import numpy as np
import tensorflow as tf

from tests import testing

HAS_TWO_CPUS = testing.use_two_logical_cpus()

# pylint: disable=g-import-not-at-top,wrong-import-position
from baselines.data import cifar
from baselines.data import pipeline
from baselines.evaluation import evaluate
from baselines.evaluation import metrics
from sparse_layers import ensemble
from sparse_layers import models
from sparse_layers import sparse_init
from sparse_layers.keras_alias import keras

PREPROCESSING = cifar.PREPROCESSING['cifar10']


def _split(n=50, seed=0):
  rng = np.random.default_rng(seed)
  x = rng.integers(0, 256, (n, 32, 32, 3)).astype(np.uint8)
  y = rng.integers(0, 10, n).astype(np.int64)
  return pipeline.Split('random', tf.data.Dataset.from_tensor_slices((x, y)), n)


def _model(seed=0, weights=None):
  keras.utils.set_random_seed(seed)
  model = models.wide_resnet((32, 32, 3), 10, 1, 10)
  sparse_init.sparsify(model, 0.8, seed=seed)
  if weights is not None:
    model.set_weights(weights)
  return model


def _predict_reference(model, split):
  """Today's reference: Keras predict on the evaluation pipeline, numpy."""
  dataset = pipeline.eval_dataset(split, 16, PREPROCESSING)
  logits = model.predict(dataset.map(lambda x, y: x), verbose=0)
  labels = np.concatenate([y for _, y in dataset.as_numpy_iterator()])
  return tf.nn.softmax(logits).numpy(), labels


class EvaluatorTest(tf.test.TestCase):

  def setUp(self):
    super().setUp()
    self.split = _split()  # 50 examples: the last global batch is padded.
    self.model = _model()
    self.probs, self.labels = _predict_reference(self.model, self.split)
    self.expected = metrics.model_metrics(self.probs, self.labels)

  def _check(self, evaluator):
    got = evaluator.metrics(self.split)
    self.assertEqual(sorted(got), sorted(self.expected))
    for key, value in self.expected.items():
      self.assertAllClose(got[key], value, atol=1e-6, rtol=0, msg=key)
    probs, labels = evaluator.predictions(self.split)
    self.assertAllEqual(labels, self.labels)
    self.assertAllClose(probs, self.probs, atol=1e-6, rtol=0)

  def test_metrics_equal_predict_and_numpy_compiled_or_not(self):
    for jit_compile in (False, True):
      self._check(evaluate.Evaluator(
          self.model, tf.distribute.get_strategy(), 16, PREPROCESSING,
          jit_compile=jit_compile))

  def test_two_replicas_evaluate_every_example_once(self):
    if not HAS_TWO_CPUS:
      self.skipTest('TensorFlow started before 2 logical CPUs were set up.')
    strategy = testing.mirrored_strategy()
    with strategy.scope():
      model = _model(weights=self.model.get_weights())
    self._check(evaluate.Evaluator(model, strategy, 16, PREPROCESSING))

  def test_ensemble_mean_on_the_device(self):
    members = [self.model, _model(seed=1)]
    member_probs = [self.probs, _predict_reference(members[1], self.split)[0]]
    mean = ensemble.ensemble_model(
        [keras.Model(m.inputs, m.outputs, name=f'm{i}')
         for i, m in enumerate(members)])
    got = evaluate.Evaluator(
        mean, tf.distribute.get_strategy(), 16, PREPROCESSING,
        outputs_probabilities=True).metrics(self.split)
    want = metrics.model_metrics(np.mean(member_probs, 0), self.labels)
    for key, value in want.items():
      self.assertAllClose(got[key], value, atol=1e-6, rtol=0, msg=key)

  def test_corrupted_means_over_corruptions_then_intensities(self):
    values = {('a', 1): 0.2, ('b', 1): 0.4, ('a', 2): 0.6, ('b', 2): 1.0}
    splits = {key: pipeline.Split(f'{key[0]}_{key[1]}', None, 1)
              for key in values}
    accuracy = {f'{c}_{s}': value for (c, s), value in values.items()}
    result = evaluate.corrupted_metrics(
        lambda split: {'accuracy': accuracy[split.name]}, splits)
    self.assertAllClose(result['test/accuracy_mean_1'], 0.3)
    self.assertAllClose(result['test/accuracy_mean_2'], 0.8)
    self.assertAllClose(result['test/accuracy_mean_corrupted'], 0.55)
    self.assertEqual(result['test/accuracy_b_2'], 1.0)
    self.assertNotIn('test/mCE', result)

  def test_held_out_corruptions_apart_and_mce_against_reference_errors(self):
    # a, b: the benchmark's; h: held out. Accuracies by hand:
    values = {('a', 1): 0.5, ('a', 2): 0.3, ('b', 1): 0.8, ('b', 2): 0.6,
              ('h', 1): 0.1, ('h', 2): 0.0}
    splits = {key: pipeline.Split(f'{key[0]}_{key[1]}', None, 1)
              for key in values}
    accuracy = {f'{c}_{s}': value for (c, s), value in values.items()}
    benchmark = pipeline.CorruptionBenchmark(
        held_out=('h',), reference_errors={'a': 0.8, 'b': 0.5})
    result = evaluate.corrupted_metrics(
        lambda split: {'accuracy': accuracy[split.name]}, splits, benchmark)
    self.assertAllClose(result['test/accuracy_mean_1'], 0.65)
    self.assertAllClose(result['test/accuracy_mean_2'], 0.45)
    self.assertAllClose(result['test/accuracy_mean_corrupted'], 0.55)
    self.assertAllClose(result['test/accuracy_mean_held_out'], 0.05)
    self.assertEqual(result['test/accuracy_h_2'], 0.0)
    # a: error (0.5 + 0.7) / 2 = 0.6, / 0.8 = 75 %; b: 0.3 / 0.5 = 60 %.
    self.assertAllClose(result['test/corruption_error_a'], 75.0)
    self.assertAllClose(result['test/corruption_error_b'], 60.0)
    self.assertAllClose(result['test/mCE'], 67.5)
    self.assertNotIn('test/corruption_error_h', result)
    # A missing (corruption, intensity) of the benchmark: no mCE.
    del splits[('b', 2)]
    partial = evaluate.corrupted_metrics(
        lambda split: {'accuracy': accuracy[split.name]}, splits, benchmark)
    self.assertNotIn('test/mCE', partial)

  def test_class_subset_scores_those_logits_alone(self):
    # ImageNet-A's protocol on 10 classes: keep classes 1, 4 and 7.
    classes = (1, 4, 7)
    members = [self.model, _model(seed=1)]
    restricted = ensemble.ensemble_model(
        [keras.Model(m.inputs, evaluate.KeepClasses(classes)(m.outputs[0]),
                     name=f'm{i}') for i, m in enumerate(members)])
    dataset = pipeline.eval_dataset(self.split, 16, PREPROCESSING)
    images = np.concatenate([x for x, _ in dataset.as_numpy_iterator()])
    want = np.zeros((len(images), 10))
    for member in members:
      logits = member.predict(images, verbose=0).astype(np.float64)[
          :, classes]
      exp = np.exp(logits - logits.max(-1, keepdims=True))
      want[:, classes] += exp / exp.sum(-1, keepdims=True) / 2
    self.assertAllClose(restricted.predict(images, verbose=0), want,
                        atol=1e-6, rtol=0)
    got = evaluate.Evaluator(
        restricted, tf.distribute.get_strategy(), 16, PREPROCESSING,
        jit_compile=True, outputs_probabilities=True).metrics(self.split)
    labels = self.labels
    inside = np.isin(labels, classes)
    self.assertAllClose(got['accuracy'], np.mean(
        inside & (want.argmax(-1) == labels)), atol=1e-6, rtol=0)


if __name__ == '__main__':
  tf.test.main()
