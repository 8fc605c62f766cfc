"""Training plans of the binaries: a member's phase; UB's LR steps.

EDST's phases (Algorithm 1) are `sparse_layers.phases.edst_phases`.
"""

from sparse_layers import phases as phases_lib


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
