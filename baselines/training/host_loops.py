"""How many training steps one compiled loop runs before the host checks in.

The training loop (`loop.Run`) runs N steps in one compiled call, then
returns to the host, which checks for a non-finite loss and a preemption
notice (SIGTERM) and decides the next N. A notice is therefore answered at
the end of the loop that is running when it arrives. With `steps_per_loop`
given, N is that (never past the epoch's end, where the epoch is
evaluated). By default N is the rest of the epoch, or fewer: as many steps
as fit in `ANSWER_WITHIN_SECONDS` at the measured step time, so that a
notice (cloud TPUs and preemptible VMs give about 30 s) is answered in time.
The first loop of a process traces and compiles the step; it runs one step
and is not timed, and the second (one step) gives the first measurement;
each later loop's time updates it. A loop also ends where the sparsity
hook may change the masks (every ΔT), so that the host logs each layer's
sparsity there (`trainer.Trainer`). `compiled_loop` builds the loop and
`notice_poll` the host's check between loops.
"""

from typing import Optional

import tensorflow as tf

from baselines.runtime import preemption

ANSWER_WITHIN_SECONDS = 30.0


class LoopSizer:
  """Chooses each loop's number of steps (identical on every worker when
  they record the same, all-reduced, times)."""

  def __init__(self, steps_per_loop: Optional[int] = None,
               answer_within_seconds: float = ANSWER_WITHIN_SECONDS):
    if steps_per_loop is not None and steps_per_loop < 1:
      raise ValueError(f'steps_per_loop must be >= 1, got {steps_per_loop}.')
    self.steps_per_loop = steps_per_loop
    self.answer_within_seconds = answer_within_seconds
    self.seconds_per_step = None
    self._loops = 0

  def next_size(self, remaining_steps):
    """Steps of the next loop, at most `remaining_steps` (> 0)."""
    if self.steps_per_loop is not None:
      return min(self.steps_per_loop, remaining_steps)
    if self.seconds_per_step is None:
      return 1  # Tracing, then a first measurement.
    within = int(self.answer_within_seconds / max(self.seconds_per_step,
                                                  1e-9))
    return max(1, min(remaining_steps, within))

  def record(self, steps, seconds):
    """Records a finished loop of `steps` steps that took `seconds`."""
    self._loops += 1
    if self._loops > 1:  # The first loop of a process traces the step.
      self.seconds_per_step = seconds / steps


def compiled_loop(strategy, step, iterations):
  """tf.function(iterator, num_steps): `step(batch)` on every replica,
  num_steps times, without returning to the host.

  `iterations` (the optimizer's step) serves tests only: with
  `preemption.SIGTERM_AT_STEP_ENV` set, the loop sends the process a real
  SIGTERM after that step.
  """
  sigterm_step = preemption.test_sigterm_step()

  @tf.function
  def loop(iterator, num_steps):
    for _ in tf.range(num_steps):
      strategy.run(step, args=(next(iterator),))
      if sigterm_step is not None:  # Tests only: a real SIGTERM.
        if iterations == sigterm_step:
          tf.py_function(preemption.send_sigterm, [], [])

  return loop


def notice_poll(strategy, requested, multi_worker):
  """tf.function(seconds) -> (any worker got a preemption notice, mean loop
  seconds), the host's check after each loop.

  In a multi-worker run both are summed over workers (one all-reduce at
  each loop's end), so every worker stops at the same loop and sizes its
  next loop alike (`LoopSizer.record` of the mean).
  """

  @tf.function
  def poll(seconds):
    notice = tf.cast(requested, tf.float32)
    if not multi_worker:
      return notice > 0, seconds
    values = strategy.run(lambda: tf.stack([notice, seconds]))
    total = strategy.reduce(tf.distribute.ReduceOp.SUM, values, axis=None)
    return total[0] > 0, total[1] / strategy.num_replicas_in_sync

  return poll
