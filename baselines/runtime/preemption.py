"""Preemption notices: SIGTERM stops training at the next step boundary.

Cloud TPUs and preemptible VMs announce a preemption with SIGTERM some
seconds before the machine goes. A Python signal handler would only run
when the compiled training loop returns, so `PreemptionNotice` has the
interpreter's C-level handler write the signal to a socket
(`signal.set_wakeup_fd`, whichever thread receives it) and a watcher thread
set a variable, which the host reads after each compiled loop
(`host_loops`: within about 30 s by default). The training loop then saves
a checkpoint of the partial epoch and exits with `EXIT_CODE`; a restart
resumes at that step (`loop.Run`). Ctrl-C (SIGINT) during training is
answered the same way and exits with `INTERRUPT_EXIT_CODE`; outside
training it stops the process at once (KeyboardInterrupt).
"""

import os
import signal
import socket
import threading
import time

import tensorflow as tf

EXIT_CODE = 128 + signal.SIGTERM  # 143: "terminated by SIGTERM".
INTERRUPT_EXIT_CODE = 128 + signal.SIGINT  # 130: the shell's Ctrl-C code.
_SIGNALS = {signal.SIGTERM: ('preemption notice (SIGTERM)', EXIT_CODE),
            signal.SIGINT: ('interrupt (Ctrl-C)', INTERRUPT_EXIT_CODE)}

# Tests: the step (1-based) at which the run sends itself a real SIGTERM
# (or the signal named by SIGNAL_ENV: 'INT' for Ctrl-C).
SIGTERM_AT_STEP_ENV = 'FREETICKETS_SIGTERM_AT_STEP'
SIGNAL_ENV = 'FREETICKETS_TEST_SIGNAL'


class Preempted(Exception):
  """Raised after a notice (SIGTERM, Ctrl-C) was answered with a checkpoint.

  exit_code: the process's exit status (143 for SIGTERM, 130 for Ctrl-C).
  """

  def __init__(self, message, exit_code=EXIT_CODE):
    super().__init__(message)
    self.exit_code = exit_code


class PreemptionNotice:
  """A variable set to True when the process receives SIGTERM or SIGINT.

  Install it in the main thread, once per process. While `active` (set by
  the training loop) a signal only sets `requested` (and `received`, the
  first signal's number); otherwise SIGTERM exits the process with
  `EXIT_CODE` and SIGINT raises KeyboardInterrupt.
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
    self.received = None
    # A Python-level handler makes the C handler record the signal and
    # write its number to the wakeup socket; the watcher acts on it.
    signal.signal(signal.SIGTERM, self._handle)
    signal.signal(signal.SIGINT, self._handle)
    signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    threading.Thread(target=self._watch, daemon=True,
                     name='preemption_watcher').start()

  def _handle(self, signum, frame):
    del frame
    if self.active:
      return
    if signum == signal.SIGINT:
      raise KeyboardInterrupt
    raise SystemExit(EXIT_CODE)

  def _watch(self):
    while True:
      received = self._reader.recv(64)
      if not received:
        return
      for signum in _SIGNALS:
        if signum in received:
          if self.received is None:
            self.received = signum
          self.requested.assign(True)

  def reset(self):
    """Forgets an answered notice (before a run starts training; outside
    training a signal ends the process, so none is pending then)."""
    self.received = None
    self.requested.assign(False)

  def answer(self):
    """(what was received, its exit code), for the message and the exit."""
    return _SIGNALS[self.received or signal.SIGTERM]


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
  os.kill(os.getpid(), getattr(signal, 'SIG' + os.environ.get(SIGNAL_ENV,
                                                              'TERM')))
  deadline = time.time() + 10.0
  while not bool(notice().requested.numpy()) and time.time() < deadline:
    time.sleep(0.01)
