"""Masked Conv2D and Dense layers: the kernel is multiplied by a binary mask.

Each layer holds a non-trainable `mask` variable of the kernel's shape; the
forward pass uses the value `kernel * mask`. What reaches the kernel of an
inactive (masked) weight in the backward pass is the layer's
`inactive_gradient`:
  - 'dense' (default; the FreeTickets authors' code, whose forward pass uses
    the weight itself, 0 where masked): the dense gradient dL/d(kernel * mask).
    The optimizer's slots (momentum) of inactive weights accumulate it, and a
    weight regrown at 0 starts with that momentum.
  - 'zero' (RigL, Evci et al. 2020): 0, so inactive weights' momentum stays 0
    once the updater has zeroed it at the drop.
Either way the kernel carries a constraint that the optimizer applies after
every step (`kernel * mask`), so inactive weights are exactly 0 after each
step, in every checkpoint, and for the weight decay of the next step (the
paper: "the non-activated weights are forced to zero", Section 3.2).

Inside `dense_gradient_scope()` every masked layer passes the dense gradient,
which RigL's grow step needs (Eq. 2 of the FreeTickets paper).
"""

import contextlib

import numpy as np
import tensorflow as tf

from sparse_layers.keras_alias import keras

# A process-wide depth counter, not a thread-local: MirroredStrategy traces each
# replica's function in its own thread, and all of them must see the scope.
_dense_gradient_depth = 0

INACTIVE_GRADIENTS = ('dense', 'zero')


@contextlib.contextmanager
def dense_gradient_scope():
  """Within this scope, masked layers pass the dense gradient to the kernel.

  The flag is read when a function is traced, so use it around a separate
  `tf.function` (the hook's grow-gradient function), never inside the train
  step: the train step is traced once, outside the scope.

  Yields:
    None.
  """
  global _dense_gradient_depth
  _dense_gradient_depth += 1
  try:
    yield
  finally:
    _dense_gradient_depth -= 1


class _KeepInactiveZero(keras.constraints.Constraint):
  """Kernel constraint: the user's constraint (if any), then `* mask`.

  Keras optimizers apply a variable's constraint after each update, on every
  replica, so inactive weights return to exactly 0 after every step.
  """

  def __init__(self, layer, inner=None):
    self._layer = layer
    self.inner = inner

  def __call__(self, kernel):
    if self.inner is not None:
      kernel = self.inner(kernel)
    return kernel * tf.cast(self._layer.mask, kernel.dtype)


class MaskedLayerMixin:
  """Mask variable, masked kernel and mask assignment shared by both layers.

  Put it before the Keras layer class in the bases: its `__init__`,
  `get_config` and `build` extend the layer's.
  """

  def __init__(self, *args, inactive_gradient='dense', **kwargs):
    super().__init__(*args, **kwargs)
    if inactive_gradient not in INACTIVE_GRADIENTS:
      raise ValueError(f'inactive_gradient must be one of '
                       f'{INACTIVE_GRADIENTS}, got {inactive_gradient!r}.')
    self.inactive_gradient = inactive_gradient
    self.kernel_constraint = _KeepInactiveZero(self, self.kernel_constraint)

  def get_config(self):
    """The layer's config, with the user's constraint and inactive_gradient."""
    config = super().get_config()
    config['kernel_constraint'] = keras.constraints.serialize(
        self.kernel_constraint.inner)
    config['inactive_gradient'] = self.inactive_gradient
    return config

  def build(self, input_shape):
    super().build(input_shape)
    self.mask = self.add_weight(
        name='mask',
        shape=self.kernel.shape,
        initializer='ones',
        trainable=False,
        dtype=self.dtype)

  def masked_kernel(self, kernel):
    """Returns `kernel * mask` (value) with the layer's kernel gradient.

    The gradient is dense with inactive_gradient='dense' or inside
    `dense_gradient_scope()`, else masked.
    """
    mask = tf.cast(self.mask, kernel.dtype)
    if self.inactive_gradient == 'dense' or _dense_gradient_depth:
      return kernel + tf.stop_gradient(kernel * mask - kernel)
    return kernel * mask

  def set_mask(self, mask):
    """Assigns a binary mask and zeroes the kernel where the mask is 0.

    Args:
      mask: array-like of the kernel's shape holding only 0 and 1.

    Raises:
      ValueError: if the layer is not built, or the mask's shape differs from
        the kernel's, or it holds values other than 0 and 1.
    """
    if not self.built:
      raise ValueError(f'Layer {self.name!r} must be built before set_mask.')
    mask = np.asarray(mask, dtype=np.float32)
    kernel_shape = tuple(self.kernel.shape)
    if mask.shape != kernel_shape:
      raise ValueError(
          f'mask shape {mask.shape} does not match the kernel shape '
          f'{kernel_shape} of layer {self.name!r}.')
    if not np.isin(mask, (0.0, 1.0)).all():
      raise ValueError(f'mask for layer {self.name!r} must hold only 0 and 1.')
    self.mask.assign(mask)
    self.kernel.assign(self.kernel * mask)

  @property
  def density(self):
    """The fraction of active kernel weights, as a Python float."""
    mask = self.mask.numpy()
    return float(mask.sum()) / mask.size


class MaskedConv2D(MaskedLayerMixin, keras.layers.Conv2D):
  """A `Conv2D` whose kernel is multiplied by a binary, non-trainable mask.

  Takes `Conv2D`'s arguments and `inactive_gradient` ('dense' or 'zero',
  see the module docstring).
  """

  def convolution_op(self, inputs, kernel):
    return super().convolution_op(inputs, self.masked_kernel(kernel))


class MaskedDense(MaskedLayerMixin, keras.layers.Dense):
  """A `Dense` layer whose kernel is multiplied by a binary mask.

  Takes `Dense`'s arguments and `inactive_gradient` ('dense' or 'zero', see
  the module docstring). Dense inputs of any rank >= 2 are supported; sparse
  and ragged inputs are not.
  """

  def call(self, inputs):
    if isinstance(inputs, (tf.SparseTensor, tf.RaggedTensor)):
      raise ValueError(f'{type(self).__name__} takes dense inputs only.')
    if inputs.dtype.base_dtype != self._compute_dtype_object.base_dtype:
      inputs = tf.cast(inputs, dtype=self._compute_dtype_object)
    kernel = self.masked_kernel(self.kernel)
    if inputs.shape.rank == 2:
      outputs = tf.matmul(inputs, kernel)
    else:
      outputs = tf.tensordot(inputs, kernel, [[inputs.shape.rank - 1], [0]])
      outputs.set_shape(inputs.shape[:-1].concatenate([self.units]))
    if self.use_bias:
      outputs = tf.nn.bias_add(outputs, self.bias)
    if self.activation is not None:
      outputs = self.activation(outputs)
    return outputs


MASKED_LAYER_TYPES = (MaskedConv2D, MaskedDense)
CUSTOM_OBJECTS = {'MaskedConv2D': MaskedConv2D, 'MaskedDense': MaskedDense}


def masked_layers(model):
  """Masked layers of a Keras model in layer order (nested models included).

  For a functional model the order is topological: the first entry is the
  first layer, the last is the classifier.

  Args:
    model: a built Keras model.

  Returns:
    A list of `MaskedConv2D` / `MaskedDense` layers.

  Raises:
    ValueError: if two masked layers share a name (names key densities).
  """
  found = []

  def visit(layer):
    if isinstance(layer, MASKED_LAYER_TYPES):
      found.append(layer)
    for child in getattr(layer, 'layers', ()):
      visit(child)

  for layer in model.layers:
    visit(layer)
  names = [layer.name for layer in found]
  duplicates = sorted({n for n in names if names.count(n) > 1})
  if duplicates:
    raise ValueError(f'masked layers must have unique names; repeated: '
                     f'{duplicates}')
  return found


def overall_sparsity(model):
  """Fraction of zeros over the masks of `model` (0 if it has none)."""
  layers = masked_layers(model)
  total = sum(int(np.prod(l.mask.shape)) for l in layers)
  if not total:
    return 0.0
  return 1.0 - sum(float(l.mask.numpy().sum()) for l in layers) / total


def to_masked(model, inactive_gradient='dense'):
  """Clones a functional or Sequential model with Conv2D/Dense made masked.

  The clone gets the original's weights and all-ones masks; call
  `sparse_init.sparsify` on it to draw sparse masks.

  Args:
    model: a built functional or Sequential Keras model.
    inactive_gradient: of the masked layers, 'dense' or 'zero'.

  Returns:
    The masked clone.
  """

  def clone_layer(layer):
    config = layer.get_config()
    if type(layer) is keras.layers.Conv2D:  # pylint: disable=unidiomatic-typecheck
      return MaskedConv2D.from_config(
          dict(config, inactive_gradient=inactive_gradient))
    if type(layer) is keras.layers.Dense:  # pylint: disable=unidiomatic-typecheck
      return MaskedDense.from_config(
          dict(config, inactive_gradient=inactive_gradient))
    return layer.__class__.from_config(config)

  clone = keras.models.clone_model(model, clone_function=clone_layer)
  for source, target in zip(model.layers, clone.layers):
    if isinstance(target, MASKED_LAYER_TYPES):
      target.kernel.assign(source.kernel)
      if target.use_bias:
        target.bias.assign(source.bias)
    else:
      target.set_weights(source.get_weights())
  return clone
