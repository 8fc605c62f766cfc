"""Tests for baselines/evaluation/metrics.py against loop-based references."""

import numpy as np
from sklearn import metrics as sklearn_metrics
import tensorflow as tf

from baselines.evaluation import metrics
from tests.baselines import reference_metrics as ref


def _random_probs(rng, n=200, k=5, members=None):
  shape = (n, k) if members is None else (members, n, k)
  logits = rng.normal(scale=2.0, size=shape)
  e = np.exp(logits - logits.max(-1, keepdims=True))
  return e / e.sum(-1, keepdims=True)


class MetricsTest(tf.test.TestCase):

  def setUp(self):
    super().setUp()
    self.rng = np.random.default_rng(0)
    self.probs = _random_probs(self.rng)
    self.labels = self.rng.integers(0, 5, 200)

  def test_model_metrics_match_reference(self):
    got = metrics.model_metrics(self.probs, self.labels, num_bins=15)
    self.assertAllClose(got['negative_log_likelihood'],
                        ref.nll(self.probs, self.labels))
    self.assertAllClose(got['accuracy'], ref.accuracy(self.probs, self.labels))
    self.assertAllClose(got['ece'], ref.ece(self.probs, self.labels, 15))
    self.assertAllClose(metrics.expected_calibration_error(
        self.probs, self.labels, 7), ref.ece(self.probs, self.labels, 7))

  def test_ece_by_hand(self):
    # Confidences 0.9 (correct, bin 3 of 4) and 0.6 (wrong, bin 2):
    # |1 - 0.9| / 2 + |0 - 0.6| / 2.
    probs = np.array([[0.9, 0.1], [0.4, 0.6]])
    labels = np.array([0, 0])
    self.assertAllClose(metrics.expected_calibration_error(probs, labels, 4),
                        0.35)
    # With 2 bins both fall in bin 1: |0.5 - 0.75|.
    self.assertAllClose(metrics.expected_calibration_error(probs, labels, 2),
                        0.25)
    # Confidence 1.0 goes to the last bin.
    self.assertAllClose(metrics.expected_calibration_error(
        np.array([[1.0, 0.0]]), np.array([0]), 10), 0.0)

  def test_streaming_ece_equals_numpy(self):
    metric = metrics.ExpectedCalibrationError(num_bins=15)
    for start in range(0, 200, 64):
      metric.update_state(self.labels[start:start + 64],
                          self.probs[start:start + 64].astype(np.float32))
    self.assertAllClose(float(metric.result()),
                        ref.ece(self.probs, self.labels), atol=1e-5)
    metric.reset_state()
    self.assertEqual(float(metric.result()), 0.0)

  def test_ensemble_and_diversity_match_reference(self):
    members = _random_probs(self.rng, members=3)
    mean = metrics.ensemble_probs(members)
    self.assertAllClose(metrics.negative_log_likelihood(mean, self.labels),
                        ref.ensemble_nll(members, self.labels))
    got = metrics.diversity(members)
    disagreement, kl = ref.disagreement_and_kl(members)
    self.assertAllClose(got['disagreement'], disagreement)
    self.assertAllClose(got['average_kl'], kl)
    cosine = np.mean([np.mean(np.sum(members[i] * members[j], -1) /
                              (np.linalg.norm(members[i], axis=-1) *
                               np.linalg.norm(members[j], axis=-1)))
                      for i, j in ((0, 1), (0, 2), (1, 2))])
    self.assertAllClose(got['cosine_similarity'], cosine)
    with self.assertRaisesRegex(ValueError, 'at least 2 members'):
      metrics.diversity(members[:1])

  def test_ood_metrics_by_hand(self):
    # 11 of 12 (in, ood) pairs ordered: AUROC 11/12.
    result = metrics.ood_metrics(np.array([0.1, 0.2, 0.3, 0.4]),
                                 np.array([0.35, 0.5, 0.6]))
    self.assertAllClose(result['auroc'], 11 / 12)
    # Average precision: ranks of positives 1, 2, 4: (1 + 1 + 3/4) / 3.
    self.assertAllClose(result['auprc'], (1 + 1 + 0.75) / 3)
    # TPR >= 0.95 needs all 3 positives: threshold 0.35, 1 of 4 negatives
    # above it, specificity 0.75.
    self.assertAllClose(result['(1-fpr)@95tpr'], 0.75)
    separated = metrics.ood_metrics(np.zeros(5), np.ones(5))
    self.assertAllClose(list(separated.values()), [1.0, 1.0, 1.0])

  def test_ood_auroc_and_auprc_are_scikit_learns_with_ties(self):
    rng = np.random.default_rng(0)
    in_scores = rng.integers(0, 6, 40) / 5.0  # Coarse: many ties.
    ood_scores = rng.integers(2, 8, 30) / 5.0
    result = metrics.ood_metrics(in_scores, ood_scores)
    labels = np.r_[np.zeros(40), np.ones(30)]  # OOD is the positive class.
    scores = np.r_[in_scores, ood_scores]
    self.assertAllClose(result['auroc'],
                        sklearn_metrics.roc_auc_score(labels, scores))
    self.assertAllClose(result['auprc'],
                        sklearn_metrics.average_precision_score(labels,
                                                                scores))

  def test_ood_auroc_equals_pairwise_count_with_ties(self):
    in_scores = self.rng.integers(0, 5, 50) / 4
    ood_scores = self.rng.integers(0, 5, 40) / 4
    pairs = [(o > i) + 0.5 * (o == i) for o in ood_scores for i in in_scores]
    self.assertAllClose(metrics.ood_metrics(in_scores, ood_scores)['auroc'],
                        np.mean(pairs))


class PairwiseDiversityTest(tf.test.TestCase):

  def test_matrices_against_loops_and_diversity_means(self):
    rng = np.random.default_rng(3)
    members = rng.dirichlet(np.ones(5), (4, 30))
    disagreement, kl = metrics.pairwise_diversity(members)
    self.assertAllEqual(disagreement, disagreement.T)
    self.assertAllEqual(np.diag(disagreement), np.zeros(4))
    self.assertAllClose(np.diag(kl), np.zeros(4), atol=1e-12)
    for i in range(4):
      for j in range(4):
        self.assertAllClose(disagreement[i, j], np.mean(
            np.argmax(members[i], -1) != np.argmax(members[j], -1)))
        self.assertAllClose(kl[i, j], np.mean(np.sum(
            members[i] * np.log(members[i] / members[j]), -1)))
    upper = np.triu_indices(4, 1)
    means = metrics.diversity(members)
    self.assertAllClose(disagreement[upper].mean(), means['disagreement'])
    self.assertAllClose(kl[upper].mean(), means['average_kl'])


if __name__ == '__main__':
  tf.test.main()
