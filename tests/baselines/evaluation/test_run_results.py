"""Tests for baselines/run_results.py: the ticket table, hparams."""

import types

import numpy as np
import tensorflow as tf

from baselines.evaluation import run_results

INFOS = [{'index': 0, 'sparsity': 0.8, 'test/accuracy': 0.5,
          'test/negative_log_likelihood': 1.5, 'test/ece': 0.05},
         {'index': 1, 'sparsity': 0.7, 'test/accuracy': 0.6,
          'test/negative_log_likelihood': 1.2, 'test/ece': 0.03}]
ENSEMBLE = {'test/accuracy': 0.65, 'test/negative_log_likelihood': 1.1,
            'test/ece': 0.02, 'test/accuracy_member_0': 0.5}


class ReportingTest(tf.test.TestCase):

  def test_ticket_table_rows_and_ensemble_row(self):
    table = run_results.ticket_table(INFOS, ENSEMBLE)
    self.assertEqual([r['name'] for r in table],
                     ['ticket_0', 'ticket_1', 'ensemble of 2'])
    self.assertEqual(table[1], {'name': 'ticket_1', 'sparsity': 0.7,
                                'accuracy': 0.6, 'nll': 1.2, 'ece': 0.03})
    self.assertAllClose(
        [table[2][k] for k in ('accuracy', 'nll', 'ece', 'sparsity')],
        [0.65, 1.1, 0.02, np.mean([0.8, 0.7])])

  def test_format_table_prints_every_row(self):
    text = run_results.format_table(run_results.ticket_table(INFOS, ENSEMBLE))
    lines = text.splitlines()
    self.assertLen(lines, 4)
    self.assertEqual(lines[0].split(), ['accuracy', 'nll', 'ece', 'sparsity'])
    self.assertEqual(lines[3].split(),
                     ['ensemble', 'of', '2', '0.6500', '1.1000', '0.0200',
                      '0.7500'])

  def test_hparams_hold_method_and_result_flags_only(self):
    # The run's identity holds the flags that change its result (those its
    # binary declares; tests/baselines/methods/test_flag_roles.py).
    exp = types.SimpleNamespace(
        config=types.SimpleNamespace(method='edst', global_batch_size=128),
        identity={'flags': {'lr_decay_epochs': ['100', '150'],
                            'sparsity': 0.8, 'train_examples': None}})
    self.assertEqual(run_results.hparams(exp, member_index=2),
                     {'method': 'edst', 'global_batch_size': 128,
                      'sparsity': 0.8, 'lr_decay_epochs': '100,150',
                      'member_index': 2})


if __name__ == '__main__':
  tf.test.main()
