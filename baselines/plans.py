"""Training plans: EDST's phases (Algorithm 1), a member's phase; LR steps."""

import math

from baselines import phases as phases_lib


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
  """
  phases = [phases_lib.Phase('exploration', exploration_epochs,
                             ((0.0, 1.0),))]
  for j in range(ensemble_size):
    last = j == ensemble_size - 1
    phases.append(phases_lib.Phase(
        f'refinement_{j}', refinement_epochs,
        refinement_lr_fn(refinement_epochs),
        ticket_index=j,
        reexplore_fraction=None if last else reexploration_fraction))
  return phases


def member_phases(epochs, lr_multipliers, ticket_index):
  """One independently trained member (DST / static / dense): one phase."""
  return [phases_lib.Phase(f'member_{ticket_index}', epochs,
                           tuple(lr_multipliers), ticket_index=ticket_index)]


def decay_multipliers(lr_decay_epochs, lr_decay_ratio, train_epochs,
                      reference_epochs=200):
  """(fraction of training, LR multiplier) pairs of UB's step decays.

  Decay i (0-based) multiplies the LR by ratio^(i + 1) from whole epoch
  int(lr_decay_epochs[i]) * train_epochs // reference_epochs (UB's scaling
  of epochs given for 200 on CIFAR, for 90 on ImageNet; for 100 and 150 of
  200, the authors' int(epochs / 2) and int(epochs * 3 / 4)).
  """
  pairs = [(0.0, 1.0)]
  for i, start in enumerate(lr_decay_epochs):
    epoch = int(start) * train_epochs // reference_epochs
    pairs.append((epoch / train_epochs, lr_decay_ratio**(i + 1)))
  return tuple(pairs)


def rebased_lr_multipliers(lr_multipliers, start_fraction):
  """A whole run's (fraction, multiplier) pairs, for a run that starts at
  `start_fraction` of it (LTR retrains continue from the rewind point).
  """
  current = [m for f, m in lr_multipliers if f <= start_fraction][-1]
  rest = [((f - start_fraction) / (1.0 - start_fraction), m)
          for f, m in lr_multipliers if f > start_fraction]
  return ((0.0, current),) + tuple(rest)
