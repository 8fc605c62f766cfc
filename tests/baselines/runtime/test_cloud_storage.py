"""Every input and output on ram:// (a stand-in for gs://), one process.

`cloud_storage_run` trains a tiny EDST (bfloat16, loops of 4 steps)
and a DST ensemble on learnable npz data written to ram://, evaluates the
EDST tickets with ensemble.py, tabulates both runs with
baselines.analysis.report, runs the diversity tool and exports the tickets, all on ram://. A plain
file call anywhere on that path would fail the run; the EDST doubles as the
bfloat16 learning test.
"""

import tensorflow as tf

from tests.baselines import binary_testing as bt

EXPECTED_FILES = (
    'data/train.npz', 'runs/edst/run.json', 'runs/edst/metrics.json',
    'runs/edst/tickets/ticket_1/ticket.json',
    'runs/edst/tickets/ticket_1/predictions.npz',
    'runs/edst/tickets/ticket_1/model.index',
    'runs/edst/trajectories/run/epoch_0002.npz',
    'runs/dst/tickets/ticket_1/ticket.json', 'runs/dst/metrics.json',
    'runs/ensemble/metrics.json', 'reports/table.json', 'reports/table.csv',
    'reports/diversity/disagreement.png', 'reports/diversity/diversity.json',
    'exports/edst/ensemble.npz', 'exports/edst/saved_model/saved_model.pb')


class CloudStorageTest(tf.test.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.result = bt.result_of('tests.baselines.runtime.cloud_storage_run')

  def test_every_output_is_on_ram_and_nothing_local(self):
    found = set(self.result['found'])
    for path in EXPECTED_FILES:
      self.assertIn(path, found)
    self.assertTrue(any(p.startswith('runs/edst/summaries/events.out')
                        for p in found))
    self.assertTrue(self.result['cwd_unchanged'])
    self.assertEqual(self.result['report_rows'], 2)  # EDST and DST rows.

  def test_bfloat16_edst_learns_with_exact_float32_tickets(self):
    self.assertGreater(self.result['edst_accuracy'], 0.5)  # Chance: 0.1.
    # ensemble.py on the same tickets from ram:// gives the same ensemble.
    self.assertAllClose(self.result['ensemble_accuracy'],
                        self.result['edst_accuracy'])
    expected = sorted((tuple(s), n) for s, n in
                      self.result['expected_counts'])
    for counts in self.result['ticket_counts']:
      self.assertEqual(sorted((tuple(s), n) for s, n, _, _ in counts),
                       expected)
      for _, _, inactive_nonzero, dtype in counts:
        self.assertEqual(inactive_nonzero, 0)
        self.assertEqual(dtype, 'float32')
    self.assertEqual(self.result['effective'], {
        'jit_compile': False, 'use_bfloat16': True, 'replicas': 1,
        'per_replica_batch_size': 32, 'learning_rate': 0.025,
        'update_interval_steps': 4})


if __name__ == '__main__':
  tf.test.main()
