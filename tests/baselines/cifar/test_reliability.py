"""Nothing silently wrong: replaced data, damaged files, copies, contention.

The cases (`reliability_run`) run in one process of their own, over copies
of one tiny DST ensemble. Each asserts the exit code, the file named in
the message, and, where the run must stop, that none of its files changed.
"""

import os
import tempfile

import tensorflow as tf

from tests.baselines import binary_testing as bt

_DIR = tempfile.mkdtemp()


class ReliabilityTest(tf.test.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.r = bt.result_of('tests.baselines.reliability_run', _DIR)
    cls.train = os.path.join(_DIR, 'data', 'train.npz')
    cls.test = os.path.join(_DIR, 'data', 'test.npz')

  def _refused(self, name, *texts, lock_left=False):
    """The case stopped with a message holding `texts`, no traceback, no
    'Pass --help', and left its files (and lock) as they were."""
    case = self.r[name]
    self.assertEqual(case['code'], 1, case['message'][-2000:])
    self.assertIsNone(case['traceback'])
    for text in texts:
      self.assertIn(text, case['message'])
    self.assertNotIn('Pass --help', case['message'])
    self.assertTrue(case['unchanged'])
    self.assertEqual(case['lock_left'], lock_left)

  def test_base_run_trained(self):
    self.assertEqual(self.r['base']['codes'], [0, 0], self.r['base'])

  def test_test_set_replaced_in_place_is_refused_with_both_fingerprints(self):
    old, new = self.r['sha256'][self.test]
    self._refused('test_replaced', f'test data: {self.test}', old, new)

  def test_training_set_replaced_between_member_jobs_is_refused(self):
    old, new = self.r['sha256'][self.train]
    self._refused('train_replaced_between_members',
                  f'train data: {self.train}', old, new)

  def test_ensemble_of_tickets_on_other_test_data_is_refused(self):
    old, _ = self.r['sha256'][self.test]
    self._refused('ensemble_other_test', 'base/tickets/ticket_0',
                  'other_test.npz', old)
    self.assertFalse(os.path.exists(os.path.join(_DIR,
                                                 'ensemble_other_test')))

  def test_tickets_with_other_labels_are_not_averaged(self):
    self._refused('labels_mismatch', 'labels_mismatch/tickets/ticket_1 and',
                  'labels_mismatch/tickets/ticket_0',
                  '86 labels that differ')

  def test_damaged_state_files_name_the_file_and_what_to_do(self):
    self._refused('run_json_truncated', 'run_json_truncated/run.json: not '
                  'valid JSON', 'use a new --output_dir')
    self._refused('ticket_json_truncated',
                  'ticket_0/ticket.json: not valid JSON', 'delete')
    self._refused('predictions_truncated',
                  'ticket_1/predictions.npz: not a readable npz file',
                  'delete')

  def test_deleted_ticket_is_named_and_the_advice_recomputes_it(self):
    case = self.r['ticket_deleted']
    self.assertEqual(case['code'], 1)
    self.assertIsNone(case['traceback'])
    self.assertIn('ticket_deleted/tickets/ticket_1', case['message'])
    self.assertIn('delete ' + os.path.join(_DIR, 'ticket_deleted',
                                           'member_1') +
                  ' and rerun with --member_index=1', case['message'])
    advice = case['advice_followed']
    self.assertEqual(advice['code'], 0, advice['message'])
    self.assertTrue(advice['same_ticket'])

  def test_damaged_checkpoint_falls_back_to_the_previous_one(self):
    case = self.r['checkpoint_damaged']
    self.assertEqual(case['code'], 0, case['message'])
    self.assertIn('member_1/checkpoints/ckpt-2 cannot be read', case['message'])
    self.assertIn('resumed from ' + os.path.join(
        _DIR, 'checkpoint_damaged', 'member_1', 'checkpoints', 'ckpt-1'),
                  case['message'])
    self.assertNotIn('function_node', case['message'])
    # Epoch 2 trained again from ckpt-1: the same ticket, bit for bit.
    self.assertTrue(case['same_ticket'])
    case = self.r['checkpoints_all_damaged']
    self.assertEqual(case['code'], 1)
    self.assertIsNone(case['traceback'])
    self.assertIn('none of its 2 checkpoint(s) can be read', case['message'])

  def test_report_counts_a_directory_once_and_refuses_a_copy(self):
    self.assertEqual(self.r['report_same_dir_thrice'],
                     {'code': 0, 'rows': 1, 'seeds': 1})
    case = self.r['report_copied_run']
    self.assertEqual(case['code'], 1)
    self.assertIn(os.path.join(_DIR, 'base') + ' and ' +
                  os.path.join(_DIR, 'copied_run'), case['message'])
    case = self.r['report_metrics_truncated']
    self.assertEqual(case['code'], 1)
    self.assertIn('broken_metrics/metrics.json: not valid JSON',
                  case['message'])

  def test_a_live_lock_refuses_and_a_stale_one_is_taken_over(self):
    case = self.r['lock_live']
    # The other process's lock stays.
    self._refused('lock_live', f'process {case["pid"]} on host',
                  'is in use by another run', lock_left=True)
    case = self.r['lock_stale']
    self.assertEqual(case['code'], 0, case['message'])
    self.assertIn('taking over a stale lock', case['message'])
    self.assertFalse(case['lock_left'])

  def test_ctrl_c_saves_exits_130_and_resumes_exactly(self):
    case = self.r['ctrl_c']
    self.assertEqual(case['code'], 130, case['message'])
    self.assertIsNone(case['traceback'])
    self.assertIn('interrupt (Ctrl-C) answered at global step 8',
                  case['message'])
    self.assertIn('ckpt-8.index', case['preempted'])
    self.assertEqual(case['resumed']['code'], 0, case['resumed']['message'])
    self.assertEqual(case['resumed']['same_tickets'], [True, True])

  def test_exported_model_takes_raw_images(self):
    case = self.r['export_raw_images']
    self.assertEqual(case['accuracy'], case['run_accuracy'])
    self.assertGreater(case['accuracy'], 0.5)  # Chance is 0.1.
    self.assertLess(case['max_abs_difference'], 1e-6)
    self.assertEqual(case['metadata']['preprocessing'],
                     {'mean': [0.4914, 0.4822, 0.4465],
                      'std': [0.2023, 0.1994, 0.201]})
    self.assertStartsWith(case['metadata']['serving_input'],
                          'uint8 [None, 32, 32, 3], 0-255')


if __name__ == '__main__':
  tf.test.main()
