"""Files through `tf.io.gfile` (any TF filesystem: local, gs://, ram://),
written so that a reader never takes a half-written one for whole.

A file is written to a temporary and renamed. A directory (a ticket) is
complete only once its marker file is written, last. A process killed at
any point (a preemption, `faults.crash_point`) leaves the previous file or
the new one, and a directory either complete or visibly incomplete; the
next write replaces a stale temporary or an incomplete directory. The
readers (`read_bytes`, `read_json`, `read_npz`) turn a missing, empty,
truncated or foreign file into one `FileError` that names it and says what
to do; `read_bytes` also gives the file's size and sha256, computed while
it streams.
"""

import hashlib
import io
import json
import os
import zipfile

import numpy as np
import tensorflow as tf

from baselines.runtime import faults
from sparse_layers import tickets as ticket_files


class FileError(ValueError):
  """A file that cannot be used (missing, truncated, not what it should
  be); the message names it and says what to do."""


# Bytes per read when streaming a file through tf.io.gfile.
_CHUNK = 1 << 22


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


def read_bytes(path, hint=''):
  """(bytes, fingerprint) of the file at `path`, streamed once through
  `tf.io.gfile`; the fingerprint is {'size': bytes, 'sha256': hex digest}.

  Raises:
    FileError: naming the file, if it does not exist or cannot be read.
  """
  hasher, buffer = hashlib.sha256(), io.BytesIO()
  try:
    with tf.io.gfile.GFile(path, 'rb') as f:
      while True:
        chunk = f.read(_CHUNK)
        if not chunk:
          break
        hasher.update(chunk)
        buffer.write(chunk)
  except tf.errors.NotFoundError as e:
    raise FileError(_message(path, 'not found', hint)) from e
  except tf.errors.OpError as e:
    raise FileError(_message(path, f'cannot be read ({e.message})',
                             hint)) from e
  payload = buffer.getvalue()
  return payload, {'size': len(payload), 'sha256': hasher.hexdigest()}


def _message(path, problem, hint):
  return f'{path}: {problem}.' + (f' {hint}' if hint else '')


def read_npz(path, hint='', with_fingerprint=False):
  """{name: array} of an .npz file (read whole into memory); with
  `with_fingerprint`, ({name: array}, `read_bytes`' fingerprint).

  Raises:
    FileError: naming the file, if it is missing, empty, truncated or not
      an npz file, followed by `hint` (what to do).
  """
  payload, fingerprint = read_bytes(path, hint)
  if not payload:
    raise FileError(_message(path, 'is empty (0 bytes), not an npz file',
                             hint))
  try:
    # An in-memory buffer: the bytes came through tf.io.gfile above.
    arrays = np.load(io.BytesIO(payload))
    if not isinstance(arrays, np.lib.npyio.NpzFile):
      raise ValueError('a single array, not an npz archive')
    with arrays:
      result = {name: arrays[name] for name in arrays.files}
  except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
    raise FileError(_message(
        path, f'not a readable npz file ({type(e).__name__}: {e}); it may '
        f'be truncated or of another format', hint)) from e
  return (result, fingerprint) if with_fingerprint else result


def write_text(path, text):
  """Writes `text` to `path`, making its directory."""
  directory = os.path.dirname(path)
  if directory:
    tf.io.gfile.makedirs(directory)
  with tf.io.gfile.GFile(path, 'w') as f:
    f.write(text)


def read_json(path, hint=''):
  """The JSON object (a dict) in the file at `path`.

  Raises:
    FileError: naming the file, if it is missing, unreadable, not JSON or
      not a JSON object, followed by `hint` (what to do).
  """
  payload, _ = read_bytes(path, hint)
  try:
    value = json.loads(payload.decode('utf-8'))
  except (ValueError, UnicodeDecodeError) as e:
    problem = ('is empty (0 bytes), not JSON' if not payload else
               f'not valid JSON ({e}); it may be truncated')
    raise FileError(_message(path, problem, hint)) from e
  if not isinstance(value, dict):
    raise FileError(_message(
        path, f'holds a JSON {type(value).__name__}, not an object', hint))
  return value


def write_dir(path, write_files, write_marker):
  """`sparse_layers.tickets.write_dir` with a crash point before the
  completeness marker (`ticket_write:<name>`)."""
  ticket_files.write_dir(
      path, write_files, write_marker,
      lambda: faults.crash_point('ticket_write:' + os.path.basename(path)))
