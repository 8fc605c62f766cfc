"""The one training loop shared by every method: phases, tickets, resume.

A run trains one model through a list of `Phase`s (EDST: exploration, then M
refinements; DST / static / dense: one phase per member). Its parts: the
trainer (`trainer`: the compiled loop of `strategy.run` steps, the hook
that updates masks inside the step), the checkpointer (`checkpointer`:
resume, preemption, history), the epoch evaluator (`epoch_evaluation`) and
the epoch-end callbacks (`epoch_callbacks`). The optimizer (default: SGD
with momentum) and the training loss (default: cross entropy) are passed
in; the LR is a schedule of the optimizer's step over the whole plan. A
phase with a ticket index ends in a ticket (weights, masks, test
predictions): the model at the phase's end (Algorithm 1, line 18), or with
`ticket_selection='best_validation'` the phase's epoch of best validation
accuracy (the authors' runs). Then the phase-end callbacks run (EDST
registers its re-exploration, `reexploration.Reexploration`). A restarted
run resumes from its latest checkpoint. A non-finite loss and a preemption
notice (SIGTERM, `preemption`) are checked on the host after each loop: a
notice stops training at that loop's end, which is checkpointed before the
process exits; the restart resumes there.
"""

import dataclasses
import os
import time
from typing import Callable, Dict, Optional, Sequence, Tuple

from absl import logging
import tensorflow as tf

from baselines.artifacts import layout as layout_lib
from baselines.data import cifar
from baselines.data import pipeline
from baselines.runtime import faults
from baselines.runtime import preemption
from baselines.training import checkpointer as checkpointer_lib
from baselines.training import epoch_callbacks
from baselines.training import epoch_evaluation
from baselines.training import ticket_selection
from baselines.training import train_step
from baselines.training import trainer as trainer_lib
from sparse_layers import layers as masked_layers
from sparse_layers import phases as phases_lib


# Raised by `Run.train` on a NaN or Inf training loss.
NonFiniteLossError = trainer_lib.NonFiniteLossError


@dataclasses.dataclass
class RunConfig:
  """What a run needs from the command line (library code reads no flags).

  checkpoint_interval: epochs between checkpoints; -1: only at phase ends.
  validation_split: evaluated every epoch when given (`validation/*`).
  corrupted_splits: (corruption, severity) -> Split, evaluated every
    `corruptions_interval` epochs (UB's corrupted keys; -1: never).
  corruption_benchmark: how they are summarised
    (`pipeline.CorruptionBenchmark`); None: every corruption in the means.
  trajectory_interval: every this many epochs the test probabilities are
    saved (`save_trajectory_point`); -1: never.
  momentum_style: of SGD's momentum, one of `optimizers.MOMENTUM_STYLES`.
  ticket_selection: one of `ticket_selection.SELECTIONS`:
    'end_of_phase' (Algorithm 1) or 'best_validation' (needs a validation
    split).
  write_dir: where this process writes (checkpoints, tickets, summaries);
    None: output_dir. A multi-worker run's other workers write to a
    scratch directory and read (resume) from the chief's output_dir.
  jit_compile: compile the per-replica train and evaluation steps with XLA.
  steps_per_loop: steps per compiled loop; None: `host_loops`' default.
  """
  output_dir: str
  seed: int
  global_batch_size: int
  base_learning_rate: float
  momentum: float
  num_bins: int
  checkpoint_interval: int
  warmup_epochs: float
  method: str
  train_split: pipeline.Split
  test_split: pipeline.Split
  num_classes: int
  preprocessing: cifar.Preprocessing
  nesterov: bool = False
  momentum_style: str = 'pytorch'
  validation_split: Optional[pipeline.Split] = None
  ticket_selection: str = 'end_of_phase'
  corrupted_splits: Dict[Tuple[str, int], pipeline.Split] = dataclasses.field(
      default_factory=dict)
  corruption_benchmark: Optional[pipeline.CorruptionBenchmark] = None
  corruptions_interval: int = -1
  trajectory_interval: int = -1
  write_dir: Optional[str] = None
  jit_compile: bool = False
  steps_per_loop: Optional[int] = None

  @property
  def layout(self):
    """Where the run's outputs are read and written."""
    return layout_lib.OutputLayout(self.output_dir, self.write_dir)

  @property
  def writes_to(self):
    """The directory this process writes its outputs to."""
    return self.layout.writes_to


class Run:
  """Trains one model through its phases; resumable; writes tickets.

  A trainer (the compiled loop), a checkpointer (resume, preemption,
  history) and an epoch evaluator, joined by epoch-end callbacks
  (`epoch_callbacks`: summaries, the log line, trajectory points) and the
  phase-end callbacks. A step function and the callbacks see the trainer's
  model, optimizer, hook, loss, train metrics, `apply_gradients` and
  `gradient_scope` as the run's.
  """

  def __init__(self, config: RunConfig, strategy, model_fn: Callable,
               phases: Sequence[phases_lib.Phase], run_name: str,
               hook_fn: Optional[Callable] = None,
               init_fn: Optional[Callable] = None,
               summary_dir: Optional[str] = None,
               optimizer_fn: Optional[Callable] = None,
               loss_fn: Optional[Callable] = None,
               phase_end_callbacks: Sequence[Callable] = (),
               step_fn: Optional[Callable] = None):
    """Creates the run.

    Args:
      config: the run configuration.
      strategy: a tf.distribute strategy.
      model_fn: () -> Keras model (logits), called under the strategy scope.
      phases: the plan.
      run_name: directory name of this run's checkpoints.
      hook_fn, init_fn, optimizer_fn, loss_fn: the trainer's parts (the
        sparsity hook, an initialisation, the optimizer and the training
        loss; `trainer.Trainer`).
      summary_dir: TensorBoard directory of the per-epoch metrics.
      phase_end_callbacks: callables (run, phase) run once after each
        phase's ticket, before its checkpoint (EDST's re-exploration).
      step_fn: (run, batch) -> the batch's loss, one update on one replica
        inside the compiled loop; it applies exactly one optimizer step
        through `run.apply_gradients` (so that the hook sees it), with its
        gradients computed inside `run.gradient_scope()`, and may update
        `run.train_metrics`. Default `train_step.default_train_step`.

    Raises:
      ValueError: on a ticket selection this config cannot serve.
    """
    ticket_selection.check_selection(config.ticket_selection,
                                     config.validation_split)
    self.config, self.strategy, self.run_name = config, strategy, run_name
    self.phases = list(phases)
    self.total_epochs = sum(p.epochs for p in self.phases)
    # Resumes from run_dir (the chief's); writes to write_run_dir.
    self.run_dir = config.layout.run_dir(run_name)
    write_run_dir = config.layout.run_dir(run_name, written=True)
    self._step_fn = step_fn or train_step.default_train_step
    self._phase_end_callbacks = list(phase_end_callbacks)
    # Outside the strategy's scope: one plain variable, read by the loop.
    self._preemption = preemption.notice()
    self.trainer = trainer_lib.Trainer(
        config, strategy, model_fn, self.phases,
        lambda batch: self._step_fn(self, batch), hook_fn, init_fn,
        optimizer_fn, loss_fn, self._preemption)
    t = self.trainer
    self.model, self.optimizer, self.hook = t.model, t.optimizer, t.hook
    self.schedule, self.loss_fn = t.schedule, t.loss_fn
    self.train_metrics, self.epoch = t.train_metrics, t.epoch
    self.steps_per_epoch = t.steps_per_epoch
    self.apply_gradients, self.gradient_scope = (t.apply_gradients,
                                                 t.gradient_scope)
    self._build_parts(summary_dir, write_run_dir)

  def _build_parts(self, summary_dir, write_run_dir):
    """Ticket selection, checkpointer, summaries, evaluator, callbacks."""
    config = self.config
    with tf.device('/cpu:0'):  # Host-side state (float64 best accuracy).
      self.ticket_selector = ticket_selection.TicketSelector(
          config.ticket_selection, config.writes_to,
          os.path.join(write_run_dir, 'candidates'), config.method)
    self.checkpointer = checkpointer_lib.Checkpointer(
        self.trainer, self.ticket_selector, self.run_dir, write_run_dir,
        self._preemption)
    self.writer = tf.summary.create_file_writer(
        summary_dir or config.layout.summaries())
    self.evaluator = epoch_evaluation.EpochEvaluator(
        config, self.strategy, self.model, self.trainer)
    self.epoch_end_callbacks = epoch_callbacks.standard_callbacks(
        config, self.run_name, self.writer, self.total_epochs,
        self.steps_per_epoch)
    self.trainer.on_mask_update = epoch_callbacks.layer_sparsity(
        self.writer, self.hook)

  @property
  def history(self):
    """The per-epoch metrics (restored on resume)."""
    return self.checkpointer.history

  @property
  def completed_epochs(self):
    """Epochs trained so far (restored on resume)."""
    return self.trainer.completed_epochs

  def test_predictions(self):
    """(probs, labels) on the test split at this epoch (computed once)."""
    return self.evaluator.test_predictions()

  def sparsity(self):
    """Overall sparsity of the masked layers (0 for a dense model)."""
    return masked_layers.overall_sparsity(self.model)

  def next_train_batch(self):
    """A batch of the next epoch's training data (phase-end callbacks)."""
    return next(self.trainer.epoch_iterator(self.completed_epochs))

  def train(self, on_ticket: Optional[Callable] = None,
            on_epoch_end: Optional[Callable] = None):
    """Runs (or resumes) every phase.

    Args:
      on_ticket: `on_ticket(index, run, path)` writes a ticket of the run's
        current model to directory `path` (atomically).
      on_epoch_end: `on_epoch_end(run)` after each trained epoch.

    Raises:
      preemption.Preempted: after SIGTERM, once this step is checkpointed.
    """
    self._preemption.reset()
    self._preemption.active = True
    try:
      self._train(on_ticket, on_epoch_end)
    finally:
      self._preemption.active = False
    logging.info('[%s] %s done: digest of its weights and masks %s',
                 self.config.method, self.run_name, self.trainer.digest())

  def _train(self, on_ticket, on_epoch_end):
    """Runs (or resumes) every phase; `train`'s arguments."""
    self.checkpointer.restore()
    for callback in self.epoch_end_callbacks:
      getattr(callback, 'on_train_begin', lambda: None)()
    phase_start = 0
    for phase_index, phase in enumerate(self.phases):
      phase_end = phase_start + phase.epochs
      write = self._ticket_writer(phase, on_ticket)
      while self.completed_epochs < phase_end:
        if self.trainer.preemption_requested():
          self.checkpointer.answer_preemption()
        if (self.completed_epochs == phase_start and
            not self.trainer.steps_into_epoch()):
          self.ticket_selector.begin_phase()
        ends_in_ticket = (write is not None and
                          self.completed_epochs + 1 == phase_end and
                          not self.ticket_selector.selects_best(phase))
        results = self._train_one_epoch(phase, ends_in_ticket)
        if write:
          self.ticket_selector.after_epoch(phase, self.completed_epochs,
                                           results, write)
        if on_epoch_end:
          on_epoch_end(self)
        faults.crash_point(f'{self.run_name}:epoch_end:{self.completed_epochs}')
        interval = self.config.checkpoint_interval
        if interval > 0 and self.completed_epochs % interval == 0:
          self.checkpointer.save()
      if trainer_lib.to_int(self.trainer.completed_phases) <= phase_index:
        self._end_phase(phase, write)
        self.trainer.completed_phases.assign(phase_index + 1)
        self.checkpointer.save()
      phase_start = phase_end

  def _train_one_epoch(self, phase, ends_in_ticket=False):
    """Trains and evaluates one epoch; returns its metrics.

    `ends_in_ticket`: the epoch's test predictions will be saved (a phase
    end), so the test split is evaluated through them.
    """
    epoch = self.completed_epochs
    lr, last_lr = (float(self.schedule(self.optimizer.iterations + k))
                   for k in (0, self.steps_per_epoch - 1))
    epoch_start = time.time()
    results = self.trainer.train_epoch(
        epoch, self.checkpointer.answer_preemption,
        self.checkpointer.describe_last_checkpoint)
    results.update(self.evaluator.epoch_metrics(ends_in_ticket))
    results.update({'train/learning_rate': lr,
                    'train/sparsity': self.sparsity()})
    self.history.append({'epoch': epoch + 1, 'phase': phase.name, **results})
    end = epoch_callbacks.EpochEnd(self, phase, epoch + 1, results,
                                   epoch_start, last_lr)
    for callback in self.epoch_end_callbacks:
      callback(end)
    return results

  def _ticket_writer(self, phase, on_ticket):
    """write(path) for the phase's ticket, or None if it has none."""
    if phase.ticket_index is None or not on_ticket:
      return None
    return lambda path: on_ticket(phase.ticket_index, self, path)

  def _end_phase(self, phase, write):
    if write:
      self.ticket_selector.end_phase(phase, write)
      faults.crash_point(f'{self.run_name}:after_ticket:{phase.ticket_index}')
    for callback in self._phase_end_callbacks:
      callback(self, phase)
