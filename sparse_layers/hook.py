"""Drives mask changes from a training loop: `SparsityHook` and a callback.

In a custom loop (UB style: a compiled loop of `strategy.run` steps) the hook
takes over the step's `optimizer.apply_gradients`, in replica context, so
that the whole step, mask updates included, is one compiled program on each
replica (XLA with `jit_compile=True`; TPUs compile it anyway):

    def step_fn(batch):                              # replica context
      with sparsity_hook.gradient_scope():           # dense kernel gradients
        with tf.GradientTape() as tape:
          loss = per_replica_mean_loss(batch) / strategy.num_replicas_in_sync
      grads = tape.gradient(loss, model.trainable_variables)
      sparsity_hook.apply_gradients(zip(grads, model.trainable_variables))

    @tf.function
    def train_loop(iterator, num_steps):
      for _ in tf.range(num_steps):
        strategy.run(step_fn, args=(next(iterator),))

`apply_gradients` sums the gradients over replicas, applies them (a layer
with `inactive_gradient='zero'` gets its kernel gradient masked), counts the
step in a checkpointable variable and, on the schedule's update steps
(Algorithm 2, line 6), updates the masks with the step's summed dense
kernel gradients: the gradient of the step's own backward pass, taken
before its weight update, as the FreeTickets authors' code does (the drop
uses the updated weights). Every replica computes the same masks from the
same summed gradients and assigns its own copy, so nothing leaves the
device, and mask changes are variable assignments: the compiled step is
never retraced. `reexplore(batch, q)` is EDST's large re-exploration
(Algorithm 1, line 20): the same update with fraction q, on the dense
gradient of `batch`.

`after_train_step(batch)` is the cross-replica form, called after
`strategy.run(step_fn, ...)`: on update steps it computes the dense
gradient of `batch` (after the step's update). `model.fit` users add
`SparsityCallback(hook, grow_data)`, which uses it with a separate batch
(as RigL's TF code).
"""

import contextlib

import tensorflow as tf

from sparse_layers import layers as masked
from sparse_layers import schedules
from sparse_layers.keras_alias import keras

_SUM = tf.distribute.ReduceOp.SUM


class TrainingHook(tf.Module):
  """Base of the hooks: counts optimizer steps, changes masks on the device.

  Create it under the strategy's scope (like the model and optimizer) and
  put it in the checkpoint: `tf.train.Checkpoint(model=..., optimizer=...,
  sparsity_hook=hook)`. Subclasses give `_on_step(step, kernel_gradients)`
  (in replica context, compilable) and `_on_batch(step, batch)` (the
  cross-replica form).
  """

  def __init__(self, model, optimizer=None, strategy=None, name=None):
    super().__init__(name=name)
    self._layers = masked.masked_layers(model)
    if not self._layers:
      raise ValueError('the model has no MaskedConv2D / MaskedDense layers.')
    self._optimizer = optimizer
    self._strategy = strategy or tf.distribute.get_strategy()
    self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name='step')

  @property
  def masked_layers(self):
    return list(self._layers)

  def gradient_scope(self):
    """The context of the step's forward and backward pass (see subclasses)."""
    return contextlib.nullcontext()

  def apply_gradients(self, grads_and_vars):
    """One optimizer step with gradients summed over replicas, then the
    hook's step (replica context; the gradients are per replica, as for
    `optimizer.apply_gradients`).

    Returns:
      The dense kernel gradients summed over replicas, in
      `masked_layers` order (None where a kernel had none).

    Raises:
      ValueError: in cross-replica context, or without an optimizer.
    """
    if self._optimizer is None:
      raise ValueError(f'{type(self).__name__}.apply_gradients needs the '
                       f'optimizer: pass optimizer= to the hook.')
    context = tf.distribute.get_replica_context()
    if context is None:
      raise ValueError('apply_gradients runs in replica context (inside '
                       'strategy.run); in cross-replica code call '
                       'after_train_step(batch) after the step instead.')
    pairs = [(g, v) for g, v in grads_and_vars if g is not None]
    summed = context.all_reduce(_SUM, [g for g, _ in pairs])
    by_variable = {v.ref(): g for g, (_, v) in zip(summed, pairs)}
    kernel_grads = [by_variable.get(l.kernel.ref()) for l in self._layers]
    masks = {l.kernel.ref(): l.mask for l in self._layers
             if l.inactive_gradient == 'zero'}
    applied = [(g * tf.cast(masks[v.ref()], g.dtype) if v.ref() in masks
                else g, v) for g, (_, v) in zip(summed, pairs)]
    # Summed here: the optimizer must not sum again (both Keras APIs).
    self._optimizer.apply_gradients(applied,
                                    experimental_aggregate_gradients=False)
    self._on_step(self.step.assign_add(1), kernel_grads)
    return kernel_grads

  def after_train_step(self, batch=None):
    """Counts one optimizer step (cross-replica context, after the step)."""
    self._on_batch(self.step.assign_add(1), batch)

  def next_update_step(self, step):
    """The first step after `step` (a Python int) at whose end the masks
    may change, or None if none follows (a loop can stop there to log
    them)."""
    del step
    return None

  def _on_step(self, step, kernel_gradients):
    raise NotImplementedError

  def _on_batch(self, step, batch):
    raise NotImplementedError

  def _run_on_replicas(self, fn, *args):
    """fn(*args) on every replica; replica 0's result (all are equal)."""
    results = self._strategy.run(fn, args=args)
    return self._strategy.experimental_local_results(results)[0]


class SparsityHook(TrainingHook):
  """Counts steps and fires DST mask updates; its `step` is checkpointable.

  The schedule position is a function of `step`, and the updater's random
  choices are seeded by it, so a resumed run continues exactly.
  """

  def __init__(self, model, updater, schedule, loss_fn=None, optimizer=None,
               strategy=None, name='sparsity_hook', jit_compile=False):
    """Creates the hook.

    Args:
      model: the Keras model holding masked layers.
      updater: a `MaskUpdater`.
      schedule: a `DropFractionSchedule`.
      loss_fn: `loss_fn(batch) -> scalar loss` (per replica), for the dense
        gradient of `reexplore` and `after_train_step`; required when
        `updater.needs_gradient`. If it calls the model with training=True,
        BatchNorm's moving statistics see that batch once more.
      optimizer: the optimizer of `apply_gradients`, whose slots are zeroed
        for dropped weights of layers with inactive_gradient='zero'.
      strategy: defaults to the current `tf.distribute` strategy.
      name: module name.
      jit_compile: compile each replica's part of `reexplore` and
        `after_train_step` (the dense gradient, the update) with XLA: one
        device or GPUs (TPUs compile it anyway).
    """
    super().__init__(model, optimizer, strategy, name)
    if updater.needs_gradient and loss_fn is None:
      raise ValueError(f'{type(updater).__name__} grows by gradient: pass '
                       'loss_fn(batch) -> loss to SparsityHook.')
    self.updater = updater
    self.schedule = schedule
    self._loss_fn = loss_fn
    # Weights (re)grown at 0 by the most recent update.
    self.last_grown = tf.Variable(0, dtype=tf.int32, trainable=False,
                                  name='last_grown')
    self._replica_update, self._replica_gradients = (
        self._update, self._dense_gradients)
    if jit_compile:
      self._replica_update = tf.function(self._update, jit_compile=True)
      self._replica_gradients = tf.function(self._dense_gradients,
                                            jit_compile=True)
    self._reexplore = tf.function(self._update_from_batch)

  def gradient_scope(self):
    """Dense kernel gradients in the step (`layers.dense_gradient_scope`)
    when the updater grows by gradient: RigL's grow score (Eq. 2)."""
    if self.updater.needs_gradient:
      return masked.dense_gradient_scope()
    return contextlib.nullcontext()

  def reexplore(self, batch, fraction):
    """Drops `fraction` of each layer's active weights and regrows as many.

    Call it in cross-replica context (outside `strategy.run`).

    Args:
      batch: the batch for the grow gradient (ignored by SET / static).
      fraction: q in [0, 1] (EDST: 0.8).

    Returns:
      int32 tensor: weights restarted at 0 (see `MaskUpdater.update`).
    """
    if isinstance(fraction, (int, float)):
      schedules.check_fraction(fraction, 'reexploration fraction')
    return self._reexplore(batch, tf.cast(fraction, tf.float32))

  def next_update_step(self, step):
    return self.schedule.next_update_step(step)

  def current_drop_fraction(self):
    """The schedule's drop fraction at the current step."""
    return self.schedule.drop_fraction(self.step)

  def _on_step(self, step, kernel_gradients):
    def update():
      return self._update(kernel_gradients, self.schedule.drop_fraction(step))

    tf.cond(self.schedule.is_update_step(step), update,
            lambda: tf.constant(0, tf.int32))

  def _on_batch(self, step, batch):
    if self.schedule.is_update_step(step):
      self._update_from_batch(batch, self.schedule.drop_fraction(step))

  def _update(self, gradients, fraction):
    """The update on this replica (gradients already summed)."""
    if self.updater.needs_gradient and any(g is None for g in gradients):
      raise ValueError(f'{type(self.updater).__name__} needs the dense '
                       f'gradient of every masked kernel: compute the step '
                       f'inside hook.gradient_scope().')
    grown = self.updater.update(self._layers, fraction, self.step, gradients,
                                self._optimizer)
    self.last_grown.assign(grown)
    return grown

  def _update_from_batch(self, batch, fraction):
    """The update with the dense gradient of `batch` (cross-replica)."""
    gradients = None
    if self.updater.needs_gradient:
      per_replica = self._strategy.run(self._replica_gradients,
                                       args=(batch,))
      gradients = [self._strategy.reduce(_SUM, g, axis=None)
                   for g in per_replica]
    return self._run_on_replicas(self._replica_update, gradients, fraction)

  def _dense_gradients(self, batch):
    kernels = [layer.kernel for layer in self._layers]
    with masked.dense_gradient_scope():
      with tf.GradientTape() as tape:
        loss = self._loss_fn(batch)
      return tape.gradient(loss, kernels)


class SparsityCallback(keras.callbacks.Callback):
  """Runs a `SparsityHook` inside `model.fit` (DST updates, Algorithm 2).

  The update due after optimizer step t runs just before step t + 1 trains
  (at that batch's or epoch's start; after the last epoch, at its end), once
  per step. Every decision is a function of `optimizer.iterations`, which
  Keras checkpoints with the model, and a backup (`BackupAndRestore`, at a
  batch's or an epoch's end) never holds a step's update without the next
  step, so a restored run applies each update exactly once, whatever the
  order of the callbacks. The grow gradient of the update after step t uses
  batch floor(t / ΔT) mod n of the first n = `num_grow_batches` batches of
  `grow_data` (read once), so a resumed run draws the same batch. Keras calls
  batch callbacks once per `steps_per_execution` steps, so the model must be
  compiled with `steps_per_execution=1`.
  """

  def __init__(self, hook, grow_data=None, num_grow_batches=8):
    """Creates the callback.

    Args:
      hook: a `SparsityHook` whose loss_fn takes an (x, y) batch; create it
        under the strategy's scope when training under one.
      grow_data: an iterable of batches for the grow gradient; required when
        the hook's updater needs gradients.
      num_grow_batches: how many of its first batches are kept and cycled.
    """
    super().__init__()
    if hook.updater.needs_gradient and grow_data is None:
      raise ValueError('SparsityCallback needs grow_data for a gradient-based '
                       'updater.')
    if not isinstance(num_grow_batches, int) or num_grow_batches < 1:
      raise ValueError(f'num_grow_batches must be an integer >= 1, got '
                       f'{num_grow_batches!r}.')
    self.hook = hook
    self._grow_data = grow_data
    self._num_grow_batches = num_grow_batches
    self._grow_batches = None
    self._handled_step = None
    self._after_step = tf.function(hook.after_train_step)

  def grow_batch(self, step):
    """The grow gradient's batch for an update after `step`."""
    if self._grow_data is None:
      return tf.constant(0)
    if self._grow_batches is None:
      self._grow_batches = []
      for batch in self._grow_data:
        self._grow_batches.append(tf.nest.map_structure(tf.convert_to_tensor,
                                                        batch))
        if len(self._grow_batches) == self._num_grow_batches:
          break
      if not self._grow_batches:
        raise ValueError('grow_data holds no batch.')
    interval = self.hook.schedule.update_interval
    return self._grow_batches[(step // interval) % len(self._grow_batches)]

  def optimizer_step(self):
    """The model's optimizer step (`iterations`) as a Python int."""
    return int(self.model.optimizer.iterations.numpy())

  def apply_pending_update(self):
    """Runs the update due after the model's last step, once per step."""
    step = self.optimizer_step()
    if step == self._handled_step:
      return
    self._handled_step = step
    # after_train_step counts the step, then updates if it is due.
    self.hook.step.assign(step - 1)
    self._after_step(self.grow_batch(step))

  def on_epoch_begin(self, epoch, logs=None):
    execution = getattr(self.model, '_steps_per_execution', None)
    if execution is not None and int(execution.numpy()) != 1:
      raise ValueError(f'{type(self).__name__} updates masks after single '
                       f'steps: compile the model with steps_per_execution=1 '
                       f'(got {int(execution.numpy())}).')
    self.apply_pending_update()

  def on_train_batch_begin(self, batch, logs=None):
    self.apply_pending_update()

  def on_epoch_end(self, epoch, logs=None):
    if epoch + 1 == self.params.get('epochs'):
      self.apply_pending_update()
