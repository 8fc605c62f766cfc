"""Files through `tf.io.gfile` (any TF filesystem: local, gs://, ram://),
written so that a reader never takes a half-written one for whole.

A file is written to a temporary and renamed. A directory (a ticket) is
complete only once its marker file is written, last. A process killed at
any point (a preemption, `faults.crash_point`) leaves the previous file or
the new one, and a directory either complete or visibly incomplete; the
next write replaces a stale temporary or an incomplete directory.
"""

import io
import json
import os

import numpy as np
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


def write_bytes_atomic(path, payload, make_dirs=False):
  """Writes bytes to `path` via a temporary file and a rename (making its
  directory first with `make_dirs`)."""
  if make_dirs and os.path.dirname(path):
    tf.io.gfile.makedirs(os.path.dirname(path))
  tmp = f'{path}.tmp'
  with tf.io.gfile.GFile(tmp, 'wb') as f:
    f.write(payload)
  tf.io.gfile.rename(tmp, path, overwrite=True)


def write_npz(path, **arrays):
  """Writes numpy arrays as an .npz file at `path`, atomically."""
  buffer = io.BytesIO()  # np.savez seeks; a GFile opened for writing cannot.
  np.savez(buffer, **arrays)
  write_bytes_atomic(path, buffer.getvalue())


def read_npz(path):
  """{name: array} of an .npz file (read whole into memory)."""
  with tf.io.gfile.GFile(path, 'rb') as f:
    payload = f.read()
  with np.load(io.BytesIO(payload)) as arrays:
    return {name: arrays[name] for name in arrays.files}


def write_text(path, text):
  """Writes `text` to `path`, making its directory."""
  directory = os.path.dirname(path)
  if directory:
    tf.io.gfile.makedirs(directory)
  with tf.io.gfile.GFile(path, 'w') as f:
    f.write(text)


def read_json(path):
  """The JSON value in the file at `path`."""
  with tf.io.gfile.GFile(path) as f:
    return json.load(f)


def write_dir(path, write_files, write_marker):
  """`sparse_layers.tickets.write_dir` with a crash point before the
  completeness marker (`ticket_write:<name>`)."""
  ticket_files.write_dir(
      path, write_files, write_marker,
      lambda: faults.crash_point('ticket_write:' + os.path.basename(path)))
