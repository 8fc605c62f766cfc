"""Metrics as UB and robustness-metrics define them (google/uncertainty-baselines,
google-research/robustness_metrics).

Numpy functions over predicted probabilities (evaluation, ensembles, OOD) and a
streaming Keras ECE for training. Ensembles average the members' softmax
probabilities; diversity is averaged over unordered member pairs.
"""

import numpy as np
import tensorflow as tf

from sparse_layers.keras_alias import keras

_TINY = np.finfo(np.float32).tiny


def accuracy(probs, labels):
  """Top-1 accuracy (argmax, ties to the lowest index)."""
  return float(np.mean(np.argmax(probs, axis=-1) == labels))


def negative_log_likelihood(probs, labels):
  """Mean -log p(y); p clipped at the smallest float32 to stay finite."""
  picked = np.take_along_axis(probs, labels[:, None].astype(np.int64), -1)[:, 0]
  return float(-np.mean(np.log(np.maximum(picked, _TINY))))


def ece_bins(probs, labels, num_bins=15):
  """Per-bin (count, correct, confidence sum): the streamable ECE state."""
  confidence = np.max(probs, axis=-1)
  correct = (np.argmax(probs, axis=-1) == labels).astype(np.float64)
  bins = np.minimum(np.floor(confidence * num_bins).astype(np.int64),
                    num_bins - 1)
  counts = np.bincount(bins, minlength=num_bins).astype(np.float64)
  return (counts, np.bincount(bins, correct, num_bins),
          np.bincount(bins, confidence.astype(np.float64), num_bins))


def ece_from_bins(counts, correct, confidence):
  total = counts.sum()
  if total == 0:
    return 0.0
  nonempty = counts > 0
  gaps = np.abs(correct[nonempty] - confidence[nonempty]) / counts[nonempty]
  return float(np.sum(counts[nonempty] / total * gaps))


def expected_calibration_error(probs, labels, num_bins=15):
  """RM's ExpectedCalibrationError: sum_b n_b/N |acc_b - conf_b|."""
  return ece_from_bins(*ece_bins(probs, labels, num_bins))


def model_metrics(probs, labels, num_bins=15):
  """{'negative_log_likelihood', 'accuracy', 'ece'} of one prediction set."""
  return {'negative_log_likelihood': negative_log_likelihood(probs, labels),
          'accuracy': accuracy(probs, labels),
          'ece': expected_calibration_error(probs, labels, num_bins)}


def ensemble_probs(member_probs):
  """Mean of the members' probabilities; member_probs is [M, N, K]."""
  return np.mean(np.asarray(member_probs, np.float64), axis=0)


def gibbs_cross_entropy(member_probs, labels):
  """UB ensemble.py's Gibbs cross entropy: the members' mean NLL.

  E_m[-log p_m(y | x)] averaged over examples (the expected loss of one
  member drawn at random), against the ensemble's -log E_m[p_m(y | x)].
  """
  return float(np.mean([negative_log_likelihood(p, labels)
                        for p in member_probs]))


def pairwise_diversity(member_probs):
  """[M, M] matrices of disagreement and KL(p_i || p_j) between members.

  disagreement[i, j]: the fraction of examples whose top-1 predictions of
  members i and j differ (symmetric, zero diagonal); kl[i, j]: the mean
  over examples of KL(p_i || p_j). Their means over pairs i < j are
  `diversity`'s 'disagreement' and 'average_kl'.
  """
  member_probs = np.asarray(member_probs, np.float64)
  predictions = np.argmax(member_probs, axis=-1)
  logs = np.log(np.maximum(member_probs, _TINY))
  num_members = member_probs.shape[0]
  disagreement = np.zeros((num_members, num_members))
  kl = np.zeros((num_members, num_members))
  for i in range(num_members):
    for j in range(num_members):
      disagreement[i, j] = np.mean(predictions[i] != predictions[j])
      kl[i, j] = np.mean(np.sum(member_probs[i] * (logs[i] - logs[j]), -1))
  return disagreement, kl


def diversity(member_probs):
  """RM's AveragePairwiseDiversity over pairs i < j (needs M >= 2).

  Returns:
    dict with 'disagreement', 'average_kl' (KL(p_i || p_j)) and
    'cosine_similarity', each averaged over pairs and examples.
  """
  member_probs = np.asarray(member_probs, np.float64)
  num_members = member_probs.shape[0]
  if num_members < 2:
    raise ValueError('diversity needs at least 2 members.')
  predictions = np.argmax(member_probs, axis=-1)
  logs = np.log(np.maximum(member_probs, _TINY))
  norms = np.linalg.norm(member_probs, axis=-1)
  totals = {'disagreement': 0.0, 'average_kl': 0.0, 'cosine_similarity': 0.0}
  pairs = 0
  for i in range(num_members):
    for j in range(i + 1, num_members):
      p, q = member_probs[i], member_probs[j]
      totals['disagreement'] += np.mean(predictions[i] != predictions[j])
      totals['average_kl'] += np.mean(np.sum(p * (logs[i] - logs[j]), -1))
      totals['cosine_similarity'] += np.mean(
          np.sum(p * q, -1) / np.maximum(norms[i] * norms[j], _TINY))
      pairs += 1
  return {key: float(value / pairs) for key, value in totals.items()}


def _roc_points(scores, is_positive):
  """TPR and FPR at every distinct threshold, highest threshold first."""
  order = np.argsort(-scores, kind='stable')
  scores, is_positive = scores[order], is_positive[order]
  last_of_value = np.r_[np.flatnonzero(np.diff(scores)), scores.size - 1]
  true_pos = np.cumsum(is_positive)[last_of_value]
  false_pos = (last_of_value + 1) - true_pos
  return (np.r_[0, true_pos] / max(is_positive.sum(), 1),
          np.r_[0, false_pos] / max((~is_positive).sum(), 1),
          np.r_[0, true_pos], np.r_[0, last_of_value + 1])


def ood_metrics(in_distribution_scores, ood_scores):
  """OOD detection: the OOD examples are the positive class, and a larger
  score means more likely OOD (UB's convention).

  Args:
    in_distribution_scores: scores of in-distribution test examples.
    ood_scores: scores of OOD examples (UB: 1 - the maximum softmax
      probability; of an ensemble, of the members' mean).

  Returns:
    dict with 'auroc' (the ROC curve over every distinct score as a
    threshold, integrated by the trapezoid rule, so tied scores count
    half), 'auprc' (average precision, sum over distinct thresholds of
    (recall_t - recall_{t-1}) * precision_t, without interpolation, as
    scikit-learn's `average_precision_score`) and '(1-fpr)@95tpr' (the
    best specificity at any threshold whose sensitivity is at least 0.95).
  """
  scores = np.concatenate([in_distribution_scores, ood_scores]).astype(
      np.float64)
  is_positive = np.r_[np.zeros(len(in_distribution_scores), bool),
                      np.ones(len(ood_scores), bool)]
  tpr, fpr, true_pos, predicted_pos = _roc_points(scores, is_positive)
  auroc = float(np.trapezoid(tpr, fpr))
  precision = true_pos[1:] / predicted_pos[1:]
  auprc = float(np.sum(np.diff(tpr) * precision))
  specificity = float(np.max(1.0 - fpr[tpr >= 0.95]))
  return {'auroc': auroc, 'auprc': auprc, '(1-fpr)@95tpr': specificity}


def one_hot_confidence_bins(confidence, num_bins, dtype):
  """[N, num_bins] one-hot ECE bin of each confidence, on the device.

  Bin b holds confidences in [b / num_bins, (b + 1) / num_bins), the last
  bin also 1.0 (as `ece_bins`). Clipped, so that a non-finite confidence
  (a diverged step, which the training loop stops) cannot fail the op.
  """
  bins = tf.clip_by_value(tf.cast(confidence * num_bins, tf.int32), 0,
                          num_bins - 1)
  return tf.one_hot(bins, num_bins, dtype=dtype)


class ExpectedCalibrationError(keras.metrics.Metric):
  """Streaming ECE (same bins as `expected_calibration_error`), for training.

  Takes labels and probabilities; keeps per-bin counts, correct sums and
  confidence sums, so it aggregates across batches and replicas.
  """

  def __init__(self, num_bins=15, name='ece', **kwargs):
    super().__init__(name=name, **kwargs)
    self.num_bins = num_bins
    shape = (num_bins,)
    self.counts = self.add_weight('counts', shape, initializer='zeros')
    self.correct = self.add_weight('correct', shape, initializer='zeros')
    self.confidence = self.add_weight('confidence', shape, initializer='zeros')

  def update_state(self, labels, probs, sample_weight=None):
    del sample_weight  # Unused.
    probs = tf.cast(probs, tf.float32)
    confidence = tf.reduce_max(probs, axis=-1)
    correct = tf.cast(tf.equal(tf.argmax(probs, axis=-1, output_type=tf.int64),
                               tf.cast(labels, tf.int64)), tf.float32)
    in_bin = one_hot_confidence_bins(confidence, self.num_bins, tf.float32)
    self.counts.assign_add(tf.reduce_sum(in_bin, axis=0))
    self.correct.assign_add(tf.reduce_sum(in_bin * correct[:, None], axis=0))
    self.confidence.assign_add(tf.reduce_sum(in_bin * confidence[:, None],
                                             axis=0))

  def result(self):
    total = tf.reduce_sum(self.counts)
    safe = tf.maximum(self.counts, 1.0)
    gaps = tf.abs(self.correct - self.confidence) / safe
    return tf.math.divide_no_nan(tf.reduce_sum(self.counts * gaps), total)

  def reset_state(self):
    for variable in (self.counts, self.correct, self.confidence):
      variable.assign(tf.zeros_like(variable))

  def get_config(self):
    return {**super().get_config(), 'num_bins': self.num_bins}
