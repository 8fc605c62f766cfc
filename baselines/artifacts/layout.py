"""Where a run's outputs live under its output directory (UB's layout).

    output_dir/
      run.json, run.lock         the run's identity and its writer
      metrics.json               the end-of-run report
      summaries/                 TensorBoard: per epoch (EDST, one model;
                                 member_j/, gmp/ for the others) with
                                 hparams; ensemble/ (the final scalars)
      tickets/ticket_j/          the tickets (`ticket_store`)
      <run name>/                a run's checkpoints, preempted/ and
                                 candidates/ (run: EDST; member_j; gmp)
      trajectories/<run name>/   test predictions every N epochs
      gmp/rewind/                LTR's rewind point

`output_dir` is the chief's: a restart reads its state and tickets there.
`writes_to` is where this process writes: `output_dir`, or a non-chief
worker's scratch directory.
"""

import dataclasses
import os
from typing import Optional

from baselines.artifacts import ticket_store

METRICS_FILE = 'metrics.json'
SUMMARIES_DIR = 'summaries'


@dataclasses.dataclass(frozen=True)
class OutputLayout:
  """The paths of one run's outputs."""
  output_dir: str
  write_dir: Optional[str] = None

  @property
  def writes_to(self):
    """The directory this process writes its outputs to."""
    return self.write_dir or self.output_dir

  def summaries(self, *parts):
    """A TensorBoard directory: summaries/, or summaries/<parts>."""
    return os.path.join(self.writes_to, SUMMARIES_DIR, *parts)

  def metrics_file(self):
    return os.path.join(self.writes_to, METRICS_FILE)

  def ticket_dir(self, index):
    """Ticket `index` (read and written at the chief's output_dir)."""
    return ticket_store.ticket_dir(self.output_dir, index)

  def run_dir(self, run_name, written=False):
    """A run's state: the chief's (resumed from), or this process's."""
    return os.path.join(self.writes_to if written else self.output_dir,
                        run_name)

  def rewind_dir(self, written=False):
    """LTR's rewind point: the chief's (read), or this process's."""
    return os.path.join(self.run_dir('gmp', written), 'rewind')
