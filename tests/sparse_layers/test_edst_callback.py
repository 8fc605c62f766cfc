"""Tests for sparse_layers/edst_callback.py: EDST in model.fit, resume."""

import os
import tempfile

import numpy as np
import tensorflow as tf

from tests import testing

HAS_TWO_CPUS = testing.use_two_logical_cpus()

# pylint: disable=g-import-not-at-top,wrong-import-position
from sparse_layers import edst_callback
from sparse_layers import hook as hook_lib
from sparse_layers import layers
from sparse_layers import phases
from sparse_layers import schedules
from sparse_layers import sparse_init
from sparse_layers import tickets
from sparse_layers import updaters
from sparse_layers.keras_alias import keras

BATCH, STEPS = 8, 5  # 40 examples: 5 steps per epoch.
# Exploration 2 epochs, then 2 refinements of 2: phases end at epochs 2, 4, 6.
PLAN = phases.edst_phases(2, 2, 2, 0.8)


def _data(identical_batches=False):
  rng = np.random.default_rng(0)
  x = rng.normal(size=(BATCH * STEPS, 12)).astype(np.float32)
  if identical_batches:
    x = np.tile(x[:BATCH], (STEPS, 1))
  return x, (x[:, :4].argmax(-1)).astype(np.int64)


class _Interrupt(keras.callbacks.Callback):
  """Raises after optimizer step `at_step` (a crash mid-run)."""

  def __init__(self, at_step):
    super().__init__()
    self.at_step = at_step

  def on_train_batch_end(self, batch, logs=None):
    if int(self.model.optimizer.iterations) == self.at_step:
      raise RuntimeError('interrupted')


class _LearningRates(keras.callbacks.Callback):
  """Records the LR each step trains with."""

  def __init__(self):
    super().__init__()
    self.rates = []

  def on_train_batch_begin(self, batch, logs=None):
    schedule = self.model.optimizer._learning_rate  # pylint: disable=protected-access
    self.rates.append(float(schedule(self.model.optimizer.iterations)))


def _edst(ticket_dir, strategy=None, updater='rigl', base_lr=0.1):
  """A compiled sparse MLP and its EDST callback."""
  strategy = strategy or tf.distribute.get_strategy()
  keras.utils.set_random_seed(0)
  with strategy.scope():
    model = keras.Sequential([
        keras.Input((12,)),
        layers.MaskedDense(32, activation='relu', name='hidden'),
        layers.MaskedDense(4, name='logits')])
    sparse_init.sparsify(model, 0.8, seed=0)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(keras.optimizers.SGD(
        schedules.plan_learning_rate(PLAN, STEPS, base_lr), momentum=0.9),
                  loss)

    def loss_fn(batch):
      return tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(
          batch[1], model(batch[0], training=True), from_logits=True))

    hook = hook_lib.SparsityHook(
        model, updaters.make_updater(updater, seed=0),
        schedules.ConstantDropFraction(0.5, 3), loss_fn, model.optimizer,
        strategy)
  grow = tf.data.Dataset.from_tensor_slices(_data()).batch(BATCH)
  return model, edst_callback.EdstCallback(hook, PLAN, STEPS, ticket_dir,
                                           grow, num_grow_batches=3)


def _fit(model, callback, before=(), after=(), identical_batches=False):
  x, y = _data(identical_batches)
  return model.fit(x, y, batch_size=BATCH, epochs=callback.total_epochs,
                   shuffle=False, verbose=0,
                   callbacks=[*before, callback, *after])


def _ticket_weights(path):
  return [w.numpy() for w in tickets.load(path).weights]


class EdstCallbackTest(tf.test.TestCase):

  def test_lr_phases_tickets_and_reexplorations_follow_the_plan(self):
    ticket_dir = tempfile.mkdtemp()
    model, callback = _edst(ticket_dir)
    rates = _LearningRates()
    history = _fit(model, callback, after=[rates])
    # Exploration at 0.1 (epochs 0-1), each refinement 0.01 for its first
    # epoch and 0.001 for its second (Section 3.3).
    expected = [0.1] * 10 + ([0.01] * 5 + [0.001] * 5) * 2
    self.assertAllClose(rates.rates, expected)
    self.assertAllClose(history.history['learning_rate'],
                        [0.1, 0.1, 0.01, 0.001, 0.01, 0.001])
    self.assertEqual(history.history['edst_phase'], [0, 0, 1, 1, 2, 2])
    self.assertEqual(
        [(r['epoch'], r['phase'], 'ticket' in r, 'reexploration_reset' in r)
         for r in callback.history],
        [(2, 'exploration', False, False), (4, 'refinement_0', True, True),
         (6, 'refinement_1', True, False)])
    self.assertEqual(callback.ticket_paths(),
                     [os.path.join(ticket_dir, 'ticket_0'),
                      os.path.join(ticket_dir, 'ticket_1')])
    # q = 0.8 restarts floor(0.8 n) of each layer's n active weights.
    counts = [int(l.mask.numpy().sum())
              for l in layers.masked_layers(model)]
    self.assertEqual(callback.history[1]['reexploration_reset'],
                     sum(int(np.floor(0.8 * n)) for n in counts))
    nonzeros = {tuple(int(l.mask.numpy().sum())
                      for l in layers.masked_layers(model))}
    for path in callback.ticket_paths():
      ticket = tickets.load(path)
      nonzeros.add(tuple(int(l.mask.numpy().sum())
                         for l in layers.masked_layers(ticket)))
      for layer in layers.masked_layers(ticket):
        kernel, mask = layer.kernel.numpy(), layer.mask.numpy()
        self.assertEqual(np.count_nonzero(kernel[mask == 0]), 0)
      self.assertEqual(tickets.load_info(path)['sparsity'],
                       layers.overall_sparsity(ticket))
    self.assertLen(nonzeros, 1)  # Every ticket and the model: S exactly.
    # The last ticket is the final model; the first differs (re-explored).
    for a, b in zip(_ticket_weights(callback.ticket_paths()[1]),
                    [w.numpy() for w in model.weights]):
      self.assertAllEqual(a, b)
    self.assertNotAllEqual(
        tickets.load(callback.ticket_paths()[0]).layers[0].mask.numpy(),
        model.layers[0].mask.numpy())

  def test_backup_and_restore_resumes_exactly(self):
    tf.config.experimental.enable_op_determinism()
    # tf-keras feeds a resumed epoch from its first batch again (it numbers
    # the steps on), so a mid-epoch backup is exact with identical batches.
    reference_dir = tempfile.mkdtemp()
    reference, callback = _edst(reference_dir)
    _fit(reference, callback, identical_batches=True)
    # Crash after step 22, in epoch 4, after ticket_0 and the re-exploration:
    # from the epoch-3 backup (step 20) they run again; from the step-21
    # backup (save_freq=3) they must not.
    for save_freq in ('epoch', 3):
      ticket_dir, backup = tempfile.mkdtemp(), tempfile.mkdtemp()
      model, callback = _edst(ticket_dir)
      with self.assertRaisesRegex(RuntimeError, 'interrupted'):
        _fit(model, callback, [keras.callbacks.BackupAndRestore(
            backup, save_freq=save_freq)], [_Interrupt(22)], True)
      self.assertTrue(os.path.isdir(os.path.join(ticket_dir, 'ticket_0')))
      model, callback = _edst(ticket_dir)
      # BackupAndRestore now after the EDST callback: order does not matter.
      _fit(model, callback, after=[keras.callbacks.BackupAndRestore(
          backup, save_freq=save_freq)], identical_batches=True)
      done = [r['epoch'] for r in callback.history]
      self.assertEqual(done, [4, 6] if save_freq == 'epoch' else [6],
                       save_freq)
      for a, b in zip(reference.weights, model.weights):
        self.assertAllEqual(a.numpy(), b.numpy(), msg=f'{save_freq} {a.name}')
      for index in (0, 1):
        for a, b in zip(
            _ticket_weights(os.path.join(reference_dir, f'ticket_{index}')),
            _ticket_weights(os.path.join(ticket_dir, f'ticket_{index}'))):
          self.assertAllEqual(a, b)

  def test_mirrored_strategy(self):
    if not HAS_TWO_CPUS:
      self.skipTest('TensorFlow started before 2 logical CPUs were set up.')
    strategy = testing.mirrored_strategy()
    model, callback = _edst(tempfile.mkdtemp(), strategy)
    _fit(model, callback)
    self.assertLen(callback.history, 3)
    for layer in layers.masked_layers(model):
      for variable in (layer.mask, layer.kernel):
        values = [v.numpy() for v in
                  strategy.experimental_local_results(variable)]
        self.assertLen(values, 2)
        self.assertAllEqual(values[0], values[1])
    ensemble = callback.ensemble()
    self.assertAllClose(ensemble.predict(_data()[0], verbose=0).sum(-1),
                        np.ones(BATCH * STEPS), atol=1e-5)

  def test_bad_runs_fail_before_training(self):
    ticket_dir = tempfile.mkdtemp()
    model, callback = _edst(ticket_dir)
    x, y = _data()
    with self.assertRaisesRegex(ValueError, r'fit runs 3 epochs, the EDST '
                                r'plan needs 6'):
      model.fit(x, y, batch_size=BATCH, epochs=3, verbose=0,
                callbacks=[callback])
    with self.assertRaisesRegex(ValueError, r'fit runs 10 steps, the EDST '
                                r'plan needs 5'):
      model.fit(x, y, batch_size=BATCH // 2, epochs=6, verbose=0,
                callbacks=[callback])
    model.compile(keras.optimizers.SGD(0.1), 'mse')
    with self.assertRaisesRegex(ValueError, 'plan\'s learning rate'):
      _fit(model, callback)
    self.assertEqual(int(model.optimizer.iterations), 0)
    tickets.save(os.path.join(ticket_dir, 'ticket_1'), model)
    model, callback = _edst(ticket_dir)
    with self.assertRaisesRegex(ValueError, r'already holds tickets of another '
                                r'run \(.*ticket_1\)'):
      _fit(model, callback)
    # A ticket_dir that cannot be a directory: refused before any step.
    blocker = os.path.join(tempfile.mkdtemp(), 'a_file')
    with open(blocker, 'w') as f:
      f.write('not a directory')
    model, callback = _edst(os.path.join(blocker, 'tickets'))
    with self.assertRaisesRegex(ValueError, r'ticket_dir=.*a_file/tickets is '
                                r'not writable'):
      _fit(model, callback)
    self.assertEqual(int(model.optimizer.iterations), 0)
    with self.assertRaisesRegex(ValueError, 'phase empty has 0 epochs'):
      edst_callback.EdstCallback(
          callback.hook, [phases.Phase('empty', 0, ((0.0, 1.0),))], STEPS,
          ticket_dir, grow_data=[_data()])


if __name__ == '__main__':
  tf.test.main()
