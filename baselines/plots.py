"""Matplotlib set-up shared by the plotting tools: files, not windows.

Imported only by the tools that draw (diversity, trajectories, sweeps),
so the training binaries do not load matplotlib.
"""

import os

import matplotlib

matplotlib.use('Agg')  # Files only; no display needed.
from matplotlib import pyplot  # pylint: disable=g-import-not-at-top,wrong-import-position


def figure(width=6.0, height=4.5):
  """A new (figure, axes)."""
  return pyplot.subplots(figsize=(width, height))


def save(fig, path):
  """Writes `fig` as a PNG at `path` (directories made) and closes it."""
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  fig.tight_layout()
  fig.savefig(path, dpi=120)
  pyplot.close(fig)
  return path
