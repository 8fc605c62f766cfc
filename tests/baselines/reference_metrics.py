"""Independent, loop-based reference metrics for cross-checking baselines."""

import math

import numpy as np


def nll(probs, labels):
  return -float(np.mean([math.log(p[y]) for p, y in zip(probs, labels)]))


def accuracy(probs, labels):
  return float(np.mean([int(np.argmax(p)) == y for p, y in zip(probs, labels)]))


def ece(probs, labels, num_bins=15):
  bins = [[] for _ in range(num_bins)]
  for p, y in zip(probs, labels):
    confidence = float(max(p))
    index = min(int(confidence * num_bins), num_bins - 1)
    bins[index].append((confidence, float(int(np.argmax(p)) == y)))
  total = 0.0
  for entries in bins:
    if entries:
      gap = abs(np.mean([c for _, c in entries]) -
                np.mean([conf for conf, _ in entries]))
      total += len(entries) / len(labels) * gap
  return total


def ensemble_nll(member_probs, labels):
  mean = np.mean(member_probs, axis=0)
  return nll(mean, labels)


def disagreement_and_kl(member_probs):
  pairs = []
  m = len(member_probs)
  for i in range(m):
    for j in range(i + 1, m):
      dis = np.mean([int(np.argmax(a)) != int(np.argmax(b))
                     for a, b in zip(member_probs[i], member_probs[j])])
      kl = np.mean([sum(pa * math.log(pa / pb) for pa, pb in zip(a, b))
                    for a, b in zip(member_probs[i], member_probs[j])])
      pairs.append((dis, kl))
  return (float(np.mean([d for d, _ in pairs])),
          float(np.mean([k for _, k in pairs])))
