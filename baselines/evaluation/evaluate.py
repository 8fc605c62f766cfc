"""Evaluation on the device, and UB-keyed metric dicts: test, ensemble,
corrupted, OOD.

`Evaluator` runs a model over a split as one compiled, distributed loop: the
UB metrics (accuracy, NLL, ECE bins) are accumulated on each replica and read
once at the end (`metrics`), or every example's probabilities come back with
their labels from the same pass (`predictions`), where something needs
them (tickets, ensembles, trajectories, OOD scores). The dict functions
below work on predicted probabilities, so an ensemble's metrics equal a
direct numpy computation from its members' saved predictions.
"""

import dataclasses

import numpy as np
import tensorflow as tf

from baselines.data import pipeline
from baselines.evaluation import metrics
from baselines.runtime import devices
from sparse_layers.keras_alias import keras

_SUM = tf.distribute.ReduceOp.SUM


@dataclasses.dataclass
class _Sums:
  """Per-replica sums of one pass (sync-on-read variables, float32 sums
  compensated: [sum, compensation] rows, Neumaier's summation)."""
  count: tf.Variable
  correct: tf.Variable
  nll: tf.Variable
  bin_count: tf.Variable
  bin_correct: tf.Variable
  bin_confidence: tf.Variable

  @classmethod
  def create(cls, num_bins):
    def variable(shape, dtype):
      return tf.Variable(tf.zeros(shape, dtype), trainable=False,
                         synchronization=tf.VariableSynchronization.ON_READ,
                         aggregation=tf.VariableAggregation.SUM)
    return cls(variable([], tf.int32), variable([], tf.int32),
               variable([2], tf.float32), variable([num_bins], tf.int32),
               variable([num_bins], tf.int32),
               variable([2, num_bins], tf.float32))

  def variables(self):
    return [getattr(self, f.name) for f in dataclasses.fields(self)]


def _compensated_add(variable, value):
  """Adds `value` to a [sum, compensation] variable (Neumaier)."""
  total, compensation = variable[0], variable[1]
  new_total = total + value
  lost = tf.where(tf.abs(total) >= tf.abs(value), (total - new_total) + value,
                  (value - new_total) + total)
  variable.assign(tf.stack([new_total, compensation + lost]))


def _first_argmax(probs):
  """argmax with ties to the lowest index (numpy's), on any device."""
  num_classes = probs.shape[-1]
  best = tf.reduce_max(probs, axis=-1, keepdims=True)
  return tf.reduce_min(tf.where(probs == best, tf.range(num_classes),
                                num_classes), axis=-1)


class KeepClasses(keras.layers.Layer):
  """Logits of the classes outside `classes` set to -inf, so a softmax after
  it is the softmax over `classes`' logits alone (0 elsewhere): the
  ImageNet-A protocol of scoring its 200 classes, labels kept in the
  model's class space."""

  def __init__(self, classes, **kwargs):
    super().__init__(dtype='float32', **kwargs)
    self.classes = tuple(int(c) for c in classes)

  def call(self, logits):
    keep = np.zeros(logits.shape[-1], bool)
    keep[list(self.classes)] = True
    return tf.where(keep, logits, -np.inf)

  def get_config(self):
    return {**super().get_config(), 'classes': self.classes}


class Evaluator:
  """A model's compiled, distributed evaluation over any split.

  Build it once per model (its loops are traced once); the splits must share
  the preprocessing's image shape.
  """

  def __init__(self, model, strategy, global_batch_size, preprocessing,
               num_bins=15, jit_compile=False, outputs_probabilities=False):
    """Creates the evaluator.

    Args:
      model: a Keras model of logits (or of probabilities, see below).
      strategy: the `tf.distribute` strategy the model was built under.
      global_batch_size: examples per evaluation step over all replicas.
      preprocessing: the training dataset's preprocessing (`eval_image`).
      num_bins: ECE bins.
      jit_compile: compile the per-replica step with XLA (`devices`).
      outputs_probabilities: the model outputs probabilities (an ensemble
        mean), not logits.
    """
    self._model = model
    self._strategy = strategy
    self._global_batch_size = global_batch_size
    self._preprocessing = preprocessing
    self._num_bins = num_bins
    self._outputs_probabilities = outputs_probabilities
    self._image_shape = tuple(model.input_shape[1:])
    with strategy.scope():
      self._sums = _Sums.create(num_bins)
    accumulate = devices.compiled(self._accumulate, jit_compile, strategy)
    probabilities = devices.compiled(self._probabilities, jit_compile,
                                     strategy)
    self._metrics_loop = tf.function(
        lambda iterator, steps: self._run_metrics(iterator, steps,
                                                  accumulate))
    self._predict_loop = tf.function(
        lambda iterator, steps: self._run_predict(iterator, steps,
                                                  probabilities))

  def metrics(self, split):
    """{'negative_log_likelihood', 'accuracy', 'ece'} of the model on split,
    accumulated on the device in one pass."""
    iterator, steps = self._iterator(split)
    sums = [np.asarray(v, np.float64)
            for v in self._metrics_loop(iterator, steps)]
    count, correct, nll, bin_count, bin_correct, bin_confidence = (
        s.sum(axis=0) for s in sums)  # Over replicas.
    if count != split.num_examples:
      raise RuntimeError(f'evaluated {count} examples of {split.name}, '
                         f'which has {split.num_examples}.')
    return {'negative_log_likelihood': float(nll.sum()) / count,
            'accuracy': float(correct) / count,
            'ece': metrics.ece_from_bins(bin_count, bin_correct,
                                         bin_confidence.sum(axis=0))}

  def predictions(self, split):
    """(probabilities [N, K] float32, labels [N]) in the split's order."""
    iterator, steps = self._iterator(split)
    probs, labels, indices = (t.numpy() for t in self._predict_loop(
        iterator, steps))
    order = np.argsort(indices, kind='stable')[-split.num_examples:]
    if not np.array_equal(indices[order], np.arange(split.num_examples)):
      raise RuntimeError(f'the evaluation of {split.name} did not return '
                         f'every example once.')
    return probs[order], labels[order]

  def _iterator(self, split):
    """A distributed iterator over the padded split, and its step count."""
    per_replica = self._global_batch_size // self._strategy.num_replicas_in_sync

    def dataset_fn(context):
      return pipeline.padded_eval_dataset(
          split, per_replica, self._preprocessing, self._image_shape,
          self._global_batch_size, context.num_input_pipelines,
          context.input_pipeline_id)

    steps = -(-split.num_examples // self._global_batch_size)
    iterator = iter(self._strategy.distribute_datasets_from_function(
        dataset_fn))
    return iterator, tf.constant(steps, tf.int64)

  def _probabilities(self, images):
    outputs = tf.cast(self._model(images, training=False), tf.float32)
    return outputs if self._outputs_probabilities else tf.nn.softmax(outputs)

  def _accumulate(self, batch):
    """Adds one replica batch to this replica's sums."""
    images, labels, indices = batch
    probs = self._probabilities(images)
    valid = indices >= 0
    weight = tf.cast(valid, tf.int32)
    confidence = tf.reduce_max(probs, axis=-1)
    correct = tf.cast(tf.equal(_first_argmax(probs),
                               tf.cast(labels, tf.int32)), tf.int32) * weight
    picked = tf.gather(probs, tf.maximum(labels, 0), batch_dims=1)
    nll = -tf.math.log(tf.maximum(picked, np.finfo(np.float32).tiny))
    in_bin = metrics.one_hot_confidence_bins(
        confidence, self._num_bins, tf.int32) * weight[:, None]
    sums = self._sums
    sums.count.assign_add(tf.reduce_sum(weight))
    sums.correct.assign_add(tf.reduce_sum(correct))
    _compensated_add(sums.nll, tf.reduce_sum(tf.where(valid, nll, 0.0)))
    sums.bin_count.assign_add(tf.reduce_sum(in_bin, axis=0))
    sums.bin_correct.assign_add(tf.reduce_sum(in_bin * correct[:, None], 0))
    _compensated_add(sums.bin_confidence, tf.reduce_sum(
        tf.cast(in_bin, tf.float32) * confidence[:, None], axis=0))

  def _run_metrics(self, iterator, steps, accumulate):
    strategy = self._strategy
    strategy.run(lambda: [v.assign(tf.zeros_like(v))
                          for v in self._sums.variables()])
    for _ in tf.range(steps):
      strategy.run(accumulate, args=(next(iterator),))
    values = strategy.run(lambda: [v.read_value()[tf.newaxis]
                                   for v in self._sums.variables()])
    return [strategy.gather(v, axis=0) for v in values]

  def _run_predict(self, iterator, steps, probabilities):
    strategy = self._strategy
    size = tf.cast(steps, tf.int32)
    all_probs = tf.TensorArray(tf.float32, size=size)
    all_labels = tf.TensorArray(tf.int64, size=size)
    all_indices = tf.TensorArray(tf.int64, size=size)
    for step in tf.range(size):
      images, labels, indices = next(iterator)
      probs = strategy.run(probabilities, args=(images,))
      all_probs = all_probs.write(step, strategy.gather(probs, axis=0))
      all_labels = all_labels.write(step, strategy.gather(labels, axis=0))
      all_indices = all_indices.write(step, strategy.gather(indices, axis=0))
    return all_probs.concat(), all_labels.concat(), all_indices.concat()


def model_metrics(probs, labels, prefix='test/', num_bins=15):
  """UB keys for one model: {prefix}negative_log_likelihood, accuracy, ece."""
  return prefixed(metrics.model_metrics(probs, labels, num_bins), prefix)


def prefixed(values, prefix):
  """{prefix + key: value}: UB's keys of an `Evaluator.metrics` dict."""
  return {prefix + key: value for key, value in values.items()}


def ensemble_metrics(member_probs, labels, num_bins=15):
  """UB keys of an ensemble: test/{nll,accuracy,ece}, members, diversity.

  Also UB ensemble.py's test/gibbs_cross_entropy (the members' mean NLL).
  """
  ensemble = metrics.ensemble_probs(member_probs)
  result = model_metrics(ensemble, labels, 'test/', num_bins)
  result['test/gibbs_cross_entropy'] = metrics.gibbs_cross_entropy(
      member_probs, labels)
  for i, probs in enumerate(member_probs):
    member = metrics.model_metrics(probs, labels, num_bins)
    result[f'test/nll_member_{i}'] = member['negative_log_likelihood']
    result[f'test/accuracy_member_{i}'] = member['accuracy']
    result[f'test/ece_member_{i}'] = member['ece']
  if len(member_probs) > 1:
    for key, value in metrics.diversity(member_probs).items():
      result[f'test/diversity/{key}'] = value
  return result


def corrupted_metrics(metrics_fn, corrupted_splits, benchmark=None):
  """Corrupted-data metrics with UB's keys (`aggregate_corrupt_metrics`).

  Args:
    metrics_fn: split -> {'negative_log_likelihood', 'accuracy', 'ece'}, e.g.
      `Evaluator.metrics` of a model or of an ensemble's mean.
    corrupted_splits: dict (corruption, intensity) -> `pipeline.Split`.
    benchmark: `pipeline.CorruptionBenchmark` (ImageNet-C's held-out
      corruptions and AlexNet errors); None: every corruption in the means.

  Returns:
    dict with test/{nll,accuracy,ece}_{corruption}_{intensity}; the means
    over the corruptions not held out: test/{...}_mean_{intensity} and
    test/{...}_mean_corrupted (their mean over intensities); of those held
    out, test/{...}_mean_held_out; with reference errors,
    test/corruption_error_{corruption} and test/mCE (percent).
  """
  short = {'negative_log_likelihood': 'nll', 'accuracy': 'accuracy',
           'ece': 'ece'}
  held_out = set(benchmark.held_out) if benchmark else set()
  result, values = {}, {}
  for (corruption, intensity), split in sorted(corrupted_splits.items()):
    for key, value in metrics_fn(split).items():
      result[f'test/{short[key]}_{corruption}_{intensity}'] = value
      values[(short[key], corruption, intensity)] = value
  for name in short.values():
    by_intensity = {}
    for (n, corruption, intensity), value in values.items():
      if n == name and corruption not in held_out:
        by_intensity.setdefault(intensity, []).append(value)
    for intensity, group in sorted(by_intensity.items()):
      result[f'test/{name}_mean_{intensity}'] = float(np.mean(group))
    if by_intensity:
      result[f'test/{name}_mean_corrupted'] = float(np.mean(
          [np.mean(g) for g in by_intensity.values()]))
    apart = [v for (n, c, _), v in values.items() if n == name and
             c in held_out]
    if apart:
      result[f'test/{name}_mean_held_out'] = float(np.mean(apart))
  if benchmark and benchmark.reference_errors:
    result.update(corruption_errors(values, benchmark.reference_errors))
  return result


def corruption_errors(values, reference_errors):
  """test/corruption_error_{c} = 100 * E_c / E_c^AlexNet and test/mCE, their
  mean (Hendrycks & Dietterich 2019; UB's `aggregate_corrupt_metrics`): E_c
  the top-1 error averaged over c's intensities. Empty unless every
  corruption of `reference_errors` has every intensity evaluated.

  Args:
    values: (metric, corruption, intensity) -> value; metric 'accuracy'.
    reference_errors: corruption -> the reference model's mean error.
  """
  accuracy = {(c, i): v for (n, c, i), v in values.items() if n == 'accuracy'}
  intensities = sorted({i for _, i in accuracy})
  if not intensities or any((c, i) not in accuracy for c in reference_errors
                            for i in intensities):
    return {}
  result = {}
  for corruption, reference in reference_errors.items():
    error = np.mean([1.0 - accuracy[(corruption, i)] for i in intensities])
    result[f'test/corruption_error_{corruption}'] = float(
        100.0 * error / reference)
  result['test/mCE'] = float(np.mean(list(result.values())))
  return result


def ood_metrics(in_distribution_probs, ood_probs_by_name):
  """ood/{name}_{auroc,auprc,(1-fpr)@95tpr}: OOD examples positive, score =
  1 - the maximum probability (`metrics.ood_metrics`)."""
  in_scores = 1.0 - np.max(in_distribution_probs, axis=-1)
  result = {}
  for name, probs in ood_probs_by_name.items():
    for key, value in metrics.ood_metrics(in_scores,
                                          1.0 - np.max(probs, -1)).items():
      result[f'ood/{name}_{key}'] = value
  return result
