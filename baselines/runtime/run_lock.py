"""One live run per output directory: `output_dir/run.lock`.

A binary takes the lock before it writes anything into its output
directory and holds it until it exits. The lock file (JSON, through
`tf.io.gfile`, so it works on gs://) names its holder: a random token,
the host, the process id, the start time and the time it was last
refreshed; a thread refreshes it every `REFRESH_SECONDS`. A second process
is refused, naming the holder. A lock is stale, and is taken over with a
warning, when its holder is gone (same host, no such process) or it was
not refreshed for `STALE_SECONDS` (a holder on another host that died).
Object stores have no exclusive create, so after writing the lock a taker
reads it back and is refused if another taker's token is there.
"""

import atexit
import os
import socket
import threading
import time
import uuid

from absl import logging
import tensorflow as tf

from baselines.runtime import files

LOCK_FILE = 'run.lock'
REFRESH_SECONDS = 60.0
# Ten missed refreshes: a holder on another host is taken for dead.
STALE_SECONDS = 600.0


class RunLockedError(ValueError):
  """Another live process holds the output directory."""


def _process_alive(pid):
  try:
    os.kill(pid, 0)
  except ProcessLookupError:
    return False
  except PermissionError:
    return True  # Someone else's process.
  return True


def _describe(holder):
  started = time.strftime('%Y-%m-%d %H:%M:%S',
                          time.localtime(holder.get('started', 0)))
  return (f'process {holder.get("pid")} on host {holder.get("host")}, '
          f'started {started}, refreshed '
          f'{time.time() - holder.get("refreshed", 0):.0f} s ago')


def stale_reason(holder, now=None):
  """Why `holder`'s lock is stale, or None if it is live."""
  now = time.time() if now is None else now
  if holder.get('host') == socket.gethostname():
    if not _process_alive(int(holder.get('pid', -1))):
      return f'process {holder.get("pid")} no longer runs on this host'
    return None
  age = now - float(holder.get('refreshed', 0))
  if age > STALE_SECONDS:
    return f'not refreshed for {age:.0f} s (> {STALE_SECONDS:.0f} s)'
  return None


class RunLock:
  """The lock of one output directory, held by this process."""

  def __init__(self, output_dir):
    self.path = os.path.join(output_dir, LOCK_FILE)
    self.holder = {'token': uuid.uuid4().hex, 'host': socket.gethostname(),
                   'pid': os.getpid(), 'started': time.time()}
    self._stop = threading.Event()
    self._thread = None

  def _read(self):
    try:
      return files.read_json(self.path)
    except files.FileError as e:
      if not tf.io.gfile.exists(self.path):
        return None
      # A torn or foreign lock file: its holder cannot be named.
      logging.warning('%s', e)
      return {}

  def _write(self):
    self.holder['refreshed'] = time.time()
    files.write_json_atomic(self.path, self.holder)

  def acquire(self):
    """Takes the lock, or raises RunLockedError naming its live holder."""
    found = self._read()
    if found is not None and found.get('token') != self.holder['token']:
      reason = stale_reason(found) if found else 'its file is unreadable'
      if reason is None:
        raise RunLockedError(
            f'{os.path.dirname(self.path)} is in use by another run '
            f'({_describe(found)}); nothing was changed. Wait for it to '
            f'end, or use a new --output_dir. (If that process is gone, '
            f'the lock is taken over {STALE_SECONDS:.0f} s after its last '
            f'refresh, or remove {self.path}.)')
      logging.warning('%s: taking over a stale lock (%s): %s.', self.path,
                      _describe(found) if found else 'unknown holder',
                      reason)
    tf.io.gfile.makedirs(os.path.dirname(self.path))
    self._write()
    if (self._read() or {}).get('token') != self.holder['token']:
      raise RunLockedError(f'{self.path}: another process took the lock at '
                           f'the same time; nothing was changed.')
    self._thread = threading.Thread(target=self._refresh, daemon=True,
                                    name='run_lock_refresh')
    self._thread.start()
    atexit.register(self.release)
    return self

  def _refresh(self):
    while not self._stop.wait(REFRESH_SECONDS):
      try:
        if (self._read() or {}).get('token') != self.holder['token']:
          logging.error('%s: another process took over this run\'s lock.',
                        self.path)
          return
        self._write()
      except (tf.errors.OpError, OSError, ValueError) as e:
        logging.warning('%s: cannot refresh the lock (%s).', self.path, e)

  def release(self):
    """Stops refreshing and removes the lock file if this process holds it."""
    if self._stop.is_set():
      return
    self._stop.set()
    try:
      if (self._read() or {}).get('token') == self.holder['token']:
        tf.io.gfile.remove(self.path)
    except (tf.errors.OpError, OSError, ValueError) as e:
      logging.warning('%s: cannot remove the lock (%s).', self.path, e)


_HELD = []


def acquire(output_dir):
  """Takes `output_dir`'s lock for this process (see `RunLock`)."""
  lock = RunLock(output_dir).acquire()
  _HELD.append(lock)
  return lock


def release_all():
  """Releases every lock this process took (at the end of a binary)."""
  while _HELD:
    _HELD.pop().release()

