"""Shared test helpers: tiny models, data and the two-CPU set-up."""

import os

import numpy as np
import tensorflow as tf

from sparse_layers import hook as hook_lib
from sparse_layers import models
from sparse_layers import schedules
from sparse_layers import sparse_init
from sparse_layers import updaters
from sparse_layers.keras_alias import keras


def use_two_logical_cpus():
  """Splits the CPU into 2 logical devices for MirroredStrategy tests.

  Must run before TensorFlow initialises its devices; returns False if that
  already happened with fewer than 2 CPUs.
  """
  cpus = tf.config.list_physical_devices('CPU')
  try:
    tf.config.set_logical_device_configuration(
        cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2)
  except RuntimeError:
    pass
  return len(tf.config.list_logical_devices('CPU')) >= 2


_MIRRORED = []


def mirrored_strategy():
  """One MirroredStrategy over the 2 logical CPUs, shared by the process.

  Two MirroredStrategy objects in one process reuse collective instance
  keys, and their all-reduces then abort with shape mismatches.
  """
  if not _MIRRORED:
    _MIRRORED.append(tf.distribute.MirroredStrategy(['/cpu:0', '/cpu:1']))
  return _MIRRORED[0]


def tiny_wrn(num_classes=4, image_size=8, masked=True, l2=0.0,
             inactive_gradient='dense'):
  """A WRN-10-1 on small images: 9 convs + 1 classifier."""
  return models.wide_resnet((image_size, image_size, 3), depth=10,
                            width_multiplier=1, num_classes=num_classes,
                            l2=l2, masked=masked,
                            inactive_gradient=inactive_gradient)


def small_cnn(image_size=8, num_classes=4):
  """A masked CNN without BatchNorm: two convs and a classifier (quick to
  compile with XLA; its replicas see the global batch)."""
  from sparse_layers import layers  # pylint: disable=g-import-not-at-top
  inputs = keras.Input((image_size, image_size, 3))
  x = layers.MaskedConv2D(8, 3, padding='same', activation='relu',
                          name='c1')(inputs)
  x = layers.MaskedConv2D(16, 3, strides=2, padding='same',
                          activation='relu', name='c2')(x)
  x = keras.layers.GlobalAveragePooling2D()(x)
  return keras.Model(inputs, layers.MaskedDense(num_classes, name='fc')(x))


def sparse_model_fn(builder, sparsity=0.8, seed=0):
  """() -> builder()'s model, seeded, with ERK masks at `sparsity`."""

  def model_fn():
    keras.utils.set_random_seed(seed)
    model = builder()
    sparse_init.sparsify(model, sparsity, seed=seed)
    return model

  return model_fn


def rigl_hook_fn(update_interval, strategy=None, seed=0):
  """A `loop.Run` hook_fn: RigL at p = 0.5 every `update_interval`."""

  def hook_fn(model, optimizer, loss_fn):
    return hook_lib.SparsityHook(
        model, updaters.RigLUpdater(seed=seed),
        schedules.ConstantDropFraction(0.5, update_interval), loss_fn,
        optimizer, strategy)

  return hook_fn


def random_data(num_examples=64, image_size=8, num_classes=4, seed=0):
  rng = np.random.default_rng(seed)
  x = rng.normal(size=(num_examples, image_size, image_size, 3))
  y = rng.integers(0, num_classes, size=num_examples)
  return x.astype(np.float32), y.astype(np.int64)


def cifar_arrays(num_examples=20, seed=0):
  """(x uint8 [N, 32, 32, 3], y int labels in [0, 10)) of random pixels."""
  rng = np.random.default_rng(seed)
  x = rng.integers(0, 256, (num_examples, 32, 32, 3)).astype(np.uint8)
  return x, rng.integers(0, 10, num_examples)


def write_npz(directory, name, x, y):
  """Writes x and y to directory/name (numpy.savez); returns its path."""
  path = os.path.join(directory, name)
  np.savez(path, x=x, y=y)
  return path


def cross_entropy_loss_fn(model):
  """loss_fn(batch) -> mean cross-entropy of `model` on an (x, y) batch."""

  def loss_fn(batch):
    x, y = batch
    return tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(
        y, model(x, training=True), from_logits=True))

  return loss_fn


def graph_dtypes(function, *args):
  """Every dtype an op of `function`'s traced graph (nested functions
  included) outputs: the check that nothing runs in float64 on a device."""
  concrete = function.get_concrete_function(*args)
  found = {out.dtype for op in concrete.graph.get_operations()
           for out in op.outputs}
  graph_def = concrete.graph.as_graph_def()
  for function_def in graph_def.library.function:
    for node in function_def.node_def:
      for key in ('T', 'dtype', 'DstT', 'out_type', 'Tout'):
        if key in node.attr and node.attr[key].type:
          found.add(tf.dtypes.as_dtype(node.attr[key].type))
  return found


def graph_op_types(function, *args):
  """The op types of `function`'s traced graph, nested functions included."""
  concrete = function.get_concrete_function(*args)
  graph_def = concrete.graph.as_graph_def()
  found = {node.op for node in graph_def.node}
  for function_def in graph_def.library.function:
    found |= {node.op for node in function_def.node_def}
  return found


def xla_compiled_functions(function, *args):
  """Names of the functions inside `function` that XLA must compile."""
  graph_def = function.get_concrete_function(*args).graph.as_graph_def()
  return [f.signature.name for f in graph_def.library.function
          if f.attr['_XlaMustCompile'].b]
