"""EDST Ensemble inside `model.fit`: one callback (the paper's Algorithm 1).

    plan = phases.edst_phases(exploration_epochs=4, refinement_epochs=2,
                              ensemble_size=3, reexploration_fraction=0.8)
    lr = schedules.plan_learning_rate(plan, steps_per_epoch, 0.1)
    model.compile(keras.optimizers.SGD(lr, momentum=0.9), loss, ...)
    hook = SparsityHook(model, RigLUpdater(), ConstantDropFraction(0.5, ΔT),
                        loss_fn, model.optimizer)
    edst = EdstCallback(hook, plan, steps_per_epoch, ticket_dir, grow_data)
    model.fit(..., epochs=edst.total_epochs, callbacks=[edst])
    ensemble = edst.ensemble()

During every phase the hook's DST updates follow its schedule
(`SparsityCallback`). At the end of a phase with a ticket index j the model
is saved as `ticket_dir/ticket_j` (`tickets`; Algorithm 1, line 18); after
a phase with a re-exploration fraction q, q of each layer's active weights
are dropped by magnitude and as many regrown (line 20), before the next
epoch's first step. The LR follows the plan through the optimizer's
schedule (`schedules.plan_learning_rate`), which the callback checks.

Resuming: every decision is a function of `optimizer.iterations`, which
`keras.callbacks.BackupAndRestore` restores with the model. A phase's end
actions run at the first epoch start that sees exactly the phase's last step
(after the final epoch: at its end), and never once a later step has been
trained, so a run restored from any backup, in any callback order, repeats
them exactly once. With deterministic ops and the same input order in every
epoch (`shuffle=False`), a run resumed from an epoch-end backup ends
bit-identical to an uninterrupted one.
From a mid-epoch backup (`save_freq=N`) the callback's state is exact too,
but tf-keras feeds the resumed epoch from its first batch again.

Under a multi-worker strategy only the chief writes into `ticket_dir` (the
others save to a scratch directory and remove it); call `ensemble()` on the
chief. Multi-worker and TPU training with this callback are untested.
"""

import os
import tempfile

import tensorflow as tf

from sparse_layers import ensemble as ensemble_lib
from sparse_layers import hook as hook_lib
from sparse_layers import layers as masked
from sparse_layers import schedules
from sparse_layers import tickets as ticket_files


class EdstCallback(hook_lib.SparsityCallback):
  """Exploration, M refinements, tickets and re-explorations in `fit`.

  Attributes:
    history: one dict per phase end done in this process (epoch, phase,
      ticket path, re-exploration counts).
  """

  def __init__(self, hook, plan, steps_per_epoch, ticket_dir, grow_data=None,
               num_grow_batches=8):
    """Creates the callback.

    Args:
      hook: the `SparsityHook` of the compiled model (its optimizer given).
      plan: the `phases.Phase` list, e.g. `phases.edst_phases(...)`.
      steps_per_epoch: optimizer steps per `fit` epoch.
      ticket_dir: where tickets go, as ticket_0, ticket_1, ...; a new run
        needs it free of tickets.
      grow_data: batches for the RigL grow gradient (`SparsityCallback`).
      num_grow_batches: see `SparsityCallback`.
    """
    super().__init__(hook, grow_data, num_grow_batches)
    if not plan:
      raise ValueError('the plan has no phases.')
    if not isinstance(steps_per_epoch, int) or steps_per_epoch < 1:
      raise ValueError(f'steps_per_epoch must be an integer >= 1, got '
                       f'{steps_per_epoch!r}.')
    self.plan = list(plan)
    self.steps_per_epoch = steps_per_epoch
    self.ticket_dir = ticket_dir
    self.history = []
    self._phase_ends = {}  # End epoch -> phase.
    epoch = 0
    for phase in self.plan:
      if phase.epochs < 1:
        raise ValueError(f'phase {phase.name} has {phase.epochs} epochs.')
      epoch += phase.epochs
      self._phase_ends[epoch] = phase
    self.total_epochs = epoch
    self._checked = False
    self._reexplore = tf.function(hook.reexplore)

  def ticket_path(self, index):
    return os.path.join(self.ticket_dir, f'ticket_{index}')

  def ticket_paths(self):
    """The plan's ticket directories, in ticket order."""
    indices = sorted(p.ticket_index for p in self.plan
                     if p.ticket_index is not None)
    return [self.ticket_path(i) for i in indices]

  def phase_at(self, epoch):
    """(index, phase) of the plan's phase that trains epoch `epoch`."""
    for index, end in enumerate(sorted(self._phase_ends)):
      if epoch < end:
        return index, self._phase_ends[end]
    raise ValueError(f'epoch {epoch} is past the plan\'s {self.total_epochs} '
                     f'epochs.')

  def ensemble(self, member_probabilities=False):
    """The tickets' ensemble as a Keras model (`ensemble.load_ensemble`)."""
    return ensemble_lib.load_ensemble(self.ticket_paths(),
                                      member_probabilities=member_probabilities)

  def _learning_rate_schedule(self):
    """The optimizer's learning-rate schedule (or its constant rate)."""
    optimizer = self.model.optimizer
    if hasattr(optimizer, '_get_hyper'):  # tf_keras.optimizers.legacy.
      return optimizer._get_hyper('learning_rate')  # pylint: disable=protected-access
    return getattr(optimizer, '_learning_rate', None)

  def _check_run(self):
    """Flags a fit call or a ticket directory that does not fit the plan."""
    for key, want in (('epochs', self.total_epochs),
                      ('steps', self.steps_per_epoch)):
      got = self.params.get(key)
      if got is not None and got != want:
        raise ValueError(f'fit runs {got} {key}, the EDST plan needs {want}: '
                         f'call fit(..., epochs={self.total_epochs}) with '
                         f'{self.steps_per_epoch} steps per epoch.')
    schedule = self._learning_rate_schedule()
    if not isinstance(schedule, schedules.PhaseLearningRate):
      raise ValueError('compile the model with the plan\'s learning rate: '
                       'optimizer(learning_rate=schedules.plan_learning_rate('
                       'plan, steps_per_epoch, base_learning_rate)).')
    expected = schedules.plan_learning_rate(
        self.plan, self.steps_per_epoch, schedule.base_learning_rate)
    if (schedule.boundaries != expected.boundaries or
        schedule.multipliers != expected.multipliers):
      raise ValueError(f'the optimizer\'s LR steps (at steps '
                       f'{schedule.boundaries}) are not the plan\'s '
                       f'({expected.boundaries}) at {self.steps_per_epoch} '
                       f'steps per epoch.')
    step = self.optimizer_step()
    existing = sorted(p for p in self.ticket_paths()
                      if ticket_files.files_under(p))
    if step == 0 and existing:
      raise ValueError(f'{self.ticket_dir} already holds tickets of another '
                       f'run ({", ".join(existing)}); pass an empty '
                       f'ticket_dir or remove them.')
    for end, phase in sorted(self._phase_ends.items()):
      if (phase.ticket_index is not None and step > end * self.steps_per_epoch
          and not ticket_files.is_complete(self.ticket_path(
              phase.ticket_index))):
        raise ticket_files.TicketError(
            f'ticket {self.ticket_path(phase.ticket_index)} is missing: this '
            f'resumed run saved it at epoch {end}.')

  def _end_phase(self, end_epoch):
    """The phase end actions at `end_epoch`, unless a later step was run."""
    step = self.optimizer_step()
    if step != end_epoch * self.steps_per_epoch:
      return
    phase = self._phase_ends[end_epoch]
    record = {'epoch': end_epoch, 'step': step, 'phase': phase.name}
    if phase.ticket_index is not None:
      path = self.ticket_path(phase.ticket_index)
      # Every worker saves (reads of synced variables are collective); only
      # the chief into ticket_dir (as Keras' ModelCheckpoint).
      chief = self.model.distribute_strategy.extended.should_checkpoint
      scratch = None if chief else tempfile.mkdtemp()
      ticket_files.save(
          path if chief else os.path.join(scratch, 'ticket'), self.model, {
              'index': phase.ticket_index, 'epoch': end_epoch, 'step': step,
              'phase': phase.name,
              'sparsity': masked.overall_sparsity(self.model)})
      if scratch:
        tf.io.gfile.rmtree(scratch)
      record['ticket'] = path
    if phase.reexplore_fraction is not None:
      record['reexploration_reset'] = int(self._reexplore(
          self.grow_batch(step), phase.reexplore_fraction))
    self.history.append(record)

  def _check_ticket_dir(self):
    """Raises ValueError unless the chief can write into `ticket_dir`, so a
    bad directory stops `fit` before its first epoch, not at a ticket."""
    if not self.model.distribute_strategy.extended.should_checkpoint:
      return
    ticket_files.check_writable(self.ticket_dir, 'ticket_dir')

  def on_train_begin(self, logs=None):
    # The run's step is checked at the first epoch: BackupAndRestore may
    # restore it after this callback's on_train_begin.
    self._check_ticket_dir()

  def on_epoch_begin(self, epoch, logs=None):
    if not self._checked:
      self._check_run()
      self._checked = True
    super().on_epoch_begin(epoch, logs)
    if epoch in self._phase_ends:
      self._end_phase(epoch)

  def on_epoch_end(self, epoch, logs=None):
    super().on_epoch_end(epoch, logs)
    if logs is not None:
      step = self.optimizer_step()
      logs['learning_rate'] = float(
          self._learning_rate_schedule()(max(step - 1, 0)))
      logs['edst_phase'] = self.phase_at(epoch)[0]
      logs['sparsity'] = masked.overall_sparsity(self.model)
    if epoch + 1 == self.total_epochs:
      self._end_phase(self.total_epochs)

  def on_train_end(self, logs=None):
    self._checked = False
