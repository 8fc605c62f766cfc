"""End-to-end tests of baselines/cifar/dst_ensemble.py under mock data."""

import os
import tempfile

import numpy as np
import tensorflow as tf

from tests.baselines import binary_testing as bt
from tests.baselines import reference_metrics as ref

ARGS = bt.SPARSE_FLAGS + ['--ensemble_size=2', '--train_epochs=2',
                        '--sparsity=0.8']


class DstEnsembleTest(tf.test.TestCase):

  def test_member_jobs_then_ensemble_report(self):
    out = tempfile.mkdtemp()
    args = ARGS + [f'--output_dir={out}']
    # A cluster job for member 1 alone: a ticket, no ensemble report yet.
    result = bt.check(bt.run('baselines.cifar.dst_ensemble',
                             args + ['--member_index=1']))
    self.assertEqual(os.listdir(os.path.join(out, 'tickets')), ['ticket_1'])
    self.assertFalse(os.path.exists(os.path.join(out, 'metrics.json')))
    self.assertIn('members [0] not trained yet', result.stderr)
    # The full job skips member 1 and trains member 0, then reports.
    result = bt.check(bt.run('baselines.cifar.dst_ensemble', args))
    self.assertIn('member 1 already has a ticket of this run; skipped',
                  result.stderr)
    metrics = bt.load_json(os.path.join(out, 'metrics.json'))
    self.assertLen(metrics['tickets'], 2)
    tickets = [os.path.join(out, 'tickets', f'ticket_{j}') for j in (0, 1)]
    masks = [np.concatenate([m.ravel() for m in
                             bt.checkpoint_arrays(t, 'mask').values()])
             for t in tickets]
    self.assertNotAllEqual(masks[0], masks[1])  # Different random inits.
    # DST moved each member's masks away from its initial draw (seed + j),
    # at the same sparsity (static_sparse's equal theirs exactly).
    for j, ticket in enumerate(tickets):
      moved = [a != b for a, b in zip(bt.ticket_masks(ticket),
                                      bt.initial_masks(42 + j))]
      self.assertGreater(sum(moved), 0)
    for mask in masks:
      self.assertLessEqual(abs(mask.sum() - 0.2 * mask.size), 1)
    probs = [bt.predictions(t)[0].astype(np.float64) for t in tickets]
    labels = bt.predictions(tickets[0])[1]
    self.assertAllClose(metrics['metrics']['test/negative_log_likelihood'],
                        ref.ensemble_nll(probs, labels), rtol=1e-5)
    self.assertEqual(metrics['flops']['forward_passes'], 2)
    # Per-member TensorBoard runs.
    for j in (0, 1):
      member = bt.scalars(os.path.join(out, 'summaries', f'member_{j}'))
      self.assertEqual(sorted(member['test/accuracy']), [1, 2])
      self.assertEqual(bt.hparams_session(os.path.join(
          out, 'summaries', f'member_{j}'))['member_index'], j)

  def test_lr_decays_at_half_and_three_quarters(self):
    out = tempfile.mkdtemp()
    bt.check(bt.run('baselines.cifar.dst_ensemble',
                    bt.SPARSE_FLAGS + ['--ensemble_size=1', '--train_epochs=4',
                                     f'--output_dir={out}']))
    history = bt.load_json(os.path.join(out, 'metrics.json'))['history']
    lrs = [h['train/learning_rate'] for h in history['0']]
    base = 0.1 * bt.BATCH / 128
    self.assertAllClose(lrs, [base, base, base * 0.1, base * 0.01])


if __name__ == '__main__':
  tf.test.main()
