"""Training plans: the phases of EDST (Algorithm 1) and of a single member."""

from baselines import train_loop

# Authors' code: refinement LR 0.01 for the first half, 0.001 for the second,
# i.e. 0.1x and 0.01x of the exploration LR (base LR 0.1 at batch 128).
REFINEMENT_LR = ((0.0, 0.1), (0.5, 0.01))


def edst_phases(exploration_epochs, refinement_epochs, ensemble_size,
                reexploration_fraction):
  """EDST: exploration at the base LR, then M refinements, each ending in a
  ticket and (but the last) followed by a re-exploration of rate q.

  M = (t_total - t_ex) / t_re (Section 3.3).
  """
  phases = [train_loop.Phase('exploration', exploration_epochs,
                             ((0.0, 1.0),))]
  for j in range(ensemble_size):
    last = j == ensemble_size - 1
    phases.append(train_loop.Phase(
        f'refinement_{j + 1}', refinement_epochs, REFINEMENT_LR,
        ticket_index=j,
        reexplore_fraction=None if last else reexploration_fraction))
  return phases


def member_phases(epochs, lr_multipliers, ticket_index):
  """One independently trained member (DST / static / dense): one phase."""
  return [train_loop.Phase(f'member_{ticket_index + 1}', epochs,
                           tuple(lr_multipliers), ticket_index=ticket_index)]


def rebased_lr_multipliers(lr_multipliers, start_fraction):
  """A whole run's (fraction, multiplier) pairs, for a run that starts at
  `start_fraction` of it (LTR retrains continue from the rewind point).
  """
  current = [m for f, m in lr_multipliers if f <= start_fraction][-1]
  rest = [((f - start_fraction) / (1.0 - start_fraction), m)
          for f, m in lr_multipliers if f > start_fraction]
  return ((0.0, current),) + tuple(rest)
