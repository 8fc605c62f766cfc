"""Which model of a phase becomes its ticket: end of phase or best validation.

Algorithm 1 saves the model at the end of each refinement (line 18):
'end_of_phase'. The authors' runs hold out 10% of the training set and keep
each phase's checkpoint of best validation accuracy: 'best_validation'. Its
candidates are tickets written under `candidates_dir/epoch_E` as the
validation accuracy improves; the best one's epoch and accuracy are
variables of this module, saved in the run's checkpoint, and the other
candidates are removed only after a checkpoint that no longer names them is
saved, so a run resumed from its latest checkpoint always finds its
candidate. At the phase end the candidate is copied to the ticket directory
(its ticket.json last) and removed.
"""

import os

from absl import logging
import tensorflow as tf

from baselines.artifacts import ticket_store
from sparse_layers import tickets as ticket_files

SELECTIONS = ('end_of_phase', 'best_validation')


def check_selection(selection, validation_split):
  """Raises ValueError if `selection` needs a validation split it lacks."""
  if selection == 'best_validation' and validation_split is None:
    raise ValueError("ticket_selection='best_validation' needs a "
                     'validation split.')


class TicketSelector(tf.Module):
  """Writes each ticket-bearing phase's ticket; checkpoint it with the run."""

  def __init__(self, selection, output_dir, candidates_dir, method=''):
    """Creates the selector (under the strategy's scope).

    Args:
      selection: one of SELECTIONS.
      output_dir: the run's output directory (tickets go to its tickets/).
      candidates_dir: where best-validation candidates are written.
      method: name for log lines.

    Raises:
      ValueError: for an unknown selection.
    """
    super().__init__(name='ticket_selector')
    if selection not in SELECTIONS:
      raise ValueError(f'ticket_selection must be one of {SELECTIONS}, got '
                       f'{selection!r}.')
    self.selection = selection
    self._output_dir = output_dir
    self._candidates_dir = candidates_dir
    self._method = method
    # The current phase's best validation accuracy and its epoch.
    self.best_validation = tf.Variable(-1.0, dtype=tf.float64,
                                       trainable=False)
    self.best_epoch = tf.Variable(-1, dtype=tf.int64, trainable=False)

  def selects_best(self, phase):
    return (phase.ticket_index is not None and
            self.selection == 'best_validation')

  def begin_phase(self):
    self.best_validation.assign(-1.0)
    self.best_epoch.assign(-1)

  def _candidate_dir(self, epoch):
    return os.path.join(self._candidates_dir, f'epoch_{epoch}')

  def after_epoch(self, phase, epoch, results, write):
    """Writes this epoch's model as a candidate if its validation is best.

    Args:
      phase: the current `Phase`.
      epoch: epochs completed.
      results: the epoch's metrics, with 'validation/accuracy'.
      write: `write(path)` writes a ticket of the current model to `path`.
    """
    if not self.selects_best(phase):
      return
    accuracy = results['validation/accuracy']
    if accuracy > float(self.best_validation.numpy()):
      write(self._candidate_dir(epoch))
      self.best_validation.assign(accuracy)
      self.best_epoch.assign(epoch)
      logging.info('[%s] epoch %d: best validation accuracy of %s so far '
                   '(%.4f); candidate for ticket %d', self._method, epoch,
                   phase.name, accuracy, phase.ticket_index)

  def after_save(self):
    """Removes candidates the just-saved checkpoint does not name."""
    keep = self._candidate_dir(int(self.best_epoch.numpy()))
    written = {os.path.dirname(os.path.relpath(name, self._candidates_dir))
               .split('/')[0] for name in ticket_files.files_under(
                   self._candidates_dir)}
    for name in sorted(written - {''}):
      candidate = os.path.join(self._candidates_dir, name)
      if candidate != keep:
        ticket_files.remove_tree(candidate)

  def end_phase(self, phase, write):
    """Writes the phase's ticket: this model, or the best candidate.

    Raises:
      RuntimeError: if the best candidate is missing and no ticket exists.
    """
    path = ticket_store.ticket_dir(self._output_dir, phase.ticket_index)
    if not self.selects_best(phase):
      write(path)
      return
    best_epoch = int(self.best_epoch.numpy())
    candidate = self._candidate_dir(best_epoch)
    if ticket_store.is_complete(candidate):
      ticket_files.copy_tree(candidate, path)
      ticket_files.remove_tree(candidate)
    elif not ticket_store.is_complete(path):  # Else moved before a restart.
      raise RuntimeError(f'the best-validation candidate {candidate} of '
                         f'{phase.name} is missing.')
    logging.info('[%s] ticket %d is epoch %d of %s (best validation '
                 'accuracy %.4f)', self._method, phase.ticket_index,
                 best_epoch, phase.name, float(self.best_validation.numpy()))
