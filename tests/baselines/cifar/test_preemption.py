"""Preemption: SIGKILL at named points, restart, and get the same result.

Every kill is a real SIGKILL of the binary's process
(baselines/runtime/faults.py). A chain of kills and restarts must end with tickets (every mask bit and
weight), predictions and metrics identical to an uninterrupted run with the
same seed, on CPU with --deterministic.
"""

import os
import re
import signal
import tempfile

import numpy as np
import tensorflow as tf

from tests.baselines import binary_testing as bt

EDST = ('baselines.cifar.edst', bt.SPARSE_FLAGS + [
    '--ensemble_size=2', '--exploration_epochs=2', '--refinement_epochs=2',
    '--deterministic', '--seed=3'])
DST = ('baselines.cifar.dst_ensemble', bt.SPARSE_FLAGS + [
    '--ensemble_size=2', '--train_epochs=2', '--deterministic', '--seed=3'])
LTR = ('baselines.cifar.ltr_ensemble', bt.TINY_FLAGS + [
    '--ensemble_size=2', '--train_epochs=4', '--ltr_rewind_fraction=0.25',
    '--ltr_prune_begin=0.25', '--ltr_prune_end=0.75', '--pruning_frequency=1',
    '--deterministic', '--seed=3'])


def _untimed(history):
  """The history without wall-clock figures (*/ms_per_example)."""
  return [{k: v for k, v in entry.items() if not k.endswith('ms_per_example')}
          for entry in history]


class PreemptionTest(tf.test.TestCase):

  # Uninterrupted runs by binary module, shared by the tests of a process.
  _references = {}

  def _reference(self, binary, fresh=False):
    module, args = binary
    if fresh or module not in self._references:
      out = tempfile.mkdtemp()
      bt.check(bt.run(module, args + [f'--output_dir={out}']))
      self._references[module] = out, bt.fingerprint(out)
    return self._references[module]

  def _kill_chain(self, binary, kill_points, inspect=None):
    """Kills at each point in turn (restarting in between), then finishes."""
    module, args = binary
    out = tempfile.mkdtemp()
    for point in kill_points:
      result = bt.run(module, args + [f'--output_dir={out}'], kill_at=point)
      self.assertEqual(result.returncode, -signal.SIGKILL,
                       f'{point} was not reached:\n{result.stderr[-3000:]}')
      if inspect:
        inspect(point, out)
    final = bt.check(bt.run(module, args + [f'--output_dir={out}']))
    return out, final

  def _assert_same(self, reference, out):
    got = bt.fingerprint(out)
    self.assertEqual(sorted(got), sorted(reference))
    for key, value in reference.items():
      self.assertAllEqual(got[key], value, msg=key)

  def test_sigterm_mid_epoch_saves_that_step_and_resumes_exactly(self):
    reference_dir, reference = self._reference(EDST)
    module, args = EDST
    # Loops of 2 steps (3 an epoch), also ending at each mask update
    # (every 4 steps): epoch 3 runs steps 7-8, then 9. The uninterrupted
    # reference ran whole-epoch loops: loop sizes change nothing.
    args = args + ['--steps_per_loop=2']
    out = tempfile.mkdtemp()
    # A SIGTERM after global step 7 arrives inside the loop of steps 7-8:
    # answered at that loop's end, step 8.
    result = bt.run(module, args + [f'--output_dir={out}'], sigterm_at_step=7)
    self.assertEqual(result.returncode, 143, result.stderr[-3000:])
    match = re.search(r'preemption notice \(SIGTERM\) answered at global '
                      r'step (\d+) \(epoch 3, step (\d+) of 3\)',
                      result.stderr)
    self.assertIsNotNone(match, result.stderr[-3000:])
    step, in_epoch = int(match.group(1)), int(match.group(2))
    self.assertEqual((step, in_epoch), (8, 2))
    self.assertNotIn('Traceback', result.stderr)
    self.assertEqual(tf.train.latest_checkpoint(os.path.join(
        out, 'run', 'preempted')).rsplit('-', 1)[1], str(step))
    final = bt.check(bt.run(module, args + [f'--output_dir={out}']))
    self.assertIn(f'at epoch 2, step {in_epoch} of 3', final.stderr)
    self.assertFalse(os.path.exists(os.path.join(out, 'run', 'preempted')))
    self._assert_same(reference, out)
    history = bt.load_json(os.path.join(out, 'metrics.json'))['history']
    self.assertEqual(_untimed(history), _untimed(bt.load_json(
        os.path.join(reference_dir, 'metrics.json'))['history']))

  def test_edst_survives_kills_and_is_deterministic(self):
    reference_dir, reference = self._reference(EDST)
    # Same flags and seed, a second process: identical.
    _, again = self._reference(EDST, fresh=True)
    for key, value in reference.items():
      self.assertAllEqual(again[key], value, msg=key)

    def inspect(point, out):
      tickets = os.path.join(out, 'tickets')
      if point == 'ticket_write:ticket_1':
        # Killed while writing: its files are there, not its ticket.json
        # (written last), so it is no ticket yet.
        self.assertTrue(os.path.exists(os.path.join(tickets, 'ticket_1',
                                                    'model.index')))
        self.assertFalse(os.path.exists(os.path.join(tickets, 'ticket_1',
                                                     'ticket.json')))
        self.assertTrue(os.path.exists(os.path.join(tickets, 'ticket_0',
                                                    'ticket.json')))
        self.assertFalse(os.path.exists(os.path.join(out, 'metrics.json')))
      if point == 'json_write:metrics.json':
        # Killed while writing metrics.json: only the temporary file exists.
        self.assertFalse(os.path.exists(os.path.join(out, 'metrics.json')))
        self.assertTrue(os.path.exists(os.path.join(out, 'metrics.json.tmp')))

    points = ['run:epoch_end:1',                     # During exploration.
              'run:epoch_end:3',                     # Mid-refinement.
              'run:after_ticket:0',                  # Right after a ticket.
              'run:after_reexplore:refinement_0',    # After re-exploration.
              'ticket_write:ticket_1',               # While writing a ticket.
              'json_write:metrics.json']             # While writing metrics.
    out, final = self._kill_chain(EDST, points, inspect)
    self._assert_same(reference, out)
    self.assertIn('resumed from', final.stderr)
    history = bt.load_json(os.path.join(out, 'metrics.json'))['history']
    self.assertEqual(_untimed(history), _untimed(bt.load_json(
        os.path.join(reference_dir, 'metrics.json'))['history']))
    self.assertEqual(sorted(os.listdir(os.path.join(out, 'tickets'))),
                     ['ticket_0', 'ticket_1'])

  def test_dst_ensemble_survives_kills_inside_and_between_members(self):
    _, reference = self._reference(DST)
    out, final = self._kill_chain(DST, ['member_0:epoch_end:1',
                                        'member_0:after_ticket:0',
                                        'member_1:epoch_end:2'])
    self._assert_same(reference, out)
    self.assertIn('member 0 already has a ticket of this run; skipped',
                  final.stderr)

  def test_ltr_survives_kills_at_the_rewind_point_and_in_a_retrain(self):
    _, reference = self._reference(LTR)
    out, _ = self._kill_chain(LTR, ['gmp:epoch_end:1', 'gmp:epoch_end:3',
                                    'member_1:epoch_end:1'])
    self._assert_same(reference, out)

  def test_different_seeds_give_different_tickets(self):
    module, args = EDST
    out = tempfile.mkdtemp()
    bt.check(bt.run(module, [a for a in args if not a.startswith('--seed')] +
                    ['--seed=4', '--exploration_epochs=1',
                     '--refinement_epochs=1', f'--output_dir={out}']))
    other = tempfile.mkdtemp()
    bt.check(bt.run(module, args + ['--exploration_epochs=1',
                                    '--refinement_epochs=1',
                                    f'--output_dir={other}']))
    a, b = bt.fingerprint(out), bt.fingerprint(other)
    masks = [k for k in a if k.endswith('/mask/.ATTRIBUTES/VARIABLE_VALUE')]
    self.assertNotEmpty(masks)
    self.assertTrue(any(not np.array_equal(a[k], b[k]) for k in masks))


if __name__ == '__main__':
  tf.test.main()
