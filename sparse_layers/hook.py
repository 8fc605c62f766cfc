"""Drives mask updates from a training loop: `SparsityHook` and a callback.

Custom loops (UB style, a whole-epoch `tf.function` with `strategy.run`) call
`hook.after_train_step(batch)` after each `strategy.run(step_fn, ...)`, in
cross-replica context:

    @tf.function
    def train_epoch(iterator):
      for _ in tf.range(steps_per_epoch):
        batch = next(iterator)
        strategy.run(step_fn, args=(batch,))
        hook.after_train_step(batch)

The hook counts optimizer steps in a checkpointable variable and, on the
schedule's update steps (Algorithm 2, line 6), computes the dense gradient of
`loss_fn` on the current batch (after that step's weight update), sums it over
replicas and calls the updater. Mask changes are variable assignments, so the
compiled train step is never retraced. `reexplore(batch, q)` is EDST's large
re-exploration (Algorithm 1, line 20): the same update with fraction q.

`model.fit` users add `SparsityCallback(hook, grow_data)` instead; it takes the
grow gradient's batch from `grow_data` (a separate batch, as RigL's TF code).
"""

import tensorflow as tf

from sparse_layers import layers as masked
from sparse_layers import schedules
from sparse_layers.keras_alias import keras


class SparsityHook(tf.Module):
  """Counts steps and fires mask updates; its `step` is checkpointable.

  Create it under the strategy's scope (like the model and optimizer) and put
  it in the checkpoint: `tf.train.Checkpoint(model=..., optimizer=...,
  sparsity_hook=hook)`. The schedule position is a function of `step`, and the
  updater's random choices are seeded by it, so a resumed run continues
  exactly.
  """

  def __init__(self, model, updater, schedule, loss_fn=None, optimizer=None,
               strategy=None, name='sparsity_hook'):
    """Creates the hook.

    Args:
      model: the Keras model holding masked layers.
      updater: a `MaskUpdater`.
      schedule: a `DropFractionSchedule`.
      loss_fn: `loss_fn(batch) -> scalar loss` (per replica), for the dense
        grow gradient; required when `updater.needs_gradient`. If it calls
        the model with training=True, BatchNorm's moving statistics see that
        batch once more per update.
      optimizer: the optimizer whose slots are zeroed for dropped weights.
      strategy: defaults to the current `tf.distribute` strategy.
      name: module name.
    """
    super().__init__(name=name)
    if updater.needs_gradient and loss_fn is None:
      raise ValueError(f'{type(updater).__name__} grows by gradient: pass '
                       'loss_fn(batch) -> loss to SparsityHook.')
    self._layers = masked.masked_layers(model)
    if not self._layers:
      raise ValueError('the model has no MaskedConv2D / MaskedDense layers.')
    self.updater = updater
    self.schedule = schedule
    self._loss_fn = loss_fn
    self._optimizer = optimizer
    self._strategy = strategy or tf.distribute.get_strategy()
    self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name='step')
    # Weights (re)grown at 0 by the most recent update.
    self.last_grown = tf.Variable(0, dtype=tf.int32, trainable=False,
                                  name='last_grown')

  @property
  def masked_layers(self):
    return list(self._layers)

  def after_train_step(self, batch):
    """Counts one optimizer step; updates masks if the schedule says so."""
    step = self.step.assign_add(1)
    if self.schedule.is_update_step(step):
      self._update(batch, self.schedule.drop_fraction(step))

  def reexplore(self, batch, fraction):
    """Drops `fraction` of each layer's active weights and regrows as many.

    Args:
      batch: the batch for the grow gradient (ignored by SET / static).
      fraction: q in [0, 1] (EDST: 0.8).

    Returns:
      int32 tensor: weights restarted at 0 (see `MaskUpdater.update`).
    """
    if isinstance(fraction, (int, float)):
      schedules.check_fraction(fraction, 'reexploration fraction')
    return self._update(batch, fraction)

  def current_drop_fraction(self):
    """The schedule's drop fraction at the current step."""
    return self.schedule.drop_fraction(self.step)

  def _update(self, batch, fraction):
    gradients = (self._dense_gradients(batch)
                 if self.updater.needs_gradient else None)
    grown = self.updater.update(self._layers, fraction, self.step, gradients,
                                self._optimizer)
    self.last_grown.assign(grown)
    return grown

  def _dense_gradients(self, batch):
    kernels = [layer.kernel for layer in self._layers]

    def replica_gradients(batch):
      with masked.dense_gradient_scope():
        with tf.GradientTape() as tape:
          loss = self._loss_fn(batch)
        return tape.gradient(loss, kernels)

    per_replica = self._strategy.run(replica_gradients, args=(batch,))
    return [self._strategy.reduce(tf.distribute.ReduceOp.SUM, g, axis=None)
            for g in per_replica]


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
