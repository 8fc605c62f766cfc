"""Atomic writes: a JSON file or a whole directory appears whole or not at all.

A process killed at any point (a preemption, `faults.crash_point`) leaves
either the previous file or directory or the new one, never a half-written
one; a stale temporary is replaced by the next write.
"""

import json
import os

import tensorflow as tf

from baselines import faults
from sparse_layers import tickets as ticket_files


def write_json_atomic(path, payload):
  """Writes JSON to `path` via a temporary file and a rename."""
  tmp = f'{path}.tmp'
  with tf.io.gfile.GFile(tmp, 'w') as f:
    json.dump(payload, f, indent=1, sort_keys=True)
  faults.crash_point('json_write:' + os.path.basename(path))
  tf.io.gfile.rename(tmp, path, overwrite=True)


def write_bytes_atomic(path, payload):
  """Writes bytes to `path` via a temporary file and a rename."""
  tmp = f'{path}.tmp'
  with tf.io.gfile.GFile(tmp, 'wb') as f:
    f.write(payload)
  tf.io.gfile.rename(tmp, path, overwrite=True)


def write_dir_atomic(path, write_fn):
  """`sparse_layers.tickets.write_dir_atomic` with a crash point before the
  rename (`ticket_write:<name>`)."""
  ticket_files.write_dir_atomic(
      path, write_fn,
      lambda: faults.crash_point('ticket_write:' + os.path.basename(path)))
