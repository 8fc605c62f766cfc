"""Points of a run's trajectory: its test predictions every N epochs.

`trajectories/<run name>/epoch_<epoch>.npz` holds the test probabilities,
the phase and the epoch: the points of the paper's Figure 3 (t-SNE of the
test predictions along training, `baselines/analysis/trajectories.py`).
"""

import os

import numpy as np
import tensorflow as tf

from baselines.runtime import files

TRAJECTORIES_DIR = 'trajectories'


def save_trajectory_point(output_dir, run_name, epoch, phase_name, probs):
  """Writes trajectories/<run_name>/epoch_<epoch>.npz (probs, phase) whole."""
  directory = os.path.join(output_dir, TRAJECTORIES_DIR, run_name)
  tf.io.gfile.makedirs(directory)
  files.write_npz(os.path.join(directory, f'epoch_{epoch:04d}.npz'),
                  probs=probs.astype(np.float32), phase=phase_name,
                  epoch=epoch)
