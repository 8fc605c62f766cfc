"""Matplotlib set-up shared by the plotting tools: files, not windows.

Imported only by the tools that draw (diversity, trajectories, sweeps),
so the training binaries do not load matplotlib.
"""

import io

import matplotlib

matplotlib.use('Agg')  # Files only; no display needed.
from matplotlib import pyplot  # pylint: disable=g-import-not-at-top,wrong-import-position

from baselines.runtime import files


def figure(width=6.0, height=4.5):
  """A new (figure, axes)."""
  return pyplot.subplots(figsize=(width, height))


def save(fig, path):
  """Writes `fig` as a PNG at `path` (any TF filesystem; directories made)
  and closes it."""
  fig.tight_layout()
  buffer = io.BytesIO()
  fig.savefig(buffer, format='png', dpi=120)
  pyplot.close(fig)
  files.write_bytes_atomic(path, buffer.getvalue(), make_dirs=True)
  return path
