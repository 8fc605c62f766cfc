"""Named crash points for preemption tests: a real SIGKILL, not an exception.

Set FREETICKETS_KILL_AT=point[,point...] (e.g. `run:epoch_end:2`,
`run:after_ticket:0`, `run:after_reexplore:refinement_0`,
`member_1:epoch_end:3`, `ticket_write:ticket_1`, `json_write:metrics.json`)
and the process kills itself with SIGKILL when it reaches that point, as a
preempted machine would. Unset, it does nothing.
"""

import os
import signal

ENV = 'FREETICKETS_KILL_AT'


def crash_point(name):
  """SIGKILLs this process if `name` is listed in $FREETICKETS_KILL_AT."""
  if name in os.environ.get(ENV, '').split(','):
    os.kill(os.getpid(), signal.SIGKILL)
