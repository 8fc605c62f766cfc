"""A training method as the binaries run it.

Each method module (`edst`, `members`, `ltr`) defines its `Method`s and the
registry (`registry.METHODS`) holds them by name: the name its runs record
in `run.json` and `metrics.json`, and under which its card says how it is
reported (`baselines/evaluation/method_cards.py`).
"""

import dataclasses
from typing import Callable, Mapping

# How a method's masks come about.
MASKS = ('dst', 'static', 'pruned', 'none')


@dataclasses.dataclass(frozen=True)
class Method:
  """name: the method's name.
  masked: whether it trains masked (sparse) networks.
  masks: 'dst' (masks change every ΔT: RigL, or SET with --growth=random),
    'static' (drawn once, never changed), 'pruned' (LTR: gradual magnitude
    pruning to S) or 'none' (dense).
  quick_flags: the flags --quick sets besides the small model and data
    (`experiment.apply_quick_mode`).
  train: (method, flag_values, task) -> the run's report: the algorithm.
  """
  name: str
  masked: bool
  masks: str
  quick_flags: Mapping[str, object]
  train: Callable

  def __post_init__(self):
    if self.masks not in MASKS:
      raise ValueError(f'masks must be one of {MASKS}, got {self.masks!r}.')
