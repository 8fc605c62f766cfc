"""The one training loop shared by every method: phases, tickets, resume.

A run trains one model through a list of `Phase`s (EDST: exploration, then M
refinements; DST / static / dense: one phase per member). Training runs in
compiled loops of `strategy.run` steps (UB style): each loop runs N steps
(`host_loops`: `steps_per_loop`, or the rest of the epoch within about 30 s)
and returns to the host once. The step function (default
`default_train_step`) runs in replica context; with `jit_compile` XLA
compiles it (TPUs compile it anyway). A hook (the sparsity hook, or gradual
pruning) takes over the step's `apply_gradients` and updates masks on the
device, inside the step. The optimizer (default: SGD with momentum) and the
training loss (default: cross entropy) are passed in; the LR is a schedule
of the optimizer's step over the whole plan. A phase with a ticket index
ends in a ticket (weights, masks, test predictions): the model at the
phase's end (Algorithm 1, line 18), or with
`ticket_selection='best_validation'` the phase's epoch of best validation
accuracy (the authors' runs). Then the phase-end callbacks run (EDST
registers its re-exploration, `reexploration.Reexploration`). Each epoch is
evaluated on the device (`evaluate.Evaluator`); with a validation split,
`validation/*` metrics every epoch. Checkpoints hold the model, optimizer,
hook and progress; a restarted run resumes from the latest one. A
non-finite loss and a preemption notice (SIGTERM, `preemption`) are checked
on the host after each loop: a notice stops training at that loop's end,
which is checkpointed before the process exits; the restart resumes there.
"""

import contextlib
import dataclasses
import hashlib
import json
import os
import time
from typing import Callable, Dict, Optional, Sequence, Tuple

from absl import logging
import numpy as np
import tensorflow as tf

from baselines.data import cifar
from baselines.data import pipeline
from baselines.evaluation import evaluate
from baselines.evaluation import metrics as metrics_lib
from baselines.runtime import checkpoints
from baselines.runtime import devices
from baselines.runtime import faults
from baselines.runtime import files
from baselines.runtime import preemption
from baselines.training import host_loops
from baselines.training import optimizers
from baselines.training import progress
from baselines.training import ticket_selection
from baselines.training import train_step
from sparse_layers import layers as masked_layers
from sparse_layers import phases as phases_lib
from sparse_layers import schedules
from sparse_layers import tickets as ticket_files
from sparse_layers.keras_alias import keras


class NonFiniteLossError(RuntimeError):
  """The training loss became NaN or Inf; nothing was saved after it."""


@dataclasses.dataclass
class RunConfig:
  """What a run needs from the command line (library code reads no flags).

  checkpoint_interval: epochs between checkpoints; -1: only at phase ends.
  validation_split: evaluated every epoch when given (`validation/*`).
  corrupted_splits: (corruption, severity) -> Split, evaluated every
    `corruptions_interval` epochs (UB's corrupted keys; -1: never).
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
  corruptions_interval: int = -1
  trajectory_interval: int = -1
  write_dir: Optional[str] = None
  jit_compile: bool = False
  steps_per_loop: Optional[int] = None

  @property
  def writes_to(self):
    """The directory this process writes its outputs to."""
    return self.write_dir or self.output_dir


class Run:
  """Trains one model through its phases; resumable; writes tickets."""

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
      hook_fn: (model, optimizer, loss_fn) -> a `hook.TrainingHook`
        (SparsityHook, GradualPruningHook) or None; the step applies its
        gradients through it (`Run.apply_gradients`).
      init_fn: (model) -> None, after creation and before restoring.
      summary_dir: TensorBoard directory of the per-epoch metrics.
      optimizer_fn: (learning-rate schedule) -> Keras optimizer; default
        SGD with the config's momentum (`optimizers.sgd`).
      loss_fn: (labels, float32 logits) -> the mean training loss of a
        batch (before regularisation); default cross entropy, e.g.
        `train_step.label_smoothing_loss(0.1)` on ImageNet. `train/
        negative_log_likelihood` is the plain NLL either way.
      phase_end_callbacks: callables (run, phase) run after each phase's
        ticket, in order (EDST: `reexploration.Reexploration`); each is
        run once per phase, before the phase-end checkpoint.
      step_fn: (run, batch) -> the batch's loss, one update on one replica
        (run under `strategy.run` inside the compiled loop, compiled by XLA
        with `jit_compile`); it must apply exactly one optimizer step
        through `run.apply_gradients` (so that the hook sees it), computing
        its gradients inside `run.gradient_scope()`, and may update
        `run.train_metrics`. Default `train_step.default_train_step`.

    Raises:
      ValueError: on a ticket selection this config cannot serve.
    """
    if (config.ticket_selection == 'best_validation' and
        config.validation_split is None):
      raise ValueError("ticket_selection='best_validation' needs a "
                       'validation split.')
    self.config = config
    self.strategy = strategy
    self.phases = list(phases)
    self.steps_per_epoch = (config.train_split.num_examples //
                            config.global_batch_size)
    if self.steps_per_epoch < 1:
      raise ValueError(f'the training split ({config.train_split.num_examples}'
                       f' examples) is smaller than one global batch '
                       f'({config.global_batch_size}).')
    self.total_epochs = sum(p.epochs for p in self.phases)
    # Resumes from run_dir (the chief's); writes to write_run_dir.
    self.run_dir = os.path.join(config.output_dir, run_name)
    self.write_run_dir = os.path.join(config.writes_to, run_name)
    self.loss_fn = loss_fn or train_step.cross_entropy
    self._step_fn = step_fn or train_step.default_train_step
    self._phase_end_callbacks = list(phase_end_callbacks)
    # Outside the strategy's scope: one plain variable, read by the loop.
    self._preemption = preemption.notice()
    self._multi_worker = num_workers(strategy) > 1
    self.history = []
    self._test_predictions = None  # (epoch, probs, labels) of the last eval.
    with strategy.scope():
      self.model = model_fn()
      if init_fn:
        init_fn(self.model)
      self.schedule = schedules.plan_learning_rate(
          self.phases, self.steps_per_epoch, config.base_learning_rate,
          config.warmup_epochs)
      if optimizer_fn is None:
        self.optimizer = optimizers.sgd(
            self.schedule, config.momentum, config.nesterov,
            config.momentum_style)
      else:
        self.optimizer = optimizer_fn(self.schedule)
      self.optimizer.build(self.model.trainable_variables)
      self.hook = hook_fn(self.model, self.optimizer,
                          self._grow_loss) if hook_fn else None
      self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False)
      self.completed_phases = tf.Variable(0, dtype=tf.int64, trainable=False)
      # The first optimizer step whose loss was not finite (-1: none).
      self.nonfinite_step = tf.Variable(-1, dtype=tf.int64, trainable=False)
      self.train_metrics = {
          'train/loss': keras.metrics.Mean(),
          'train/negative_log_likelihood': keras.metrics.Mean(),
          'train/accuracy': keras.metrics.SparseCategoricalAccuracy(),
          'train/ece': metrics_lib.ExpectedCalibrationError(config.num_bins),
      }
    # The per-epoch history travels in the checkpoint, so a resumed run's
    # report holds every epoch, consistent with the restored state. These
    # host-side variables (a string, float64) stay off the accelerator.
    with tf.device('/cpu:0'):
      self._history_json = tf.Variable('[]', dtype=tf.string, trainable=False)
      self.ticket_selector = ticket_selection.TicketSelector(
          config.ticket_selection, config.writes_to,
          os.path.join(self.write_run_dir, 'candidates'), config.method)
    self.run_name = run_name
    trackables = dict(model=self.model, optimizer=self.optimizer,
                      epoch=self.epoch, completed_phases=self.completed_phases,
                      history=self._history_json,
                      ticket_selector=self.ticket_selector,
                      train_metrics=self.train_metrics)
    if self.hook is not None:
      trackables['sparsity_hook'] = self.hook
    self.checkpoint = tf.train.Checkpoint(**trackables)
    self.manager = tf.train.CheckpointManager(
        self.checkpoint,
        os.path.join(self.write_run_dir, checkpoints.CHECKPOINTS_DIR),
        max_to_keep=2)
    self.writer = tf.summary.create_file_writer(
        summary_dir or os.path.join(config.writes_to, 'summaries'))
    self.evaluator = evaluate.Evaluator(
        self.model, strategy, config.global_batch_size, config.preprocessing,
        config.num_bins, config.jit_compile)
    self._loops = host_loops.LoopSizer(config.steps_per_loop)
    self.host_loops = 0  # Compiled training loops run by this process.
    self._train_loop = host_loops.compiled_loop(
        strategy, devices.compiled(self._replica_step, config.jit_compile,
                                   strategy), self.optimizer.iterations)
    self._poll = host_loops.notice_poll(strategy, self._preemption.requested,
                                        self._multi_worker)

  # --- The update step (UB: a compiled loop over strategy.run). ---

  def _grow_loss(self, batch):
    """The training loss of a batch: the hook's grow gradient."""
    images, labels = batch
    return self.loss_fn(labels, tf.cast(self.model(images, training=True),
                                        tf.float32))

  def gradient_scope(self):
    """The context of the step's forward and backward pass (the hook's)."""
    if self.hook is None:
      return contextlib.nullcontext()
    return self.hook.gradient_scope()

  def apply_gradients(self, grads_and_vars):
    """The step's one optimizer update (replica context): through the hook
    when there is one (it sums the gradients over replicas, applies them
    and updates masks when due), else the optimizer's own."""
    if self.hook is None:
      self.optimizer.apply_gradients(grads_and_vars)
    else:
      self.hook.apply_gradients(grads_and_vars)

  def _replica_step(self, batch):
    """One step on one replica; records the first non-finite loss."""
    loss = self._step_fn(self, batch)
    context = tf.distribute.get_replica_context()
    total = context.all_reduce(tf.distribute.ReduceOp.SUM, loss)
    first = tf.logical_and(self.nonfinite_step < 0,
                           tf.logical_not(tf.math.is_finite(total)))
    self.nonfinite_step.assign(tf.where(first, self.optimizer.iterations,
                                        self.nonfinite_step))

  def _preemption_requested(self):
    """Whether any worker got a preemption notice (a Python bool)."""
    return bool(self._poll(tf.constant(0.0))[0])

  def _epoch_iterator(self, epoch, skip_steps=0):
    """The epoch's distributed batches, from `skip_steps` on.

    One input pipeline per host (`distribute_datasets_from_function`), each
    yielding per-replica batches of its shard (`pipeline.train_dataset`).
    """
    replicas = self.strategy.num_replicas_in_sync

    def dataset_fn(context):
      dataset = pipeline.train_dataset(
          self.config.train_split,
          context.get_per_replica_batch_size(self.config.global_batch_size),
          self.config.seed, epoch, self.config.preprocessing,
          context.num_input_pipelines, context.input_pipeline_id)
      if skip_steps:  # Resuming inside the epoch: the same later batches.
        dataset = dataset.skip(
            skip_steps * replicas // context.num_input_pipelines)
      return dataset

    return iter(self.strategy.distribute_datasets_from_function(dataset_fn))

  # --- The loop. ---

  @property
  def completed_epochs(self):
    """Epochs trained so far (restored on resume)."""
    return _int(self.epoch)

  def test_predictions(self):
    """(probs, labels) of the model on the test split at this epoch.

    Computed once per epoch: the epoch's metrics and a ticket saved at the
    phase end share it.
    """
    epoch = self.completed_epochs
    if self._test_predictions is None or self._test_predictions[0] != epoch:
      self._test_predictions = (epoch, *self._predict(self.config.test_split))
    return self._test_predictions[1:]

  def _predict(self, split):
    return self.evaluator.predictions(split)

  def sparsity(self):
    """Overall sparsity over the masked layers (0 for a dense model)."""
    return masked_layers.overall_sparsity(self.model)

  def train(self, on_ticket: Optional[Callable] = None,
            on_epoch_end: Optional[Callable] = None):
    """Runs (or resumes) every phase; see `_train`.

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
                 self.config.method, self.run_name, self.digest())

  def digest(self):
    """SHA-256 of the model's replicated variables (weights, masks): equal
    on every worker of a multi-worker run. BatchNorm's moving statistics
    (per replica, synchronised on read) are left out."""
    hasher = hashlib.sha256()
    for variable in self.model.variables:
      if variable.synchronization != tf.VariableSynchronization.ON_READ:
        hasher.update(np.ascontiguousarray(variable.numpy()).tobytes())
    return hasher.hexdigest()[:16]

  def _train(self, on_ticket, on_epoch_end):
    """Runs (or resumes) every phase.

    Args:
      on_ticket: `on_ticket(index, run, path)` writes a ticket of the run's
        current model to directory `path` (atomically).
      on_epoch_end: `on_epoch_end(run)` after each trained epoch.
    """
    latest = checkpoints.restore_newest_intact(self.checkpoint, self.run_dir)
    if latest:
      self.history = json.loads(self._history_json.numpy().decode())
      logging.info('%s: resumed from %s at epoch %d, step %d of %d',
                   self.run_dir, latest, self.completed_epochs,
                   self._steps_into_epoch(), self.steps_per_epoch)
    clock = progress.EtaClock()
    phase_start = 0
    for phase_index, phase in enumerate(self.phases):
      phase_end = phase_start + phase.epochs
      write = self._ticket_writer(phase, on_ticket)
      while self.completed_epochs < phase_end:
        if self._preemption_requested():
          self._answer_preemption()
        if (self.completed_epochs == phase_start and
            not self._steps_into_epoch()):
          self.ticket_selector.begin_phase()
        ends_in_ticket = (write is not None and
                          self.completed_epochs + 1 == phase_end and
                          not self.ticket_selector.selects_best(phase))
        results = self._train_one_epoch(phase, clock, ends_in_ticket)
        if write:
          self.ticket_selector.after_epoch(phase, self.completed_epochs,
                                           results, write)
        if on_epoch_end:
          on_epoch_end(self)
        faults.crash_point(f'{self.run_name}:epoch_end:{self.completed_epochs}')
        interval = self.config.checkpoint_interval
        if interval > 0 and self.completed_epochs % interval == 0:
          self._save()
      if _int(self.completed_phases) <= phase_index:
        self._end_phase(phase, write)
        self.completed_phases.assign(phase_index + 1)
        self._save()
      phase_start = phase_end

  def _save(self):
    self._checkpoint(self.manager, self.completed_epochs)
    ticket_files.remove_tree(self._preempted_dir)  # Superseded, if any.

  def _checkpoint(self, manager, number):
    """Saves the run's state (history included) with `manager`."""
    self._history_json.assign(json.dumps(self.history))
    path = manager.save(checkpoint_number=number)
    self.ticket_selector.after_save()
    return path

  @property
  def _preempted_dir(self):
    return os.path.join(self.write_run_dir, checkpoints.PREEMPTED_DIR)

  def _steps_into_epoch(self):
    """Steps of the current epoch already trained (0 at a boundary)."""
    return (_int(self.optimizer.iterations) -
            self.completed_epochs * self.steps_per_epoch)

  def _answer_preemption(self):
    """Checkpoints this step (in preempted/) and raises Preempted."""
    manager = tf.train.CheckpointManager(self.checkpoint, self._preempted_dir,
                                         max_to_keep=1)
    path = self._checkpoint(manager, _int(self.optimizer.iterations))
    received, exit_code = self._preemption.answer()
    raise preemption.Preempted(
        f'{self.run_dir}: {received} answered at global step '
        f'{_int(self.optimizer.iterations)} (epoch '
        f'{self.completed_epochs + 1}, step {self._steps_into_epoch()} of '
        f'{self.steps_per_epoch}); saved {path}. A restart with the same '
        f'flags resumes there.', exit_code)

  def _train_one_epoch(self, phase, clock, ends_in_ticket=False):
    """Trains and evaluates one epoch; returns its metrics.

    `ends_in_ticket`: the epoch's test predictions will be saved (a phase
    end), so the test split is evaluated through them.
    """
    epoch = self.completed_epochs
    lr = float(self.schedule(self.optimizer.iterations))
    last_lr = float(self.schedule(self.optimizer.iterations +
                                  self.steps_per_epoch - 1))
    epoch_start = time.time()
    if not self._steps_into_epoch():  # Else resumed: metrics were restored.
      for metric in self.train_metrics.values():
        metric.reset_state()
    self._train_steps(epoch)
    train_seconds = time.time() - epoch_start
    self.epoch.assign_add(1)
    results = {k: float(m.result()) for k, m in self.train_metrics.items()}
    results['train/ms_per_example'] = 1000.0 * train_seconds / (
        self.steps_per_epoch * self.config.global_batch_size)
    results.update(self._evaluate_epoch(phase, ends_in_ticket))
    results.update({'train/learning_rate': lr,
                    'train/sparsity': self.sparsity()})
    with self.writer.as_default():
      for key, value in results.items():
        tf.summary.scalar(key, value, step=epoch + 1)
    self.history.append({'epoch': epoch + 1, 'phase': phase.name, **results})
    self._log_epoch(phase, epoch, results, epoch_start, clock, last_lr)
    return results

  def _train_steps(self, epoch):
    """The epoch's remaining steps, in compiled loops (`host_loops`).

    After each loop the host checks for a non-finite loss (raises
    NonFiniteLossError, saving nothing) and for a preemption notice (answers
    it at this step unless the epoch is done: then at the next epoch start).
    """
    first_step = _int(self.optimizer.iterations)
    iterator = self._epoch_iterator(epoch, self._steps_into_epoch())
    while self._steps_into_epoch() < self.steps_per_epoch:
      steps = self._loops.next_size(self.steps_per_epoch -
                                    self._steps_into_epoch())
      start = time.time()
      self._train_loop(iterator, tf.constant(steps, tf.int64))
      self.host_loops += 1
      nonfinite = _int(self.nonfinite_step)  # Waits for the loop's end.
      if nonfinite >= 0:
        raise NonFiniteLossError(
            f'non-finite training loss at epoch {epoch + 1} (step '
            f'{nonfinite - first_step + 1} of {self.steps_per_epoch}, global '
            f'step {nonfinite + 1}) of {self.run_dir}; stopped without saving '
            f'anything: the last good checkpoint is '
            f'{self.manager.latest_checkpoint}')
      self._check_hook_steps()
      requested, seconds = self._poll(tf.constant(time.time() - start,
                                                  tf.float32))
      self._loops.record(steps, float(seconds))
      if bool(requested) and self._steps_into_epoch() < self.steps_per_epoch:
        self._answer_preemption()

  def _check_hook_steps(self):
    """Raises if a step function bypassed `apply_gradients` (the hook must
    count every optimizer step: its schedule and seeds depend on it)."""
    if self.hook is None:
      return
    hook_step, step = _int(self.hook.step), _int(self.optimizer.iterations)
    if hook_step != step:
      raise RuntimeError(
          f'the sparsity hook counted {hook_step} steps and the optimizer '
          f'{step}: a step function must apply its update through '
          f'run.apply_gradients.')

  def _evaluate_epoch(self, phase, ends_in_ticket):
    """The epoch's test (validation, corrupted) metrics, on the device.

    The test predictions themselves are computed (and the metrics from
    them) only when they are kept: a trajectory point, or a ticket.
    """
    results = {}
    start = time.time()
    interval = self.config.trajectory_interval
    trajectory = interval > 0 and self.completed_epochs % interval == 0
    if trajectory or ends_in_ticket:
      probs, labels = self.test_predictions()
      results.update(evaluate.model_metrics(probs, labels, 'test/',
                                              self.config.num_bins))
      if trajectory:
        save_trajectory_point(self.config.writes_to, self.run_name,
                              self.completed_epochs, phase.name, probs)
    else:
      results.update(evaluate.prefixed(
          self.evaluator.metrics(self.config.test_split), 'test/'))
    results['test/ms_per_example'] = (1000.0 * (time.time() - start) /
                                      self.config.test_split.num_examples)
    interval = self.config.corruptions_interval
    if (interval > 0 and self.config.corrupted_splits and
        self.completed_epochs % interval == 0):
      results.update(evaluate.corrupted_metrics(
          self.evaluator.metrics, self.config.corrupted_splits))
    if self.config.validation_split is not None:
      results.update(evaluate.prefixed(
          self.evaluator.metrics(self.config.validation_split),
          'validation/'))
    return results

  def _log_epoch(self, phase, epoch, results, epoch_start, clock, last_lr):
    now = time.time()
    images = self.steps_per_epoch * self.config.global_batch_size
    eta = clock.epoch_done(self.total_epochs - epoch - 1, now)
    logging.info(
        '[%s] epoch %d/%d %s lr=%s sparsity=%.3f loss=%.3f train_acc=%.3f '
        'test_acc=%.3f test_nll=%.3f%s | %.0f img/s, ETA %s',
        self.config.method, epoch + 1, self.total_epochs, phase.name,
        progress.format_learning_rate(results['train/learning_rate'],
                                      last_lr),
        results['train/sparsity'],
        results['train/loss'], results['train/accuracy'],
        results['test/accuracy'], results['test/negative_log_likelihood'],
        ''.join(f' {name}={results[key]:.3f}' for name, key in (
            ('val_acc', 'validation/accuracy'),
            ('corrupted_acc', 'test/accuracy_mean_corrupted'))
                if key in results),
        images / max(now - epoch_start, 1e-9),
        progress.format_duration(eta))

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

  def next_train_batch(self):
    """A batch of the next epoch's training data (phase-end callbacks)."""
    return next(self._epoch_iterator(self.completed_epochs))


TRAJECTORIES_DIR = 'trajectories'


def save_trajectory_point(output_dir, run_name, epoch, phase_name, probs):
  """Writes trajectories/<run_name>/epoch_<epoch>.npz (probs, phase) whole.

  Points of the paper's Figure 3 (t-SNE of the test predictions along
  training; baselines/analysis/trajectories.py).
  """
  directory = os.path.join(output_dir, TRAJECTORIES_DIR, run_name)
  tf.io.gfile.makedirs(directory)
  files.write_npz(os.path.join(directory, f'epoch_{epoch:04d}.npz'),
                  probs=probs.astype(np.float32), phase=phase_name,
                  epoch=epoch)


def num_workers(strategy):
  """Worker processes of a MultiWorkerMirroredStrategy (else 1: one client
  drives all replicas, a TPU pod's included)."""
  if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
    return 1
  spec = strategy.cluster_resolver.cluster_spec().as_dict()
  return max(1, len(spec.get('worker', [])) + len(spec.get('chief', [])))


def _int(variable):
  """A (possibly mirrored) scalar variable's value as a Python int."""
  return int(variable.numpy())
