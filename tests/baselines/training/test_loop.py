"""Tests for baselines/loop.py: LR plan, replicas, phases in-process."""

import numpy as np
import tensorflow as tf

from tests import testing

HAS_TWO_CPUS = testing.use_two_logical_cpus()

# pylint: disable=g-import-not-at-top,wrong-import-position
from baselines.data import cifar
from baselines.data import pipeline
from baselines.training import loop
from baselines.training import reexploration
from sparse_layers import models
from sparse_layers import phases
from sparse_layers.keras_alias import keras


def _split(n, seed):
  rng = np.random.default_rng(seed)
  x = rng.integers(0, 256, (n, 32, 32, 3)).astype(np.uint8)
  y = rng.integers(0, 10, n).astype(np.int64)
  return pipeline.Split('random', tf.data.Dataset.from_tensor_slices((x, y)), n)


def _no_bn_model():
  """A masked CNN without BatchNorm: its replicas see the global batch."""
  return testing.small_cnn(image_size=32, num_classes=10)


def _config(output_dir, **overrides):
  return loop.RunConfig(
      output_dir=output_dir, seed=1, global_batch_size=16,
      base_learning_rate=0.05, momentum=0.9, num_bins=15,
      checkpoint_interval=1, warmup_epochs=0, method='edst',
      train_split=_split(48, 0), test_split=_split(16, 1), num_classes=10,
      preprocessing=cifar.PREPROCESSING['cifar10'], **overrides)


def _make_edst_run(strategy, output_dir, model_builder, **overrides):
  """A sparse EDST run (RigL every 2 steps): 3 steps an epoch, 3 epochs."""
  return loop.Run(_config(output_dir, **overrides), strategy,
                  testing.sparse_model_fn(model_builder),
                  phases.edst_phases(1, 1, 2, 0.8), 'run',
                  testing.rigl_hook_fn(2, strategy),
                  phase_end_callbacks=[reexploration.Reexploration()])


def _edst_run(strategy, output_dir, model_builder):
  run = _make_edst_run(strategy, output_dir, model_builder)
  tickets = {}

  def on_ticket(index, run, path):
    del path
    tickets[index] = [v.numpy() for v in run.model.variables]

  run.train(on_ticket=on_ticket)
  return run, tickets


class ReplicasTest(tf.test.TestCase):

  def setUp(self):
    super().setUp()
    if not HAS_TWO_CPUS:
      self.skipTest('TensorFlow started before 2 logical CPUs were set up.')
    self.mirrored = testing.mirrored_strategy()

  def test_replicas_identical_after_edst_with_reexploration(self):
    run, _ = _edst_run(self.mirrored, self.get_temp_dir(),
                       lambda: models.wide_resnet((32, 32, 3), 10, 1, 10))
    self.assertLen(
        [h for h in run.history if 'reexploration_reset' in h], 1)
    sync_on_read = 0
    for variable in run.model.variables + run.optimizer.variables:
      values = [v.numpy() for v in
                self.mirrored.experimental_local_results(variable)]
      self.assertLen(values, 2)
      if variable.synchronization == tf.VariableSynchronization.ON_READ:
        # BatchNorm's moving statistics: per replica by Keras' design; a
        # read (and a checkpoint) gives their mean.
        self.assertAllClose(variable.numpy(), np.mean(values, 0), atol=1e-6)
        sync_on_read += 1
        continue
      self.assertAllEqual(values[0], values[1], msg=variable.name)
    self.assertEqual(sync_on_read, 2 * 7)  # 7 BatchNorm layers in WRN-10-1.

  def test_two_replicas_match_one_replica_at_the_same_global_batch(self):
    builders = {'no_bn': _no_bn_model,
                'sync_bn': lambda: models.wide_resnet(
                    (32, 32, 3), 10, 1, 10, sync_batch_norm=True)}
    for name, builder in builders.items():
      two_run, two = _edst_run(self.mirrored,
                               f'{self.get_temp_dir()}/{name}_two', builder)
      _, one = _edst_run(tf.distribute.get_strategy(),
                         f'{self.get_temp_dir()}/{name}_one', builder)
      self.assertEqual(sorted(two), [0, 1])
      # Ticket 0 (exploration and refinement 1, DST updates included) is
      # the same model. After the re-exploration restarts 80% of the weights
      # at 0, many small weights are near-ties for the next magnitude drop,
      # and the summation order of 2 replicas flips a few of them: ticket 1
      # differs in a few mask bits, not more.
      for a, b in zip(two[0], one[0]):
        self.assertAllClose(a, b, atol=1e-5, rtol=1e-4, msg=name)
      names = [v.name for v in two_run.model.variables]
      differ = active = 0
      for variable_name, a, b in zip(names, two[1], one[1]):
        if '/mask' in variable_name:
          differ += int((a != b).sum())
          active += int(b.sum())
        else:
          self.assertEqual(a.shape, b.shape)
      self.assertLess(differ, 0.05 * active, msg=name)
      # With synchronized statistics nothing differs across replicas.
      for variable in two_run.model.variables:
        values = [v.numpy() for v in
                  self.mirrored.experimental_local_results(variable)]
        self.assertAllClose(values[0], values[1], atol=1e-6, msg=name)


class RunOptionsTest(tf.test.TestCase):
  """UB's checkpoint_interval = -1, corruptions_interval, ms_per_example."""

  def test_phase_end_checkpoints_and_corrupted_every_n_epochs(self):
    corrupted = {('gaussian_noise', 1): _split(16, 2), ('fog', 1):
                 _split(16, 3)}
    config = _config(self.get_temp_dir(), corrupted_splits=corrupted,
                     corruptions_interval=2)
    config.checkpoint_interval = -1

    def model_fn():
      keras.utils.set_random_seed(0)
      return _no_bn_model()

    # Exploration 2 epochs, refinements of 1: phases end at epochs 2, 3, 4.
    run = loop.Run(config, tf.distribute.get_strategy(), model_fn,
                   phases.edst_phases(2, 1, 2, 0.8), 'run')
    saved = []
    save = run.checkpointer.manager.save

    def record(checkpoint_number):
      saved.append(checkpoint_number)
      return save(checkpoint_number=checkpoint_number)

    run.checkpointer.manager.save = record
    run.train()
    self.assertEqual(saved, [2, 3, 4])
    epochs = [h for h in run.history if 'train/loss' in h]
    with_corrupted = [h['epoch'] for h in epochs
                      if 'test/accuracy_mean_corrupted' in h]
    self.assertEqual(with_corrupted, [2, 4])
    for h in epochs:
      self.assertGreater(h['train/ms_per_example'], 0.0)
      self.assertGreater(h['test/ms_per_example'], 0.0)
    last = epochs[-1]
    for name in ('accuracy', 'nll', 'ece'):
      self.assertAllClose(
          last[f'test/{name}_mean_corrupted'],
          np.mean([last[f'test/{name}_gaussian_noise_1'],
                   last[f'test/{name}_fog_1']]))
    probs, labels = run.evaluator.predict(corrupted[('fog', 1)])
    self.assertAllClose(last['test/accuracy_fog_1'],
                        np.mean(np.argmax(probs, -1) == labels))


class InjectedPartsTest(tf.test.TestCase):
  """The optimizer, the loss and the phase-end callbacks are passed in."""

  def _run(self, output_dir, callbacks, **kwargs):

    def model_fn():
      keras.utils.set_random_seed(0)
      return _no_bn_model()

    return loop.Run(_config(output_dir), tf.distribute.get_strategy(),
                    model_fn, phases.edst_phases(1, 1, 2, 0.8), 'run',
                    phase_end_callbacks=callbacks, **kwargs)

  def test_a_given_step_function_replaces_the_update(self):

    def frozen_step(run, batch):
      # One optimizer step with zero gradients: nothing moves.
      images, labels = batch
      variables = run.model.trainable_variables
      loss = run.loss_fn(labels, run.model(images, training=True))
      run.optimizer.apply_gradients(
          [(tf.zeros_like(v), v) for v in variables])
      return loss

    run = self._run(self.get_temp_dir(), [], step_fn=frozen_step)
    before = [v.numpy() for v in run.model.trainable_variables]
    run.train()
    self.assertEqual(int(run.optimizer.iterations), 3 * 3)
    for a, b in zip(before, run.model.trainable_variables):
      self.assertAllEqual(a, b.numpy())
    # The step updated no train metric.
    epochs = [h for h in run.history if 'train/loss' in h]
    self.assertEqual([h['train/loss'] for h in epochs], [0.0] * 3)

  def test_optimizer_and_loss_are_the_given_ones(self):
    calls = []
    parts = dict(optimizer_fn=keras.optimizers.Adam,
                 loss_fn=lambda labels, logits: 0.0 * tf.reduce_sum(logits))
    run = self._run(self.get_temp_dir(),
                    [lambda r, p: calls.append((p.name, r.completed_epochs))],
                    **parts)
    before = [v.numpy() for v in run.model.trainable_variables]
    run.train()
    self.assertIsInstance(run.optimizer, keras.optimizers.Adam)
    self.assertEqual(int(run.optimizer.iterations), 3 * 3)  # 3 epochs of 3.
    # A zero loss: Adam moves nothing, while the NLL is still reported.
    for a, b in zip(before, run.model.trainable_variables):
      self.assertAllEqual(a, b.numpy())
    epochs = [h for h in run.history if 'train/loss' in h]
    self.assertEqual([h['train/loss'] for h in epochs], [0.0] * 3)
    self.assertGreater(epochs[0]['train/negative_log_likelihood'], 1.0)
    # One call per phase, at its end, in order.
    self.assertEqual(calls, [('exploration', 1), ('refinement_0', 2),
                             ('refinement_1', 3)])
    # A restart of the finished run calls none again.
    self._run(self.get_temp_dir(), [lambda r, p: calls.append('again')],
              **parts).train()
    self.assertLen(calls, 3)


class HostLoopsTest(tf.test.TestCase):
  """The compiled loop runs N steps; the host is entered once per loop."""

  def _run(self, output_dir, **overrides):
    return _make_edst_run(tf.distribute.get_strategy(), output_dir,
                          _no_bn_model, **overrides)

  def test_host_entered_once_per_loop_compiled_or_not(self):
    for jit_compile in (False, True):
      run = self._run(f'{self.get_temp_dir()}/{jit_compile}',
                      steps_per_loop=2, jit_compile=jit_compile)
      before = [l.mask.numpy() for l in run.hook.masked_layers]
      run.train()
      self.assertEqual(int(run.optimizer.iterations), 9)
      self.assertEqual(int(run.hook.step), 9)
      # Loops of 2 + 1 an epoch.
      self.assertEqual(run.trainer.host_loops, 3 * 2)
      loop_fn = run.trainer.compiled_loop
      self.assertEqual(loop_fn.experimental_get_tracing_count(), 1)
      ops = testing.graph_op_types(
          loop_fn, run.trainer.epoch_iterator(0),
          tf.constant(1, tf.int64))
      self.assertEmpty(ops & {'PyFunc', 'PyFuncStateless', 'EagerPyFunc'})
      compiled = testing.xla_compiled_functions(
          loop_fn, run.trainer.epoch_iterator(0),
          tf.constant(1, tf.int64))
      self.assertEqual(bool(compiled), jit_compile)
      changed = 0
      for layer, old in zip(run.hook.masked_layers, before):
        mask = layer.mask.numpy()
        self.assertEqual(mask.sum(), old.sum())
        changed += int((mask != old).sum())
      self.assertGreater(changed, 0)

  def test_a_step_that_bypasses_the_hook_is_refused(self):

    def bypassing_step(run, batch):
      images, labels = batch
      with tf.GradientTape() as tape:
        loss = run.loss_fn(labels, run.model(images, training=True))
      variables = run.model.trainable_variables
      run.optimizer.apply_gradients(zip(tape.gradient(loss, variables),
                                        variables))
      return loss

    run = self._run(self.get_temp_dir(), steps_per_loop=3)
    run._step_fn = bypassing_step  # pylint: disable=protected-access
    with self.assertRaisesRegex(RuntimeError, 'through run.apply_gradients'):
      run.train()


if __name__ == '__main__':
  tf.test.main()
