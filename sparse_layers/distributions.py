"""Layer-wise sparsity distributions: uniform, ER and ERK (pure functions).

FreeTickets Section 3.2 and Appendix A.1.1; RigL (Evci et al. 2020), Sec. 3.
A layer's raw score is `sum(shape) / prod(shape)` (ERK) or the same over the
last two dimensions (ER), raised to `erk_power_scale`. Densities are
`eps * raw`, with `eps` solved so that the non-zeros over all masked layers are
`(1 - S) * total`; layers that would exceed density 1 are made dense and `eps`
is solved again over the rest (as RigL's code, google-research/rigl).
"""

import math
from typing import Mapping, Optional, Sequence

import numpy as np

DISTRIBUTIONS = ('uniform', 'er', 'erk')


def check_sparsity(sparsity, name='sparsity'):
  """Raises ValueError unless 0 <= sparsity < 1."""
  if not isinstance(sparsity, (int, float)) or not 0.0 <= sparsity < 1.0:
    raise ValueError(f'{name} must be in [0, 1), got {sparsity!r}.')


def _check_distribution(distribution):
  if distribution not in DISTRIBUTIONS:
    raise ValueError(f'distribution must be one of {DISTRIBUTIONS}, got '
                     f'{distribution!r}.')


def raw_scores(shapes, distribution='erk', erk_power_scale=1.0):
  """Unnormalised per-layer density scores.

  Args:
    shapes: mapping layer name -> kernel shape.
    distribution: 'uniform', 'er' or 'erk'.
    erk_power_scale: exponent of the ER/ERK score (1 = ERK, 0 = uniform).

  Returns:
    dict layer name -> score.
  """
  _check_distribution(distribution)
  if erk_power_scale < 0:
    raise ValueError(f'erk_power_scale must be >= 0, got {erk_power_scale}.')
  scores = {}
  for name, shape in shapes.items():
    if distribution == 'uniform':
      scores[name] = 1.0
      continue
    dims = list(shape) if distribution == 'erk' else list(shape)[-2:]
    scores[name] = (sum(dims) / math.prod(dims))**erk_power_scale
  return scores


def layer_densities(shapes: Mapping[str, Sequence[int]],
                    sparsity: float,
                    distribution: str = 'erk',
                    erk_power_scale: float = 1.0,
                    fixed_densities: Optional[Mapping[str, float]] = None):
  """Per-layer densities whose weighted mean is `1 - sparsity`.

  Args:
    shapes: mapping layer name -> kernel shape, over all masked layers.
    sparsity: overall sparsity S in [0, 1) over the masked layers.
    distribution: 'uniform', 'er' or 'erk'.
    erk_power_scale: exponent of the raw score (1 = ERK as in the paper).
    fixed_densities: layer name -> density in (0, 1] for layers whose density
      is set (dense first layer, explicit classifier sparsity, overrides); the
      other layers share the remaining budget.

  Returns:
    dict layer name -> density in (0, 1].

  Raises:
    ValueError: on bad arguments, or when the fixed layers alone exceed the
      budget of non-zeros.
  """
  check_sparsity(sparsity)
  fixed = dict(fixed_densities or {})
  unknown = sorted(set(fixed) - set(shapes))
  if unknown:
    raise ValueError(f'fixed_densities names unknown layers: {unknown}.')
  for name, density in fixed.items():
    if not 0.0 < density <= 1.0:
      raise ValueError(f'density of layer {name!r} must be in (0, 1], got '
                       f'{density!r}.')
  scores = raw_scores(shapes, distribution, erk_power_scale)
  sizes = {name: math.prod(shape) for name, shape in shapes.items()}
  budget = (1.0 - sparsity) * sum(sizes.values())
  free = [name for name in shapes if name not in fixed]
  while free:
    rhs = budget - sum(fixed[n] * sizes[n] for n in fixed)
    if rhs <= 0:
      raise ValueError(
          f'the fixed layer densities use {budget - rhs:.0f} non-zeros, more '
          f'than the {budget:.0f} that sparsity={sparsity} allows.')
    eps = rhs / sum(scores[n] * sizes[n] for n in free)
    max_score = max(scores[n] for n in free)
    if eps * max_score <= 1.0:
      fixed.update({n: eps * scores[n] for n in free})
      break
    # Cap every layer holding the current maximum score at density 1, re-solve.
    for name in [n for n in free if scores[n] == max_score]:
      fixed[name] = 1.0
      free.remove(name)
  return {name: fixed[name] for name in shapes}


def nonzero_counts(shapes, densities, sparsity):
  """Integer non-zeros per layer; their total is round((1 - S) * total).

  Layers at density 1 stay dense; the others are rounded by largest
  remainder, so the total density is 1 - S to within one weight.

  Args:
    shapes: mapping layer name -> kernel shape.
    densities: mapping layer name -> density, from `layer_densities`.
    sparsity: the overall sparsity the densities were solved for.

  Returns:
    dict layer name -> number of non-zeros.
  """
  sizes = {name: math.prod(shape) for name, shape in shapes.items()}
  exact = {name: densities[name] * sizes[name] for name in shapes}
  counts = {name: min(sizes[name], math.floor(exact[name])) for name in shapes}
  target = round((1.0 - sparsity) * sum(sizes.values()))
  adjustable = sorted(
      (n for n in shapes if counts[n] < sizes[n]),
      key=lambda n: (counts[n] - exact[n], n))
  for name in adjustable[:max(0, target - sum(counts.values()))]:
    counts[name] += 1
  return counts


def random_mask(shape, nonzeros, seed):
  """A 0/1 float32 mask with exactly `nonzeros` ones at seeded positions.

  Args:
    shape: the kernel shape.
    nonzeros: number of ones, 0 <= nonzeros <= prod(shape).
    seed: an int or a sequence of ints (e.g. [seed, layer_index]).

  Returns:
    np.ndarray of `shape`, dtype float32.
  """
  size = math.prod(shape)
  if not 0 <= nonzeros <= size:
    raise ValueError(f'nonzeros must be in [0, {size}], got {nonzeros}.')
  flat = np.zeros(size, np.float32)
  flat[np.random.default_rng(seed).permutation(size)[:nonzeros]] = 1.0
  return flat.reshape(shape)
