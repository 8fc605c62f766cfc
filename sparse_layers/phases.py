"""EDST's plan: phases, their learning rates and where they end.

A `Phase` is a stretch of training with one LR pattern and an end action (a
ticket, a re-exploration). `edst_phases` is Algorithm 1's plan: exploration,
then M refinements, each ending in a ticket and (but the last) followed by a
re-exploration of rate q. `schedules.plan_learning_rate` makes a plan one LR
schedule over the optimizer's steps. The binaries' loop
(`baselines/training/loop.py`) and the `model.fit` callback (`edst_callback`)
both train through these. A plain value module: no TensorFlow.
"""

import dataclasses
import math
from typing import Optional, Tuple


@dataclasses.dataclass(frozen=True)
class Phase:
  """Epochs trained with one LR pattern, and what happens at their end.

  lr_multipliers: (fraction of the phase, multiplier of the base LR) pairs,
  the first at fraction 0, e.g. ((0, 0.1), (0.5, 0.01)).
  ticket_index: the ticket the phase ends in (None: none).
  reexplore_fraction: q of the re-exploration after the phase (EDST's
    Algorithm 1, line 20; None: none).
  """
  name: str
  epochs: int
  lr_multipliers: Tuple[Tuple[float, float], ...]
  ticket_index: Optional[int] = None
  reexplore_fraction: Optional[float] = None


def refinement_lr(refinement_epochs):
  """LR multipliers of a refinement phase (Section 3.3).

  0.01 and then 0.001 (0.1x and 0.01x of the exploration LR 0.1); the
  authors' code switches after ceil(t_re / 2) whole epochs.
  """
  half = math.ceil(refinement_epochs / 2) / refinement_epochs
  return ((0.0, 0.1), (half, 0.01))


def imagenet_refinement_lr(refinement_epochs):
  """LR multipliers of an ImageNet refinement phase (the authors' code).

  0.01, 0.001 and 0.0001 (0.1x, 0.01x, 0.001x of the exploration LR 0.1)
  from epochs 0, 30 and 60 of each 70-epoch refinement; for other t_re the
  same fractions 3/7 and 6/7, rounded to whole epochs.
  """
  pairs = [(0.0, 0.1)]
  for fraction, multiplier in ((3 / 7, 0.01), (6 / 7, 0.001)):
    start = round(fraction * refinement_epochs) / refinement_epochs
    if pairs[-1][0] < start < 1.0:  # Short phases skip a step.
      pairs.append((start, multiplier))
  return tuple(pairs)


def edst_phases(exploration_epochs, refinement_epochs, ensemble_size,
                reexploration_fraction, refinement_lr_fn=refinement_lr):
  """EDST: exploration at the base LR, then M refinements, each ending in a
  ticket and (but the last) followed by a re-exploration of rate q.

  Refinement j (0-based) ends in ticket j, as member j of the ensemble's
  `test/*_member_j` metrics.

  M = (t_total - t_ex) / t_re (Section 3.3). `refinement_lr_fn(t_re)`
  gives a refinement's LR multipliers (CIFAR: `refinement_lr`, ImageNet:
  `imagenet_refinement_lr`).

  `reexploration_fraction` None: no re-exploration (the paper's ablation
  without parameter exploration, Table 5).

  Raises:
    ValueError: unless t_ex >= 1, t_re >= 1, M >= 1 and q is None or in
      [0, 1].
  """
  for name, value in (('exploration_epochs', exploration_epochs),
                      ('refinement_epochs', refinement_epochs),
                      ('ensemble_size', ensemble_size)):
    if not isinstance(value, int) or value < 1:
      raise ValueError(f'{name} must be an integer >= 1, got {value!r}.')
  if reexploration_fraction is not None and not (
      0.0 <= reexploration_fraction <= 1.0):
    raise ValueError(f'reexploration_fraction must be in [0, 1], got '
                     f'{reexploration_fraction!r}.')
  phases = [Phase('exploration', exploration_epochs, ((0.0, 1.0),))]
  for j in range(ensemble_size):
    last = j == ensemble_size - 1
    phases.append(Phase(
        f'refinement_{j}', refinement_epochs,
        refinement_lr_fn(refinement_epochs),
        ticket_index=j,
        reexplore_fraction=None if last else reexploration_fraction))
  return phases
