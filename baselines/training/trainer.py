"""The compiled part of a run: model, optimizer, hook and the step loop.

Training runs in compiled loops of `strategy.run` steps (UB style): each
loop runs N steps (`host_loops`: `steps_per_loop`, or the rest of the epoch
within about 30 s) and returns to the host once. The step function
(default `train_step.default_train_step`) runs in replica context; with
`jit_compile` XLA compiles it (TPUs compile it anyway). A hook (the
sparsity hook, or gradual pruning) takes over the step's
`apply_gradients` and updates masks on the device, inside the step. A
non-finite loss is recorded on the device and read once per loop, with
the preemption notice (summed over workers, `host_loops.notice_poll`).
"""

import contextlib
import hashlib
import time
from typing import Callable, Optional, Sequence

import numpy as np
import tensorflow as tf

from baselines.data import pipeline
from baselines.evaluation import metrics as metrics_lib
from baselines.runtime import devices
from baselines.runtime import strategies
from baselines.training import host_loops
from baselines.training import losses
from baselines.training import optimizers
from sparse_layers import phases as phases_lib
from sparse_layers import schedules
from sparse_layers.keras_alias import keras


class NonFiniteLossError(RuntimeError):
  """The training loss became NaN or Inf; nothing was saved after it."""


class Trainer:
  """Builds the model, optimizer and hook under the strategy; runs steps.

  `epoch` and `completed_phases` are the run's progress variables;
  `optimizer.iterations` is the global step.
  """

  def __init__(self, config, strategy, model_fn: Callable,
               phases: Sequence[phases_lib.Phase], step: Callable,
               hook_fn: Optional[Callable] = None,
               init_fn: Optional[Callable] = None,
               optimizer_fn: Optional[Callable] = None,
               loss_fn: Optional[Callable] = None, notice=None):
    """Builds the parts under the strategy's scope.

    Args:
      config: the run configuration (`loop.RunConfig`).
      strategy: a tf.distribute strategy.
      model_fn: () -> Keras model (logits).
      phases: the plan (the LR schedule spans it).
      step: (batch) -> loss, one update on one replica (`loop.Run`'s step
        function bound to its run).
      hook_fn: (model, optimizer, loss_fn) -> a `hook.TrainingHook`
        (SparsityHook, GradualPruningHook) or None; the step applies its
        gradients through it (`apply_gradients`).
      init_fn: (model) -> None, after creation and before restoring.
      optimizer_fn: (learning-rate schedule) -> Keras optimizer; default
        SGD with the config's momentum (`optimizers.sgd`).
      loss_fn: (labels, float32 logits) -> the mean training loss of a
        batch (before regularisation); default cross entropy, e.g.
        `losses.label_smoothing_loss(0.1)` on ImageNet. `train/
        negative_log_likelihood` is the plain NLL either way.
      notice: the process's `preemption.notice()`.
    """
    self.config = config
    self.strategy = strategy
    self.steps_per_epoch = (config.train_split.num_examples //
                            config.global_batch_size)
    if self.steps_per_epoch < 1:
      raise ValueError(f'the training split ({config.train_split.num_examples}'
                       f' examples) is smaller than one global batch '
                       f'({config.global_batch_size}).')
    self.loss_fn = loss_fn or losses.cross_entropy
    self._step = step
    with strategy.scope():
      self._build(model_fn, phases, hook_fn, init_fn, optimizer_fn)
    self._loops = host_loops.LoopSizer(config.steps_per_loop)
    self.host_loops = 0  # Compiled training loops run by this process.
    self.on_mask_update = None  # (step) -> None: see `_train_steps`.
    self.compiled_loop = host_loops.compiled_loop(
        strategy, devices.compiled(self._replica_step, config.jit_compile,
                                   strategy), self.optimizer.iterations)
    self._poll = host_loops.notice_poll(
        strategy, notice.requested, strategies.num_workers(strategy) > 1)

  def _build(self, model_fn, phases, hook_fn, init_fn, optimizer_fn):
    """The model, optimizer, hook, progress and train metrics (in scope)."""
    config = self.config
    self.model = model_fn()
    if init_fn:
      init_fn(self.model)
    self.schedule = schedules.plan_learning_rate(
        phases, self.steps_per_epoch, config.base_learning_rate,
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
    loss = self._step(batch)
    context = tf.distribute.get_replica_context()
    total = context.all_reduce(tf.distribute.ReduceOp.SUM, loss)
    first = tf.logical_and(self.nonfinite_step < 0,
                           tf.logical_not(tf.math.is_finite(total)))
    self.nonfinite_step.assign(tf.where(first, self.optimizer.iterations,
                                        self.nonfinite_step))

  def preemption_requested(self):
    """Whether any worker got a preemption notice (a Python bool)."""
    return bool(self._poll(tf.constant(0.0))[0])

  def epoch_iterator(self, epoch, skip_steps=0):
    """The epoch's distributed batches, from `skip_steps` on."""
    return epoch_iterator(self.strategy, self.config, epoch, skip_steps)

  @property
  def completed_epochs(self):
    """Epochs trained so far (restored on resume)."""
    return to_int(self.epoch)

  def steps_into_epoch(self):
    """Steps of the current epoch already trained (0 at a boundary)."""
    return (to_int(self.optimizer.iterations) -
            self.completed_epochs * self.steps_per_epoch)

  def train_epoch(self, epoch, answer_preemption, describe_last_checkpoint):
    """Trains the rest of epoch `epoch` (from 0); returns its train metrics.

    `answer_preemption()` checkpoints and raises; `describe_last_checkpoint()`
    completes a NonFiniteLossError's message.
    """
    start = time.time()
    if not self.steps_into_epoch():  # Else resumed: metrics were restored.
      for metric in self.train_metrics.values():
        metric.reset_state()
    self._train_steps(epoch, answer_preemption, describe_last_checkpoint)
    seconds = time.time() - start
    self.epoch.assign_add(1)
    results = {k: float(m.result()) for k, m in self.train_metrics.items()}
    results['train/ms_per_example'] = 1000.0 * seconds / (
        self.steps_per_epoch * self.config.global_batch_size)
    return results

  def _train_steps(self, epoch, answer_preemption,
                   describe_last_checkpoint):
    """The epoch's remaining steps, in compiled loops (`host_loops`); a
    loop also ends at a step where the hook may change the masks, and
    `on_mask_update(step)` runs there (the per-layer sparsity summaries).

    After each loop the host checks for a non-finite loss (raises
    NonFiniteLossError, saving nothing) and for a preemption notice (calls
    `answer_preemption()`, which raises, unless the epoch is done: then it
    is answered at the next epoch's start).
    """
    first_step = to_int(self.optimizer.iterations)
    iterator = self.epoch_iterator(epoch, self.steps_into_epoch())
    while self.steps_into_epoch() < self.steps_per_epoch:
      steps = self._loops.next_size(self.steps_per_epoch -
                                    self.steps_into_epoch())
      steps, update = until_mask_update(
          self.hook, self.on_mask_update, to_int(self.optimizer.iterations),
          steps)
      start = time.time()
      self.compiled_loop(iterator, tf.constant(steps, tf.int64))
      self.host_loops += 1
      nonfinite = to_int(self.nonfinite_step)  # Waits for the loop's end.
      if nonfinite >= 0:
        raise NonFiniteLossError(
            f'non-finite training loss at epoch {epoch + 1} (step '
            f'{nonfinite - first_step + 1} of {self.steps_per_epoch}, global '
            f'step {nonfinite + 1}) of {describe_last_checkpoint()}')
      check_hook_steps(self.hook, self.optimizer)
      if update is not None:
        self.on_mask_update(update)
      requested, seconds = self._poll(tf.constant(time.time() - start,
                                                  tf.float32))
      self._loops.record(steps, float(seconds))
      if bool(requested) and self.steps_into_epoch() < self.steps_per_epoch:
        answer_preemption()

  def digest(self):
    """The model's weights digest (`weights_digest`)."""
    return weights_digest(self.model)



def check_hook_steps(hook, optimizer):
  """Raises if a step function bypassed `apply_gradients` (the hook must
  count every optimizer step: its schedule and seeds depend on it)."""
  if hook is None:
    return
  hook_step, step = to_int(hook.step), to_int(optimizer.iterations)
  if hook_step != step:
    raise RuntimeError(
        f'the sparsity hook counted {hook_step} steps and the optimizer '
        f'{step}: a step function must apply its update through '
        f'run.apply_gradients.')


def until_mask_update(hook, listener, step, steps):
  """(steps, update) of the loop after `step`: with a `listener`, cut to end
  at the hook's next update step if one falls within `steps` (`update` is
  that step), else `steps` and None."""
  update = hook.next_update_step(step) if hook and listener else None
  if update is None or update > step + steps:
    return steps, None
  return update - step, update


def to_int(variable):
  """A (possibly mirrored) scalar variable's value as a Python int."""
  return int(variable.numpy())


def epoch_iterator(strategy, config, epoch, skip_steps=0):
  """Epoch `epoch`'s distributed training batches, from `skip_steps` on.

  One input pipeline per host (`distribute_datasets_from_function`), each
  yielding per-replica batches of its shard (`pipeline.train_dataset`).
  """
  replicas = strategy.num_replicas_in_sync

  def dataset_fn(context):
    dataset = pipeline.train_dataset(
        config.train_split,
        context.get_per_replica_batch_size(config.global_batch_size),
        config.seed, epoch, config.preprocessing,
        context.num_input_pipelines, context.input_pipeline_id)
    if skip_steps:  # Resuming inside the epoch: the same later batches.
      dataset = dataset.skip(
          skip_steps * replicas // context.num_input_pipelines)
    return dataset

  return iter(strategy.distribute_datasets_from_function(dataset_fn))


def weights_digest(model):
  """SHA-256 of the model's replicated variables (weights, masks): equal on
  every worker of a multi-worker run. BatchNorm's moving statistics (per
  replica, synchronised on read) are left out."""
  hasher = hashlib.sha256()
  for variable in model.variables:
    if variable.synchronization != tf.VariableSynchronization.ON_READ:
      hasher.update(np.ascontiguousarray(variable.numpy()).tobytes())
  return hasher.hexdigest()[:16]
