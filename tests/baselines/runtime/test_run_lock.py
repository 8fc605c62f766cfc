"""Tests for baselines/runtime/run_lock.py: one process per output dir."""

import json
import os
import socket
import subprocess
import tempfile
import time
from unittest import mock

import tensorflow as tf

from baselines.runtime import run_lock


def _write_lock(directory, **holder):
  path = os.path.join(directory, run_lock.LOCK_FILE)
  with open(path, 'w') as f:
    json.dump(holder, f)
  return path


class RunLockTest(tf.test.TestCase):

  def setUp(self):
    super().setUp()
    self.dir = tempfile.mkdtemp()
    self.path = os.path.join(self.dir, run_lock.LOCK_FILE)

  def test_acquire_writes_the_holder_and_release_removes_it(self):
    lock = run_lock.RunLock(self.dir).acquire()
    with open(self.path) as f:
      holder = json.load(f)
    self.assertEqual(holder['pid'], os.getpid())
    self.assertEqual(holder['host'], socket.gethostname())
    self.assertLessEqual(holder['started'], holder['refreshed'])
    lock.release()
    self.assertFalse(os.path.exists(self.path))
    lock.release()  # Twice is harmless.

  def test_live_holder_on_this_host_refuses(self):
    sleeper = subprocess.Popen(['sleep', '60'])
    try:
      _write_lock(self.dir, token='x', host=socket.gethostname(),
                  pid=sleeper.pid, started=time.time(),
                  refreshed=time.time())
      with open(self.path) as f:
        before = f.read()
      with self.assertRaisesRegex(run_lock.RunLockedError,
                                  f'process {sleeper.pid} on host'):
        run_lock.RunLock(self.dir).acquire()
      with open(self.path) as f:
        self.assertEqual(f.read(), before)
    finally:
      sleeper.kill()
      sleeper.wait()
    # Now gone: taken over.
    with self.assertLogs(level='WARNING') as logs:
      lock = run_lock.RunLock(self.dir).acquire()
    self.assertIn('no longer runs on this host', '\n'.join(logs.output))
    lock.release()

  def test_other_host_is_stale_only_after_the_documented_time(self):
    now = time.time()
    holder = dict(token='x', host='elsewhere', pid=1, started=now - 10_000)
    self.assertIsNone(run_lock.stale_reason(
        dict(holder, refreshed=now - run_lock.STALE_SECONDS + 5), now))
    self.assertIn('not refreshed for', run_lock.stale_reason(
        dict(holder, refreshed=now - run_lock.STALE_SECONDS - 5), now))
    _write_lock(self.dir, **holder, refreshed=now)
    with self.assertRaisesRegex(run_lock.RunLockedError, 'host elsewhere'):
      run_lock.RunLock(self.dir).acquire()

  def test_refresh_thread_updates_the_time(self):
    with mock.patch.object(run_lock, 'REFRESH_SECONDS', 0.05):
      lock = run_lock.RunLock(self.dir).acquire()
      with open(self.path) as f:
        first = json.load(f)['refreshed']
      time.sleep(0.5)
      with open(self.path) as f:
        self.assertGreater(json.load(f)['refreshed'], first)
      lock.release()

  def test_release_all_releases_what_this_process_took(self):
    run_lock.acquire(self.dir)
    self.assertTrue(os.path.exists(self.path))
    run_lock.release_all()
    self.assertFalse(os.path.exists(self.path))


if __name__ == '__main__':
  tf.test.main()
