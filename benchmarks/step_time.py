r"""Train-step time of a masked model vs the same dense model, side by side.

Both models are built from the same architecture (masked: MaskedConv2D /
MaskedDense at the given sparsity, with the SparsityHook counting steps in the
loop; dense: plain Keras layers) and trained with the same UB-style
whole-loop `tf.function` on one fixed in-memory batch. Rounds interleave
dense and masked so that machine noise hits both. Also timed: one RigL update
(dense gradient + drop/grow of every layer), in units of masked train steps,
and the number of traces of the masked train function after updates.

  python -m benchmarks.step_time                       # WRN-16-4, batch 128
  python -m benchmarks.step_time --inactive_gradient=zero  # RigL's gradient
  python -m benchmarks.step_time --momentum_style=keras    # Keras' SGD
  python -m benchmarks.step_time --depth=28 --width=10 # WRN-28-10 (GPU)
"""

import statistics
import time

from absl import app
from absl import flags
from absl import logging
import numpy as np
import tensorflow as tf

from baselines import optimizers
from sparse_layers import hook as hook_lib
from sparse_layers import models
from sparse_layers import schedules
from sparse_layers import sparse_init
from sparse_layers import updaters
from sparse_layers.keras_alias import keras

flags.DEFINE_integer('depth', 16, 'WRN depth.')
flags.DEFINE_integer('width', 4, 'WRN width multiplier.')
flags.DEFINE_integer('batch_size', 128, 'Batch size.')
flags.DEFINE_integer('num_classes', 10, 'Classes.')
flags.DEFINE_float('sparsity', 0.8, 'Sparsity of the masked model.')
flags.DEFINE_integer('steps', 3, 'Train steps per timed chunk.')
flags.DEFINE_integer('rounds', 4, 'Interleaved dense/masked rounds.')
flags.DEFINE_integer('update_repeats', 3, 'Timed RigL updates.')
flags.DEFINE_enum('inactive_gradient', 'dense', ['dense', 'zero'],
                  'The masked layers\' gradient of inactive weights.')
flags.DEFINE_enum('momentum_style', 'pytorch',
                  list(optimizers.MOMENTUM_STYLES),
                  'SGD momentum formulation (as the binaries\' flag).')
FLAGS = flags.FLAGS


class _Trainer:
  """One model, its optimizer and a compiled n-step train loop."""

  def __init__(self, masked, batch):
    self.model = models.wide_resnet((32, 32, 3), FLAGS.depth, FLAGS.width,
                                    FLAGS.num_classes, l2=2.5e-4,
                                    masked=masked,
                                    inactive_gradient=FLAGS.inactive_gradient)
    # The binaries' default optimizer: plain momentum, PyTorch's formulation.
    self.optimizer = optimizers.sgd(0.1, momentum=0.9, nesterov=False,
                                    style=FLAGS.momentum_style)
    self.optimizer.build(self.model.trainable_variables)
    self.hook = None
    if masked:
      sparse_init.sparsify(self.model, FLAGS.sparsity, seed=0)
      # ΔT beyond the benchmark: the loop pays the hook's step counting only.
      self.hook = hook_lib.SparsityHook(
          self.model, updaters.RigLUpdater(),
          schedules.ConstantDropFraction(0.5, 10**9), self.loss, self.optimizer)
      self.update = tf.function(lambda: self.hook.reexplore(batch, 0.5))

    @tf.function
    def train_steps(n):
      for _ in tf.range(n):
        with tf.GradientTape() as tape:
          loss = self.loss(batch) + tf.add_n(self.model.losses)
        grads = tape.gradient(loss, self.model.trainable_variables)
        self.optimizer.apply_gradients(
            zip(grads, self.model.trainable_variables))
        if self.hook is not None:
          self.hook.after_train_step(batch)

    self.train_steps = train_steps

  def loss(self, batch):
    x, y = batch
    return tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(
        y, self.model(x, training=True), from_logits=True))

  def time_steps(self, n):
    start = time.perf_counter()
    self.train_steps(tf.constant(n))
    # Reading a variable waits for the loop to finish on any device.
    self.optimizer.iterations.numpy()
    return (time.perf_counter() - start) / n


def main(argv):
  del argv
  rng = np.random.default_rng(0)
  batch = (tf.constant(rng.normal(size=(FLAGS.batch_size, 32, 32, 3)),
                       tf.float32),
           tf.constant(rng.integers(0, FLAGS.num_classes, FLAGS.batch_size)))
  device = (tf.config.list_logical_devices('GPU') or
            tf.config.list_logical_devices('CPU'))[0].name
  print(f'WRN-{FLAGS.depth}-{FLAGS.width}, batch {FLAGS.batch_size}, '
        f'sparsity {FLAGS.sparsity} (ERK), device {device}')
  dense, masked = _Trainer(False, batch), _Trainer(True, batch)
  for trainer in (dense, masked):  # Trace and warm up.
    trainer.time_steps(1)
  ratios = []
  for round_index in range(FLAGS.rounds):
    dense_time = dense.time_steps(FLAGS.steps)
    masked_time = masked.time_steps(FLAGS.steps)
    ratios.append(masked_time / dense_time)
    print(f'round {round_index + 1}: dense {dense_time * 1e3:.1f} ms/step, '
          f'masked {masked_time * 1e3:.1f} ms/step, ratio {ratios[-1]:.3f}')
  masked.update()  # Trace.
  update_times = []
  for _ in range(FLAGS.update_repeats):
    start = time.perf_counter()
    masked.update().numpy()
    update_times.append(time.perf_counter() - start)
  step_time = masked.time_steps(FLAGS.steps)
  traces = masked.train_steps.experimental_get_tracing_count()
  update_in_steps = statistics.median(update_times) / step_time
  print(f'masked/dense step time: median {statistics.median(ratios):.3f} '
        f'(min {min(ratios):.3f}, max {max(ratios):.3f}, {FLAGS.rounds} '
        f'rounds of {FLAGS.steps} steps)')
  print(f'one RigL update: {statistics.median(update_times) * 1e3:.1f} ms = '
        f'{update_in_steps:.2f} masked train steps')
  print(f'masked train function traces after {FLAGS.update_repeats + 1} '
        f'updates: {traces}')


if __name__ == '__main__':
  logging.set_verbosity(logging.WARNING)
  app.run(main)
