"""Predictions and UB-keyed metric dicts: test, ensemble, corrupted, OOD.

Everything here works on predicted probabilities, so the metrics of an
ensemble equal a direct numpy computation from its members' saved
predictions.
"""

import numpy as np
import tensorflow as tf

from baselines import data
from baselines import metrics


def predict(model, split, batch_size, preprocessing):
  """(probabilities [N, K] float32, labels [N]) of `model` on a split.

  `preprocessing` is the training dataset's `data.Preprocessing`.
  """
  dataset = data.eval_dataset(split, batch_size, preprocessing)
  logits = model.predict(dataset.map(lambda x, y: x), verbose=0)
  # Labels straight from the split, without decoding and normalising again.
  labels = np.concatenate(
      [y.numpy() for y in split.dataset.map(lambda x, y: y).batch(4096)])
  probs = tf.nn.softmax(tf.cast(logits, tf.float32)).numpy()
  return probs, labels


def model_metrics(probs, labels, prefix='test/', num_bins=15):
  """UB keys for one model: {prefix}negative_log_likelihood, accuracy, ece."""
  return {prefix + key: value
          for key, value in metrics.model_metrics(probs, labels,
                                                  num_bins).items()}


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


def corrupted_metrics(predict_fn, corrupted_splits, num_bins=15):
  """CIFAR-10-C metrics: per (corruption, intensity), per intensity, overall.

  Args:
    predict_fn: split -> (probs, labels), e.g. an ensemble's mean.
    corrupted_splits: dict (corruption, intensity) -> `data.Split`.
    num_bins: ECE bins.

  Returns:
    dict with test/{nll,accuracy,ece}_{corruption}_{intensity},
    test/{...}_mean_{intensity} and test/{...}_mean_corrupted.
  """
  short = {'negative_log_likelihood': 'nll', 'accuracy': 'accuracy',
           'ece': 'ece'}
  result = {}
  by_intensity = {}
  for (corruption, intensity), split in sorted(corrupted_splits.items()):
    probs, labels = predict_fn(split)
    for key, value in metrics.model_metrics(probs, labels, num_bins).items():
      result[f'test/{short[key]}_{corruption}_{intensity}'] = value
      by_intensity.setdefault((short[key], intensity), []).append(value)
  for name in short.values():
    means = []
    for intensity in sorted({i for (n, i) in by_intensity if n == name}):
      mean = float(np.mean(by_intensity[(name, intensity)]))
      result[f'test/{name}_mean_{intensity}'] = mean
      means.append(mean)
    if means:
      result[f'test/{name}_mean_corrupted'] = float(np.mean(means))
  return result


def ood_metrics(in_distribution_probs, ood_probs_by_name):
  """ood/{name}_{auroc,auprc,(1-fpr)@95tpr}; score = 1 - max probability."""
  in_scores = 1.0 - np.max(in_distribution_probs, axis=-1)
  result = {}
  for name, probs in ood_probs_by_name.items():
    for key, value in metrics.ood_metrics(in_scores,
                                          1.0 - np.max(probs, -1)).items():
      result[f'ood/{name}_{key}'] = value
  return result
