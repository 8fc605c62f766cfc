"""Progress of a long run: remaining-time estimate, durations, LR display."""

import time


class EtaClock:
  """Estimates the time left from the epochs a process has trained.

  The first epoch of a process includes tracing and compiling the train and
  eval functions, which can take longer than many later epochs, so once a
  second epoch has ended, the estimate uses only the epochs after the first.
  """

  def __init__(self, now=None):
    self._start = time.time() if now is None else now
    self._epoch_ends = []

  def epoch_done(self, epochs_left, now=None):
    """Records an epoch's end; returns the estimated seconds left."""
    self._epoch_ends.append(time.time() if now is None else now)
    if len(self._epoch_ends) == 1:
      per_epoch = self._epoch_ends[0] - self._start
    else:
      per_epoch = ((self._epoch_ends[-1] - self._epoch_ends[0]) /
                   (len(self._epoch_ends) - 1))
    return per_epoch * epochs_left


def format_duration(seconds):
  """'HH:MM:SS', with a day count in front beyond 24 h: '2d 03:04:05'."""
  days, rest = divmod(int(round(max(seconds, 0))), 86400)
  hours, rest = divmod(rest, 3600)
  minutes, secs = divmod(rest, 60)
  clock = f'{hours:02d}:{minutes:02d}:{secs:02d}'
  return f'{days}d {clock}' if days else clock


def format_learning_rate(first, last):
  """The LR applied over an epoch: '0.1', or '0.02→0.1' when it changed.

  `first` and `last` are the LRs of the epoch's first and last steps, so a
  warm-up epoch shows what it ramped through, not its first step's 0.
  """
  if f'{first:.4g}' == f'{last:.4g}':
    return f'{first:.4g}'
  return f'{first:.4g}→{last:.4g}'
