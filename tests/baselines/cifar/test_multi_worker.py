"""A short EDST on MultiWorkerMirroredStrategy: two local worker processes.

TF_CONFIG names two workers on localhost ports; both train in lockstep and
only the chief (worker 0) writes the outputs. A SIGTERM to worker 1 alone
stops both at the same step (both save and exit 143); a kill of both at an
epoch end follows; restarts of both resume from the chief's checkpoints to
the same tickets as an uninterrupted run (--deterministic, CPU).
"""

import json
import os
import re
import socket
import subprocess
import sys

import numpy as np
import tensorflow as tf

from tests.baselines import binary_testing as bt

# Synchronized BatchNorm: both workers' moving statistics are equal, so the
# checkpoint (their mean) restores them exactly.
ARGS = bt.SPARSE_FLAGS + ['--exploration_epochs=1', '--refinement_epochs=1',
                          '--ensemble_size=2', '--deterministic',
                          '--per_core_batch_size=16', '--sync_batch_norm']


def _free_ports(count):
  sockets = [socket.socket() for _ in range(count)]
  for s in sockets:
    s.bind(('localhost', 0))
  ports = [s.getsockname()[1] for s in sockets]
  for s in sockets:
    s.close()
  return ports


def _run_workers(output_dir, kill_at=None, sigterm_worker_1_at=None):
  """Starts both workers, waits for both; returns their results."""
  ports = _free_ports(2)
  processes = []
  for index in range(2):
    config = {'cluster': {'worker': [f'localhost:{p}' for p in ports]},
              'task': {'type': 'worker', 'index': index}}
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2',
               TF_CONFIG=json.dumps(config))
    env.pop('FREETICKETS_KILL_AT', None)
    if kill_at:
      env['FREETICKETS_KILL_AT'] = kill_at
    env.pop('FREETICKETS_SIGTERM_AT_STEP', None)
    if sigterm_worker_1_at and index == 1:
      env['FREETICKETS_SIGTERM_AT_STEP'] = str(sigterm_worker_1_at)
    processes.append(subprocess.Popen(
        [sys.executable, '-m', 'tests.baselines.mock_run',
         'baselines.cifar.edst', '64'] + ARGS + [f'--output_dir={output_dir}'],
        cwd=bt.ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True))
  results = []
  for process in processes:
    _, stderr = process.communicate(timeout=600)
    results.append((process.returncode, stderr))
  return results


def _digests(stderr):
  return re.findall(r'digest of its weights and masks (\w+)', stderr)


class MultiWorkerTest(tf.test.TestCase):

  def test_two_workers_agree_chief_writes_and_restart_resumes(self):
    straight = os.path.join(self.get_temp_dir(), 'straight')
    results = _run_workers(straight)
    for code, stderr in results:
      self.assertEqual(code, 0, stderr[-3000:])
      self.assertIn('replicas, global batch 32', stderr)  # 2 x 16.
    # Both workers end with the same weights and masks.
    self.assertEqual(_digests(results[0][1]), _digests(results[1][1]))
    self.assertLen(_digests(results[0][1]), 1)
    # Only the chief wrote: one event file per summary directory, and the
    # other worker's scratch directory is gone.
    for directory in ('summaries', 'summaries/ensemble'):
      events = [n for n in os.listdir(os.path.join(straight, directory))
                if n.startswith('events.out')]
      self.assertLen(events, 1, directory)
    scratch = re.search(r'this worker writes to (\S+) \(removed',
                        results[1][1]).group(1)
    self.assertFalse(os.path.exists(scratch))
    self.assertLen(os.listdir(os.path.join(straight, 'tickets')), 2)

    # 2 steps an epoch. Worker 1 alone gets a SIGTERM after step 3 (in
    # epoch 2): both stop there, the chief saves it, both exit 143.
    resumed = os.path.join(self.get_temp_dir(), 'resumed')
    results = _run_workers(resumed, sigterm_worker_1_at=3)
    steps = []
    for code, stderr in results:
      self.assertEqual(code, 143, stderr[-3000:])
      steps += re.findall(r'SIGTERM\) answered at global step (\d+)', stderr)
    # The same step on both (the watcher thread sets the notice within a
    # step or two of the signal).
    self.assertLen(steps, 2)
    self.assertEqual(steps[0], steps[1])
    self.assertBetween(int(steps[0]), 3, 5)
    self.assertTrue(os.path.exists(os.path.join(resumed, 'run', 'preempted')))
    # Restarted, both killed at the end of epoch 3 (before its
    # checkpoint), then both restarted again.
    for code, stderr in _run_workers(resumed, kill_at='run:epoch_end:3'):
      self.assertEqual(code, -9)
      self.assertIn(f'preempted/ckpt-{steps[0]} at epoch', stderr)
    self.assertFalse(os.path.exists(os.path.join(resumed, 'metrics.json')))
    for code, stderr in _run_workers(resumed):
      self.assertEqual(code, 0, stderr[-3000:])
      self.assertIn('resumed from', stderr)
    expected, found = bt.fingerprint(straight), bt.fingerprint(resumed)
    self.assertEqual(sorted(expected), sorted(found))
    for key, value in expected.items():
      np.testing.assert_array_equal(found[key], value, err_msg=key)


if __name__ == '__main__':
  tf.test.main()
