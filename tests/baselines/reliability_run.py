"""Damaged, replaced and contended state, all in one process.

  python -m tests.baselines.reliability_run DIRECTORY

Trains one tiny DST ensemble (M = 2, one `--member_index` job per member,
2 epochs each, --deterministic), then meets it as a careless user would:
data replaced in place, files truncated or garbled, a ticket deleted, a
damaged checkpoint, a copied run given to the report, a second process on
the same output directory, Ctrl-C during training, and the exported model
fed raw images. Each case runs in a copy of the run (`in_process`) and
records its exit code, message, traceback and whether the copy's files
changed. Prints one JSON line after `RESULT `.
"""

import hashlib
import json
import logging as pylogging
import os
import shutil
import socket
import subprocess
import sys
import time

# Keras 2 is chosen before TensorFlow loads, as the binaries do.
from sparse_layers import keras_alias  # pylint: disable=unused-import,g-bad-import-order
import numpy as np  # pylint: disable=g-bad-import-order
import tensorflow as tf

from absl import logging
from tests.baselines import binary_testing as bt
from tests.baselines import in_process

DST = 'baselines.cifar.dst_ensemble'
FLAGS = bt.SPARSE_FLAGS + ['--ensemble_size=2', '--train_epochs=2',
                           '--deterministic', '--seed=5']


class _Collect(pylogging.Handler):
  """The WARNING and ERROR lines a run logs."""

  def __init__(self):
    super().__init__(pylogging.WARNING)
    self.lines = []

  def emit(self, record):
    self.lines.append(record.getMessage())


def snapshot(directory):
  """{relative path: sha256} of every file under `directory` (the lock,
  which a finished process removes, left out)."""
  found = {}
  for root, _, names in os.walk(directory):
    for name in names:
      path = os.path.join(root, name)
      if name != 'run.lock':
        with open(path, 'rb') as f:
          found[os.path.relpath(path, directory)] = hashlib.sha256(
              f.read()).hexdigest()
  return found


def sha256(path):
  with open(path, 'rb') as f:
    return hashlib.sha256(f.read()).hexdigest()


def predictions(path):
  with np.load(os.path.join(path, 'predictions.npz')) as arrays:
    return arrays['probs'].tolist()


class Cases:
  """Runs the cases; `results[name]` is what a test checks."""

  def __init__(self, root):
    self.root = root
    self.results = {}
    os.makedirs(os.path.join(root, 'data'), exist_ok=True)
    self.train, self.test = bt.write_learnable_npz(
        os.path.join(root, 'data'), 256, 96)
    self.flags = FLAGS + [f'--train_npz={self.train}',
                          f'--test_npz={self.test}']
    self.base = os.path.join(root, 'base')

  def run(self, module, args, define=None, main=None):
    """(exit code, warnings and errors logged + the exit message,
    traceback or None) of one run in this process."""
    logged = _Collect()
    logging.get_absl_logger().addHandler(logged)
    try:
      code, message, trace = in_process.outcome(
          module, [module] + args, define=define, main=main)
    finally:
      logging.get_absl_logger().removeHandler(logged)
    return code, '\n'.join(logged.lines + [message]), trace

  def case(self, name, prepare=None, args=None, source=None, module=DST,
           cleanup=None):
    """Copies `source` (the base run) to DIRECTORY/name, prepares it, runs
    `module` there and records the outcome."""
    out = os.path.join(self.root, name)
    if source is not False:
      shutil.copytree(source or self.base, out)
    if prepare:
      prepare(out)
    before = snapshot(out) if os.path.isdir(out) else {}
    try:
      code, message, trace = self.run(
          module, (self.flags if args is None else args) +
          [f'--output_dir={out}'])
    finally:
      if cleanup:
        cleanup()
    self.results[name] = {
        'code': code, 'message': message, 'traceback': trace,
        'unchanged': (snapshot(out) if os.path.isdir(out) else {}) == before,
        'lock_left': os.path.exists(os.path.join(out, 'run.lock'))}
    return out

  def train_base(self):
    first = self.run(DST, self.flags + ['--member_index=0',
                                        f'--output_dir={self.base}'])
    self.after_member0 = os.path.join(self.root, 'after_member0')
    shutil.copytree(self.base, self.after_member0)
    second = self.run(DST, self.flags + ['--member_index=1',
                                         f'--output_dir={self.base}'])
    self.results['base'] = {'codes': [first[0], second[0]],
                            'message': first[1][-2000:] + second[1][-2000:]}
    self.ticket1 = predictions(os.path.join(self.base, 'tickets', 'ticket_1'))

  def replace_in_place(self, path):
    """Replaces an npz with other images of the same shapes; returns a
    function that puts the original back."""
    original = path + '.original'
    shutil.copy(path, original)
    with np.load(path) as arrays:
      x, y = arrays['x'], arrays['y']
    np.savez(path, x=255 - x, y=y)
    self.results.setdefault('sha256', {})[path] = [sha256(original),
                                                   sha256(path)]
    return lambda: shutil.move(original, path)

  def data_cases(self):
    self.case('test_replaced', cleanup=self.replace_in_place(self.test))
    self.case('train_replaced_between_members', source=self.after_member0,
              args=self.flags + ['--member_index=1'],
              cleanup=self.replace_in_place(self.train))
    other = os.path.join(self.root, 'data', 'other_test.npz')
    with np.load(self.test) as arrays:
      np.savez(other, x=arrays['x'][::-1], y=arrays['y'][::-1])
    tickets = [os.path.join(self.base, 'tickets', f'ticket_{j}')
               for j in range(2)]
    self.case('ensemble_other_test', source=False,
              module='baselines.cifar.ensemble',
              args=[f'--test_npz={other}',
                    f'--checkpoint_dirs={",".join(tickets)}'])

  def damage_cases(self):

    def relabel(out):
      path = os.path.join(out, 'tickets', 'ticket_1', 'predictions.npz')
      with np.load(path) as arrays:
        probs, labels = arrays['probs'], arrays['labels']
      np.savez(path, probs=probs, labels=np.roll(labels, 1))

    def truncate(relative):
      def prepare(out):
        path = os.path.join(out, relative)
        with open(path, 'rb') as f:
          payload = f.read()
        with open(path, 'wb') as f:
          f.write(payload[:len(payload) // 2])
      return prepare

    self.case('labels_mismatch', relabel)
    self.case('run_json_truncated', truncate('run.json'))
    self.case('ticket_json_truncated',
              truncate('tickets/ticket_0/ticket.json'))
    self.case('predictions_truncated',
              truncate('tickets/ticket_1/predictions.npz'))
    out = self.case('ticket_deleted', lambda out: shutil.rmtree(
        os.path.join(out, 'tickets', 'ticket_1')))
    # The message's advice, followed: the member is trained again.
    shutil.rmtree(os.path.join(out, 'member_1'))
    code, message, _ = self.run(DST, self.flags + ['--member_index=1',
                                                   f'--output_dir={out}'])
    self.results['ticket_deleted']['advice_followed'] = {
        'code': code, 'message': message[-2000:],
        'same_ticket': predictions(os.path.join(
            out, 'tickets', 'ticket_1')) == self.ticket1}

  def checkpoint_cases(self):

    def damage(numbers, delete_ticket=True):
      def prepare(out):
        directory = os.path.join(out, 'member_1', 'checkpoints')
        for number in numbers:
          path = os.path.join(directory,
                              f'ckpt-{number}.data-00000-of-00001')
          with open(path, 'r+b') as f:
            f.seek(os.path.getsize(path) // 2)
            byte = f.read(1)
            f.seek(-1, 1)
            f.write(bytes([byte[0] ^ 0xFF]))
        if delete_ticket:
          shutil.rmtree(os.path.join(out, 'tickets', 'ticket_1'))
      return prepare

    out = self.case('checkpoint_damaged', damage([2]))
    self.results['checkpoint_damaged']['same_ticket'] = predictions(
        os.path.join(out, 'tickets', 'ticket_1')) == self.ticket1
    self.case('checkpoints_all_damaged', damage([1, 2]))


def report_cases(cases):
  """The report given one run thrice, a copied run, a damaged metrics.json."""
  report = 'baselines.analysis.report'
  define = lambda m: m.define_flags()
  copy = os.path.join(cases.root, 'copied_run')
  shutil.copytree(cases.base, copy)
  link = os.path.join(cases.root, 'linked_run')
  os.symlink(cases.base, link)
  json_path = os.path.join(cases.root, 'table.json')
  code, message, _ = cases.run(report, [cases.base, cases.base + '/', link,
                                        f'--json={json_path}'], define)
  with open(json_path) as f:
    rows = json.load(f)['cifar10']
  cases.results['report_same_dir_thrice'] = {
      'code': code, 'rows': len(rows), 'seeds': rows[0]['seeds']}
  code, message, _ = cases.run(report, [cases.base, copy], define)
  cases.results['report_copied_run'] = {'code': code, 'message': message}
  broken = os.path.join(cases.root, 'broken_metrics')
  shutil.copytree(cases.base, broken)
  with open(os.path.join(broken, 'metrics.json'), 'w') as f:
    f.write('{"metrics": {"test/acc')
  code, message, _ = cases.run(report, [broken], define)
  cases.results['report_metrics_truncated'] = {'code': code,
                                              'message': message}


def lock_cases(cases):
  """A lock held by a live process, then by a process that is gone."""
  sleeper = subprocess.Popen(['sleep', '300'])

  def lock(pid):
    def prepare(out):
      now = time.time()
      with open(os.path.join(out, 'run.lock'), 'w') as f:
        json.dump({'token': 'other', 'host': socket.gethostname(),
                   'pid': pid, 'started': now - 5, 'refreshed': now}, f)
    return prepare
  try:
    cases.case('lock_live', lock(sleeper.pid))
    cases.results['lock_live']['pid'] = sleeper.pid
  finally:
    sleeper.kill()
    sleeper.wait()
  # A holder that is gone (the sleeper, now dead): taken over.
  cases.case('lock_stale', lock(sleeper.pid))


def interrupt_case(cases):
  """Ctrl-C inside member 0 (after step 5, inside the loop of steps 5-8:
  loops end at each mask update, every 4 steps), then a restart."""
  os.environ['FREETICKETS_SIGTERM_AT_STEP'] = '5'
  os.environ['FREETICKETS_TEST_SIGNAL'] = 'INT'
  try:
    out = cases.case('ctrl_c', source=False)
  finally:
    del os.environ['FREETICKETS_SIGTERM_AT_STEP']
    del os.environ['FREETICKETS_TEST_SIGNAL']
  cases.results['ctrl_c']['preempted'] = sorted(os.listdir(
      os.path.join(out, 'member_0', 'preempted')))
  code, message, _ = cases.run(DST, cases.flags + [f'--output_dir={out}'])
  cases.results['ctrl_c']['resumed'] = {
      'code': code, 'message': message[-3000:],
      'same_tickets': [predictions(os.path.join(
          out, 'tickets', f'ticket_{j}')) == predictions(os.path.join(
              cases.base, 'tickets', f'ticket_{j}')) for j in range(2)]}


def export_case(cases):
  """The base run's tickets exported and served raw uint8 test images."""
  tickets = [os.path.join(cases.base, 'tickets', f'ticket_{j}')
             for j in range(2)]
  out = os.path.join(cases.root, 'export')
  code, message, trace = cases.run(
      'sparse_layers.export', tickets + [f'--output={out}'],
      define=lambda m: m.define_flags(),
      main=lambda argv: sys.modules['sparse_layers.export'].main(
          argv, in_process.FLAGS))
  if code:
    raise RuntimeError(f'export failed: {message}{trace or ""}')
  served = tf.saved_model.load(os.path.join(out, 'saved_model'))
  with np.load(cases.test) as arrays:
    x, y = arrays['x'], arrays['y']
  probs = served.signatures['serving_default'](
      images=tf.constant(x))['probabilities'].numpy()
  mean = np.mean([predictions(t) for t in tickets], 0)
  with open(os.path.join(cases.base, 'metrics.json')) as f:
    accuracy = json.load(f)['metrics']['test/accuracy']
  with open(os.path.join(out, 'export.json')) as f:
    metadata = json.load(f)
  cases.results['export_raw_images'] = {
      'accuracy': float(np.mean(np.argmax(probs, 1) == y)),
      'run_accuracy': accuracy,
      'max_abs_difference': float(np.max(np.abs(probs - mean))),
      'metadata': metadata}


def main(root):
  cases = Cases(root)
  cases.train_base()
  cases.data_cases()
  cases.damage_cases()
  cases.checkpoint_cases()
  report_cases(cases)
  lock_cases(cases)
  interrupt_case(cases)
  export_case(cases)
  print('RESULT ' + json.dumps(cases.results))


if __name__ == '__main__':
  main(sys.argv[1])
