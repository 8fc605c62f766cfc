"""Preemption notices: SIGTERM stops training at the next step boundary.

Cloud TPUs and preemptible VMs announce a preemption with SIGTERM some
seconds before the machine goes. A Python signal handler would only run
when the compiled training loop returns, so `PreemptionNotice` has the
interpreter's C-level handler write the signal to a socket
(`signal.set_wakeup_fd`, whichever thread receives it) and a watcher thread
set a variable, which the host reads after each compiled loop
(`host_loops`: within about 30 s by default). The training loop then saves
a checkpoint of the partial epoch and exits with `EXIT_CODE`; a restart
resumes at that step (`train_loop.Run`).
"""

import os
import signal
import socket
import threading
import time

import tensorflow as tf

EXIT_CODE = 128 + signal.SIGTERM  # 143: "terminated by SIGTERM".

# Tests: the step (1-based) at which the run sends itself a real SIGTERM.
SIGTERM_AT_STEP_ENV = 'FREETICKETS_SIGTERM_AT_STEP'


class Preempted(Exception):
  """Raised after a preemption notice was answered with a checkpoint."""


class PreemptionNotice:
  """A variable set to True when the process receives SIGTERM.

  Install it in the main thread, once per process. While `active` (set by
  the training loop) SIGTERM only sets `requested`; otherwise it exits the
  process with `EXIT_CODE`.
  """

  def __init__(self):
    with tf.init_scope():
      self.requested = tf.Variable(False, trainable=False,
                                   name='preemption_requested')
    self._reader, writer = socket.socketpair()
    writer.setblocking(False)
    self._writer = writer
    # Training sets it: a notice is then answered by the loop; outside
    # training SIGTERM ends the process as usual.
    self.active = False
    # A Python-level handler makes the C handler record SIGTERM and write
    # its number to the wakeup socket; the watcher acts on it.
    signal.signal(signal.SIGTERM, self._handle)
    signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    threading.Thread(target=self._watch, daemon=True,
                     name='preemption_watcher').start()

  def _handle(self, signum, frame):
    del signum, frame
    if not self.active:
      raise SystemExit(EXIT_CODE)

  def _watch(self):
    while True:
      received = self._reader.recv(64)
      if not received:
        return
      if signal.SIGTERM in received:
        self.requested.assign(True)


_NOTICE = None


def notice():
  """The process's `PreemptionNotice` (installed at the first call)."""
  global _NOTICE
  if _NOTICE is None:
    _NOTICE = PreemptionNotice()
  return _NOTICE


def test_sigterm_step():
  """The global step after which a test run SIGTERMs itself, or None."""
  value = os.environ.get(SIGTERM_AT_STEP_ENV)
  return int(value) if value else None


def send_sigterm():
  """Sends this process a real SIGTERM (for tests, from inside a loop) and
  waits until the watcher has recorded it, so that the test's notice is
  answered at the end of the loop it arrived in."""
  os.kill(os.getpid(), signal.SIGTERM)
  deadline = time.time() + 10.0
  while not bool(notice().requested.numpy()) and time.time() < deadline:
    time.sleep(0.01)
