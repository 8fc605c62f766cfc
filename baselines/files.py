"""Atomic writes: a JSON file or a whole directory appears whole or not at all.

A process killed at any point (a preemption, `faults.crash_point`) leaves
either the previous file or directory or the new one, never a half-written
one; a stale temporary is replaced by the next write.
"""

import json
import os

import tensorflow as tf

from baselines import faults


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
  """Fills `path`.partial with write_fn(dir), then renames it to `path`."""
  partial = path + '.partial'
  if tf.io.gfile.exists(partial):
    tf.io.gfile.rmtree(partial)
  tf.io.gfile.makedirs(partial)
  write_fn(partial)
  faults.crash_point('ticket_write:' + os.path.basename(path))
  replace_dir(partial, path)


def replace_dir(source, target):
  """Moves directory `source` to `target`, replacing any old `target`."""
  if tf.io.gfile.exists(target):
    tf.io.gfile.rmtree(target)
  tf.io.gfile.makedirs(os.path.dirname(target))
  tf.io.gfile.rename(source, target)
