"""Tests for baselines/training/ticket_selection.py: candidates, promotion."""

import json
import os

import tensorflow as tf

from baselines.artifacts import ticket_store
from baselines.training import ticket_selection
from sparse_layers import phases


def _phase(index=0):
  return phases.Phase('refinement_1', 4, ((0.0, 0.1),),
                      ticket_index=index)


class TicketSelectorTest(tf.test.TestCase):

  def setUp(self):
    super().setUp()
    self.out = self.get_temp_dir()
    self.candidates = os.path.join(self.out, 'run', 'candidates')
    self.written = []

  def _write(self, epoch):
    def write(path):
      os.makedirs(path)
      with open(os.path.join(path, ticket_store.INFO_FILE), 'w') as f:
        json.dump({'epoch': epoch}, f)
      self.written.append(epoch)
    return write

  def _selector(self, selection='best_validation'):
    return ticket_selection.TicketSelector(selection, self.out,
                                           self.candidates)

  def test_best_validation_keeps_the_first_best_epoch(self):
    selector, phase = self._selector(), _phase()
    selector.begin_phase()
    for epoch, accuracy in ((5, 0.3), (6, 0.5), (7, 0.5), (8, 0.4)):
      selector.after_epoch(phase, epoch, {'validation/accuracy': accuracy},
                           self._write(epoch))
    self.assertEqual(self.written, [5, 6])  # Improvements only, ties lose.
    self.assertEqual(int(selector.best_epoch.numpy()), 6)
    # Epoch 5's candidate stays until a checkpoint names epoch 6.
    self.assertEqual(sorted(os.listdir(self.candidates)),
                     ['epoch_5', 'epoch_6'])
    selector.after_save()
    self.assertEqual(os.listdir(self.candidates), ['epoch_6'])
    selector.end_phase(phase, self._write(9))
    info = ticket_store.load_info(ticket_store.ticket_dir(self.out, 0))
    self.assertEqual(info['epoch'], 6)
    self.assertEqual(os.listdir(self.candidates), [])
    self.assertEqual(self.written, [5, 6])  # Moved, not written again.
    # A restart after the move finds the ticket and does not fail.
    selector.end_phase(phase, self._write(9))
    selector.begin_phase()
    self.assertEqual(float(selector.best_validation.numpy()), -1.0)

  def test_end_of_phase_writes_the_current_model(self):
    selector, phase = self._selector('end_of_phase'), _phase(2)
    selector.after_epoch(phase, 3, {'validation/accuracy': 0.9},
                         self._write(3))
    self.assertEqual(self.written, [])
    selector.end_phase(phase, self._write(4))
    info = ticket_store.load_info(ticket_store.ticket_dir(self.out, 2))
    self.assertEqual(info['epoch'], 4)

  def test_missing_candidate_is_an_error_and_bad_names_rejected(self):
    selector = self._selector()
    selector.best_epoch.assign(3)
    with self.assertRaisesRegex(RuntimeError, 'candidate .*epoch_3 of '
                                'refinement_1 is missing'):
      selector.end_phase(_phase(), self._write(4))
    with self.assertRaisesRegex(ValueError, 'ticket_selection must be one'):
      self._selector('last')


if __name__ == '__main__':
  tf.test.main()
