"""Tests for baselines/training/reexploration.py: EDST's phase-end callback."""

import types

import numpy as np
import tensorflow as tf

from baselines.training import reexploration
from sparse_layers import hook as hook_lib
from sparse_layers import layers
from sparse_layers import phases
from sparse_layers import schedules
from sparse_layers import sparse_init
from sparse_layers import updaters
from sparse_layers.keras_alias import keras


def _run():
  """The parts of a `loop.Run` the callback uses."""
  keras.utils.set_random_seed(0)
  inputs = keras.Input((8,))
  model = keras.Model(inputs, layers.MaskedDense(
      4, name='fc')(layers.MaskedDense(16, name='hidden')(inputs)))
  sparse_init.sparsify(model, 0.5, 'uniform', seed=0)
  optimizer = keras.optimizers.SGD(0.1, momentum=0.9)
  optimizer.build(model.trainable_variables)
  rng = np.random.default_rng(0)
  batch = (rng.normal(size=(8, 8)).astype(np.float32),
           rng.integers(0, 4, 8))

  def loss_fn(batch):
    x, y = batch
    return tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(
        y, model(x), from_logits=True))

  hook = hook_lib.SparsityHook(model, updaters.RigLUpdater(seed=0),
                               schedules.ConstantDropFraction(0.5, 100),
                               loss_fn, optimizer)
  return types.SimpleNamespace(
      hook=hook, history=[], completed_epochs=3, run_name='run',
      config=types.SimpleNamespace(method='edst'),
      next_train_batch=lambda: batch)


class ReexplorationTest(tf.test.TestCase):

  def test_reexplores_q_of_the_active_weights(self):
    run = _run()
    masks = [l.mask.numpy().copy() for l in run.hook.masked_layers]
    reexploration.Reexploration()(
        run, phases.Phase('refinement_0', 1, ((0.0, 0.1),), 0, 0.8))
    (entry,) = run.history
    active = sum(int(m.sum()) for m in masks)
    self.assertEqual(entry['reexploration_active'], active)
    # floor(0.8 * n_active) per layer (Eq. 1), dropped and regrown at 0.
    self.assertEqual(entry['reexploration_reset'],
                     sum(int(0.8 * m.sum()) for m in masks))
    self.assertEqual((entry['epoch'], entry['phase']), (3, 'refinement_0'))
    for before, layer in zip(masks, run.hook.masked_layers):
      self.assertEqual(layer.mask.numpy().sum(), before.sum())

  def test_phases_without_q_are_left_alone(self):
    run = _run()
    masks = [l.mask.numpy().copy() for l in run.hook.masked_layers]
    reexploration.Reexploration()(
        run, phases.Phase('refinement_1', 1, ((0.0, 0.1),), 1, None))
    self.assertEqual(run.history, [])
    for before, layer in zip(masks, run.hook.masked_layers):
      self.assertAllEqual(layer.mask.numpy(), before)

  def test_a_run_without_hook_is_an_error(self):
    run = _run()
    run.hook = None
    with self.assertRaisesRegex(ValueError, 'no sparsity hook'):
      reexploration.Reexploration()(
          run, phases.Phase('refinement_0', 1, ((0.0, 0.1),), 0, 0.8))


if __name__ == '__main__':
  tf.test.main()
