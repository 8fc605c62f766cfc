r"""Train-step, mask-update and evaluation speed, graph vs XLA, side by side.

One run measures, on the same machine and in interleaved rounds (so that
machine noise hits every variant alike):
  - the train step of a dense and of a masked WRN (masked: MaskedConv2D /
    MaskedDense at the given sparsity, its gradients applied through the
    SparsityHook as the binaries do, no update due), each as a TF graph and
    compiled by XLA (`jit_compile=True`), in loops of `--steps` steps;
  - one RigL update of every layer (drop by magnitude, grow by the step's
    dense gradient: three sorts a layer), in units of masked train steps;
  - evaluation (`evaluate.Evaluator.metrics`: the UB metrics accumulated
    on the device) in images per second, against training's.
Medians over `--rounds` rounds; ratios of medians.

  python -m benchmarks.step_time                        # WRN-16-4, batch 128
  python -m benchmarks.step_time --depth=28 --width=10  # WRN-28-10 (GPU)
"""

import contextlib
import statistics
import time

from absl import app
from absl import flags
from absl import logging
import numpy as np
import tensorflow as tf

from baselines.data import cifar
from baselines.data import pipeline
from baselines.evaluation import evaluate
from baselines.training import optimizers
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
flags.DEFINE_integer('steps', 3, 'Train steps per timed loop.')
flags.DEFINE_integer('rounds', 5, 'Interleaved rounds.')
flags.DEFINE_integer('eval_examples', 1024, 'Images per timed evaluate.')
flags.DEFINE_enum('inactive_gradient', 'dense', ['dense', 'zero'],
                  'The masked layers\' gradient of inactive weights.')
FLAGS = flags.FLAGS


class _Trainer:
  """One model, its optimizer, a loop of n steps and (masked) its update."""

  def __init__(self, masked, jit_compile, batch):
    self.model = models.wide_resnet((32, 32, 3), FLAGS.depth, FLAGS.width,
                                    FLAGS.num_classes, l2=2.5e-4,
                                    masked=masked,
                                    inactive_gradient=FLAGS.inactive_gradient)
    # The binaries' default optimizer: plain momentum, PyTorch's formulation.
    self.optimizer = optimizers.sgd(0.1, momentum=0.9)
    self.optimizer.build(self.model.trainable_variables)
    self.hook = None
    if masked:
      sparse_init.sparsify(self.model, FLAGS.sparsity, seed=0)
      # ΔT beyond the benchmark: the loop pays the hook's step alone.
      self.hook = hook_lib.SparsityHook(
          self.model, updaters.RigLUpdater(),
          schedules.ConstantDropFraction(0.5, 10**9), self.loss,
          self.optimizer)
    self.batch = batch
    step = tf.function(self.step, jit_compile=jit_compile)

    @tf.function
    def train_steps(n):
      for _ in tf.range(n):
        step()

    self.train_steps = train_steps
    if masked:
      layers = self.hook.masked_layers
      grads = self.kernel_gradients()
      self.update = tf.function(
          lambda: self.hook.updater.update(layers, 0.5, tf.constant(1),
                                           grads, self.optimizer),
          jit_compile=jit_compile)

  def loss(self, batch):
    x, y = batch
    return tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(
        y, self.model(x, training=True), from_logits=True))

  def step(self):
    with (self.hook.gradient_scope() if self.hook else
          contextlib.nullcontext()):
      with tf.GradientTape() as tape:
        loss = self.loss(self.batch) + tf.add_n(self.model.losses)
    variables = self.model.trainable_variables
    grads = zip(tape.gradient(loss, variables), variables)
    if self.hook is None:
      self.optimizer.apply_gradients(grads)
    else:
      self.hook.apply_gradients(grads)

  def kernel_gradients(self):
    """The step's dense kernel gradients (what an update grows by)."""
    with self.hook.gradient_scope():
      with tf.GradientTape() as tape:
        loss = self.loss(self.batch)
    return tape.gradient(loss, [l.kernel for l in self.hook.masked_layers])

  def time_steps(self, n):
    start = time.perf_counter()
    self.train_steps(tf.constant(n))
    self.optimizer.iterations.numpy()  # Waits for the loop on any device.
    return (time.perf_counter() - start) / n

  def time_update(self):
    start = time.perf_counter()
    self.update().numpy()
    return time.perf_counter() - start


def _eval_split(n):
  rng = np.random.default_rng(1)
  x = rng.integers(0, 256, (n, 32, 32, 3)).astype(np.uint8)
  y = rng.integers(0, FLAGS.num_classes, n)
  return pipeline.Split('random', tf.data.Dataset.from_tensor_slices((x, y)), n)


def _median_ms(values):
  return 1e3 * statistics.median(values)


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
  names = [(compiled, masked) for compiled in (False, True)
           for masked in (False, True)]
  trainers = {name: _Trainer(name[1], name[0], batch) for name in names}
  steps, updates = {name: [] for name in names}, {False: [], True: []}
  for trainer in trainers.values():  # Trace, compile and warm up.
    trainer.time_steps(1)
    if trainer.hook:
      trainer.time_update()
  for round_index in range(FLAGS.rounds):
    for name, trainer in trainers.items():
      steps[name].append(trainer.time_steps(FLAGS.steps))
      if trainer.hook:
        updates[name[0]].append(trainer.time_update())
    print(f'round {round_index + 1}: ' + ', '.join(
        f'{"XLA" if c else "graph"} {"masked" if m else "dense"} '
        f'{steps[(c, m)][-1] * 1e3:.0f} ms' for c, m in names))
  _print_table(steps, updates, _evaluation_rates(trainers))

def _evaluation_rates(trainers):
  """{compiled: evaluation images/s} of the masked model, graph and XLA."""
  split = _eval_split(FLAGS.eval_examples)
  evals = {}
  for compiled in (False, True):
    trainer = trainers[(compiled, True)]
    evaluator = evaluate.Evaluator(
        trainer.model, tf.distribute.get_strategy(), FLAGS.batch_size,
        cifar.PREPROCESSING['cifar10'], jit_compile=compiled)
    evaluator.metrics(split)  # Trace and compile.
    times = []
    for _ in range(3):
      start = time.perf_counter()
      evaluator.metrics(split)
      times.append(time.perf_counter() - start)
    evals[compiled] = FLAGS.eval_examples / statistics.median(times)
  return evals


def _print_table(steps, updates, evals):
  """The Markdown table of medians and their ratios."""
  median = {key: statistics.median(values) for key, values in steps.items()}
  print(f'\n| measure ({FLAGS.rounds} rounds, medians) | graph | XLA |')
  print('| --- | ---: | ---: |')
  for label, masked in (('dense train step', False),
                        ('masked train step', True)):
    print(f'| {label} (ms) | ' + ' | '.join(
        f'{_median_ms(steps[(c, masked)]):.0f}' for c in (False, True)) +
          ' |')
  ratio = {c: median[(c, True)] / median[(c, False)] for c in (False, True)}
  print('| masked / dense step time | ' + ' | '.join(
      f'{ratio[c]:.3f}' for c in (False, True)) + ' |')
  print('| one RigL update, in masked train steps | ' + ' | '.join(
      f'{statistics.median(updates[c]) / median[(c, True)]:.2f}'
      for c in (False, True)) + ' |')
  train_rate = {c: FLAGS.batch_size / median[(c, True)]
                for c in (False, True)}
  print('| masked training (images/s) | ' + ' | '.join(
      f'{train_rate[c]:.0f}' for c in (False, True)) + ' |')
  print('| evaluation (images/s) | ' + ' | '.join(
      f'{evals[c]:.0f}' for c in (False, True)) + ' |')
  print('| evaluation / training throughput | ' + ' | '.join(
      f'{evals[c] / train_rate[c]:.2f}' for c in (False, True)) + ' |')
  print('| XLA / graph masked step time | | ' +
        f'{median[(True, True)] / median[(False, True)]:.3f} |')

if __name__ == '__main__':
  logging.set_verbosity(logging.WARNING)
  app.run(main)
