"""Tests for sparse_layers/hook.py: custom loops, resume, replicas, fit."""

import os
import tempfile

import numpy as np
import tensorflow as tf

from tests import testing

HAS_TWO_CPUS = testing.use_two_logical_cpus()

# pylint: disable=g-import-not-at-top,wrong-import-position
from sparse_layers import hook as hook_lib
from sparse_layers import schedules
from sparse_layers import sparse_init
from sparse_layers import updaters
from sparse_layers.keras_alias import keras

STEPS_PER_EPOCH = 4


class _Run:
  """A tiny sparse WRN trained UB-style: whole-epoch tf.function loop."""

  def __init__(self, strategy=None, interval=3, updater='rigl', seed=0):
    self.strategy = strategy or tf.distribute.get_strategy()
    keras.utils.set_random_seed(seed)
    with self.strategy.scope():
      self.model = testing.tiny_wrn()
      sparse_init.sparsify(self.model, 0.8, seed=seed)
      self.optimizer = keras.optimizers.SGD(0.1, momentum=0.9, nesterov=True)
      self.optimizer.build(self.model.trainable_variables)
      loss_fn = testing.cross_entropy_loss_fn(self.model)
      self.hook = hook_lib.SparsityHook(
          self.model, updaters.make_updater(updater, seed),
          schedules.ConstantDropFraction(0.5, interval), loss_fn,
          self.optimizer, self.strategy)
    self.traces = 0
    x, y = testing.random_data(16 * STEPS_PER_EPOCH)
    self.dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
    replicas = self.strategy.num_replicas_in_sync

    def step_fn(batch):
      with tf.GradientTape() as tape:
        loss = loss_fn(batch) / replicas
      grads = tape.gradient(loss, self.model.trainable_variables)
      self.optimizer.apply_gradients(zip(grads, self.model.trainable_variables))

    @tf.function
    def train_epoch(iterator):
      self.traces += 1
      for _ in tf.range(STEPS_PER_EPOCH):
        batch = next(iterator)
        self.strategy.run(step_fn, args=(batch,))
        self.hook.after_train_step(batch)

    self._train_epoch = train_epoch

  def train(self, epochs):
    for _ in range(epochs):
      self._train_epoch(
          iter(self.strategy.experimental_distribute_dataset(self.dataset)))

  def masks(self):
    return [layer.mask.numpy() for layer in self.hook.masked_layers]

  def checkpoint(self):
    return tf.train.Checkpoint(model=self.model, optimizer=self.optimizer,
                               sparsity_hook=self.hook)


class SparsityHookTest(tf.test.TestCase):

  def test_updates_fire_every_interval_without_retracing(self):
    run = _Run(interval=3)
    history = [run.masks()]
    for _ in range(3):
      run.train(1)
      history.append(run.masks())
    self.assertEqual(run.traces, 1)
    self.assertEqual(int(run.hook.step), 3 * STEPS_PER_EPOCH)
    # 12 steps, ΔT = 3: updates after steps 3, 6, 9 and 12, so every epoch
    # of 4 steps holds at least one update and every epoch changes masks.
    for before, after in zip(history, history[1:]):
      changed = sum(int((a != b).sum()) for a, b in zip(after, before))
      self.assertGreater(changed, 0)
      for a, b in zip(after, before):
        self.assertEqual(a.sum(), b.sum())
    for layer in run.hook.masked_layers:
      kernel, mask = layer.kernel.numpy(), layer.mask.numpy()
      self.assertEqual(np.count_nonzero(kernel[mask == 0]), 0, layer.name)

  def test_set_and_static_updaters_in_the_loop(self):
    for updater, expect_change in (('set', True), ('static', False)):
      run = _Run(interval=2, updater=updater)
      before = run.masks()
      run.train(1)
      changed = sum(int((a != b).sum()) for a, b in zip(run.masks(), before))
      self.assertEqual(changed > 0, expect_change, updater)
      for a, b in zip(run.masks(), before):
        self.assertEqual(a.sum(), b.sum())

  def test_updates_under_mixed_bfloat16(self):
    keras.mixed_precision.set_global_policy('mixed_bfloat16')
    try:
      run = _Run(interval=2)
      before = run.masks()
      run.train(1)
    finally:
      keras.mixed_precision.set_global_policy('float32')
    changed = 0
    for layer, old in zip(run.hook.masked_layers, before):
      mask, kernel = layer.mask.numpy(), layer.kernel.numpy()
      self.assertEqual(kernel.dtype, np.float32)
      self.assertEqual(mask.sum(), old.sum())
      self.assertEqual(np.count_nonzero(kernel[mask == 0]), 0, layer.name)
      changed += int((mask != old).sum())
    self.assertGreater(changed, 0)

  def test_no_update_before_first_interval(self):
    run = _Run(interval=STEPS_PER_EPOCH + 1)
    before = run.masks()
    run.train(1)
    for a, b in zip(run.masks(), before):
      self.assertAllEqual(a, b)

  def test_reexplore_restarts_exactly_q_of_every_layer_at_zero(self):
    run = _Run(interval=1000)
    run.train(1)
    before = run.masks()
    batch = next(iter(run.dataset))
    reset = int(run.hook.reexplore(batch, 0.8))
    expected = [int(np.floor(0.8 * b.sum())) for b in before]
    self.assertEqual(reset, sum(expected))
    self.assertEqual(int(run.hook.last_grown), reset)
    dense_layers = 0
    for layer, old, count in zip(run.hook.masked_layers, before, expected):
      mask, kernel = layer.mask.numpy(), layer.kernel.numpy()
      self.assertEqual(mask.sum(), old.sum(), layer.name)
      # Regrown weights are exactly 0 (no step since the update).
      self.assertEqual(int(((mask == 1) & (kernel == 0)).sum()), count,
                       layer.name)
      self.assertEqual(np.count_nonzero(kernel[mask == 0]), 0, layer.name)
      dense_layers += int(old.min() == 1)
    # The tiny WRN at S = 0.8 has ERK-dense layers; they took part.
    self.assertGreater(dense_layers, 0)
    with self.assertRaisesRegex(ValueError, r'reexploration fraction must be '
                                r'in \[0, 1\], got 1.2'):
      run.hook.reexplore(batch, 1.2)

  def test_resume_from_checkpoint_continues_exactly(self):
    tf.config.experimental.enable_op_determinism()
    reference = _Run(interval=3)
    reference.train(4)

    first = _Run(interval=3)
    first.train(2)
    path = first.checkpoint().save(os.path.join(tempfile.mkdtemp(), 'ckpt'))
    resumed = _Run(interval=3, seed=99)  # Different init, overwritten below.
    resumed.checkpoint().restore(path).assert_consumed()
    self.assertEqual(int(resumed.hook.step), 2 * STEPS_PER_EPOCH)
    resumed.train(2)
    for a, b in zip(reference.masks(), resumed.masks()):
      self.assertAllEqual(a, b)
    for a, b in zip(reference.model.weights, resumed.model.weights):
      self.assertAllEqual(a.numpy(), b.numpy())

  def test_mirrored_replicas_stay_identical(self):
    if not HAS_TWO_CPUS:
      self.skipTest('TensorFlow started before 2 logical CPUs were set up.')
    strategy = testing.mirrored_strategy()
    run = _Run(strategy=strategy, interval=2)
    before = run.masks()
    run.train(2)
    self.assertEqual(run.traces, 1)
    self.assertNotAllEqual(np.concatenate([m.ravel() for m in before]),
                           np.concatenate([m.ravel() for m in run.masks()]))
    for layer in run.hook.masked_layers:
      for variable in (layer.mask, layer.kernel):
        values = [v.numpy() for v in
                  strategy.experimental_local_results(variable)]
        self.assertLen(values, 2)
        self.assertAllEqual(values[0], values[1])
    for slot in run.optimizer.variables:
      values = [v.numpy() for v in strategy.experimental_local_results(slot)]
      self.assertAllEqual(values[0], values[-1])

  def test_bad_construction(self):
    model = testing.tiny_wrn()
    with self.assertRaisesRegex(ValueError, 'pass loss_fn'):
      hook_lib.SparsityHook(model, updaters.RigLUpdater(),
                            schedules.ConstantDropFraction(0.5, 10))
    with self.assertRaisesRegex(ValueError, 'no MaskedConv2D'):
      hook_lib.SparsityHook(testing.tiny_wrn(masked=False),
                            updaters.SETUpdater(),
                            schedules.ConstantDropFraction(0.5, 10))


class CompiledStepTest(tf.test.TestCase):
  """The masked step and its mask updates in replica context, under XLA."""

  def _train(self, updater, jit_compile, steps=6):
    keras.utils.set_random_seed(0)
    model = testing.small_cnn()
    sparse_init.sparsify(model, 0.8, seed=0)
    optimizer = keras.optimizers.SGD(0.1, momentum=0.9)
    optimizer.build(model.trainable_variables)
    loss_fn = testing.cross_entropy_loss_fn(model)
    hook = hook_lib.SparsityHook(
        model, updaters.make_updater(updater, 0),
        schedules.ConstantDropFraction(0.5, 2), loss_fn, optimizer,
        jit_compile=jit_compile)
    batch = tuple(tf.constant(a) for a in testing.random_data(16))

    def step(batch):
      with hook.gradient_scope():
        with tf.GradientTape() as tape:
          loss = loss_fn(batch)
      grads = tape.gradient(loss, model.trainable_variables)
      hook.apply_gradients(zip(grads, model.trainable_variables))

    compiled = tf.function(step, jit_compile=jit_compile)
    before = [layer.mask.numpy() for layer in hook.masked_layers]
    for _ in range(steps):
      compiled(batch)
    return hook, optimizer, compiled, batch, before

  def test_every_updater_in_the_compiled_step(self):
    for updater in ('rigl', 'set', 'static'):
      hook, optimizer, _, _, before = self._train(updater, True)
      self.assertEqual(int(hook.step), 6)
      self.assertEqual(int(optimizer.iterations), 6)
      changed = 0
      for layer, old in zip(hook.masked_layers, before):
        mask, kernel = layer.mask.numpy(), layer.kernel.numpy()
        self.assertEqual(mask.sum(), old.sum(), layer.name)
        self.assertEqual(np.count_nonzero(kernel[mask == 0]), 0, layer.name)
        changed += int((mask != old).sum())
      self.assertEqual(changed > 0, updater != 'static', updater)
      # The graph path's first update chooses alike. Not bit for bit:
      # XLA's fused arithmetic moves weights in the last bits, which can
      # swap near-equal magnitudes at a drop, and later updates compound
      # that (the updaters agree exactly on equal inputs,
      # test_updaters.py).
      first = [l.mask.numpy() for l in self._train(
          updater, True, steps=2)[0].masked_layers]
      graph_masks = [l.mask.numpy() for l in self._train(
          updater, False, steps=2)[0].masked_layers]
      same = sum(int((a == b).sum()) for a, b in zip(first, graph_masks))
      total = sum(m.size for m in graph_masks)
      self.assertGreater(same / total, 0.99, updater)

  def test_compiled_step_has_no_float64_and_reexplore_compiles(self):
    hook, _, compiled, batch, _ = self._train('rigl', True, steps=1)
    self.assertNotIn(tf.float64, testing.graph_dtypes(compiled, batch))
    active = [int(l.mask.numpy().sum()) for l in hook.masked_layers]
    reset = int(hook.reexplore(batch, 0.8))  # XLA (jit_compile=True).
    self.assertEqual(reset, sum(int(np.floor(0.8 * n)) for n in active))
    self.assertEqual([int(l.mask.numpy().sum()) for l in hook.masked_layers],
                     active)

  def test_apply_gradients_needs_replica_context(self):
    if not HAS_TWO_CPUS:
      self.skipTest('TensorFlow started before 2 logical CPUs were set up.')
    hook = self._train('rigl', False, steps=0)[0]
    with testing.mirrored_strategy().scope():  # Cross-replica context.
      with self.assertRaisesRegex(ValueError, 'runs in replica context'):
        hook.apply_gradients([])


class SparsityCallbackTest(tf.test.TestCase):

  def test_fit_updates_on_schedule_and_keeps_zeros(self):
    model = testing.tiny_wrn()
    sparse_init.sparsify(model, 0.8, seed=0)
    optimizer = keras.optimizers.SGD(0.1, momentum=0.9)
    model.compile(optimizer, keras.losses.SparseCategoricalCrossentropy(
        from_logits=True))
    x, y = testing.random_data(64)
    grow_data = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
    hook = hook_lib.SparsityHook(
        model, updaters.RigLUpdater(), schedules.ConstantDropFraction(0.5, 2),
        testing.cross_entropy_loss_fn(model), optimizer)
    before = [layer.mask.numpy() for layer in hook.masked_layers]
    callback = hook_lib.SparsityCallback(hook, grow_data)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[callback])
    traces = model.train_function.experimental_get_tracing_count()
    masks_after_first_fit = [layer.mask.numpy() for layer in hook.masked_layers]
    # Updates after steps 6 and 8 must not retrace Keras' train function.
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[callback])
    self.assertEqual(model.train_function.experimental_get_tracing_count(),
                     traces)
    self.assertNotAllEqual(
        np.concatenate([m.ravel() for m in masks_after_first_fit]),
        np.concatenate([l.mask.numpy().ravel() for l in hook.masked_layers]))
    self.assertEqual(int(hook.step), int(optimizer.iterations))
    self.assertEqual(int(hook.step), 8)
    changed = 0
    for layer, old in zip(hook.masked_layers, before):
      mask, kernel = layer.mask.numpy(), layer.kernel.numpy()
      self.assertEqual(mask.sum(), old.sum())
      self.assertEqual(np.count_nonzero(kernel[mask == 0]), 0)
      changed += int((mask != old).sum())
    self.assertGreater(changed, 0)

  def test_gradient_updater_needs_grow_data(self):
    model = testing.tiny_wrn()
    hook = hook_lib.SparsityHook(
        model, updaters.RigLUpdater(), schedules.ConstantDropFraction(0.5, 2),
        testing.cross_entropy_loss_fn(model))
    with self.assertRaisesRegex(ValueError, 'needs grow_data'):
      hook_lib.SparsityCallback(hook)


if __name__ == '__main__':
  tf.test.main()
