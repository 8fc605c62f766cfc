"""A run's checkpoints: resume, epoch and phase-end saves, preemption.

A checkpoint holds the model, optimizer, hook, progress, ticket selection,
train metrics and the per-epoch history, so a resumed run's report holds
every epoch, consistent with the restored state. The run keeps its last two
(`checkpoints.restore_newest_intact` falls back to the older one when the
newest cannot be read). A preemption notice is answered with a checkpoint of
the current step in `preempted/`, superseded by the next regular save.
"""

import json
import os

from absl import logging
import tensorflow as tf

from baselines.runtime import checkpoints
from baselines.runtime import preemption
from baselines.training import trainer as trainer_lib
from sparse_layers import tickets as ticket_files


class Checkpointer:
  """Saves and restores one run's state; holds its history."""

  def __init__(self, trainer, ticket_selector, run_dir, write_run_dir,
               notice):
    """Resumes from `run_dir` (the chief's), writes to `write_run_dir`."""
    self._trainer = trainer
    self._ticket_selector = ticket_selector
    self._notice = notice
    self.run_dir = run_dir
    self._write_run_dir = write_run_dir
    self.history = []
    # A host-side variable (a string) stays off the accelerator.
    with tf.device('/cpu:0'):
      self._history_json = tf.Variable('[]', dtype=tf.string, trainable=False)
    trackables = dict(model=trainer.model, optimizer=trainer.optimizer,
                      epoch=trainer.epoch,
                      completed_phases=trainer.completed_phases,
                      history=self._history_json,
                      ticket_selector=ticket_selector,
                      train_metrics=trainer.train_metrics)
    if trainer.hook is not None:
      trackables['sparsity_hook'] = trainer.hook
    self.checkpoint = tf.train.Checkpoint(**trackables)
    self.manager = tf.train.CheckpointManager(
        self.checkpoint,
        os.path.join(write_run_dir, checkpoints.CHECKPOINTS_DIR),
        max_to_keep=2)

  def restore(self):
    """Restores the newest readable checkpoint; returns its path or None."""
    latest = checkpoints.restore_newest_intact(self.checkpoint, self.run_dir)
    if latest:
      self.history = json.loads(self._history_json.numpy().decode())
      logging.info('%s: resumed from %s at epoch %d, step %d of %d',
                   self.run_dir, latest, self._trainer.completed_epochs,
                   self._trainer.steps_into_epoch(),
                   self._trainer.steps_per_epoch)
    return latest

  def save(self):
    """An epoch (or phase-end) checkpoint; a preemption one is removed."""
    self._save(self.manager, self._trainer.completed_epochs)
    ticket_files.remove_tree(self._preempted_dir)  # Superseded, if any.

  def _save(self, manager, number):
    """Saves the run's state (history included) with `manager`."""
    self._history_json.assign(json.dumps(self.history))
    path = manager.save(checkpoint_number=number)
    self._ticket_selector.after_save()
    return path

  @property
  def _preempted_dir(self):
    return os.path.join(self._write_run_dir, checkpoints.PREEMPTED_DIR)

  def answer_preemption(self):
    """Checkpoints this step (in preempted/) and raises Preempted."""
    trainer = self._trainer
    manager = tf.train.CheckpointManager(self.checkpoint, self._preempted_dir,
                                         max_to_keep=1)
    step = trainer_lib.to_int(trainer.optimizer.iterations)
    path = self._save(manager, step)
    received, exit_code = self._notice.answer()
    raise preemption.Preempted(
        f'{self.run_dir}: {received} answered at global step {step} (epoch '
        f'{trainer.completed_epochs + 1}, step {trainer.steps_into_epoch()} '
        f'of {trainer.steps_per_epoch}); saved {path}. A restart with the '
        f'same flags resumes there.', exit_code)

  def describe_last_checkpoint(self):
    """Where a run stopped without saving: for NonFiniteLossError."""
    return (f'{self.run_dir}; stopped without saving anything: the last good '
            f'checkpoint is {self.manager.latest_checkpoint}')
