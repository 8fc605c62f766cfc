"""`Phase`: a stretch of training with one LR pattern and an end action.

A plain value type, low in the stack (no TensorFlow): `plans` builds
phases, `train_loop.Run` trains through them.
"""

import dataclasses
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
