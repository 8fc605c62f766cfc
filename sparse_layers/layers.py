"""Masked Conv2D and Dense layers: the kernel is multiplied by a binary mask.

Each layer holds a non-trainable `mask` variable of the kernel's shape. The
forward pass uses `kernel * mask`, so the gradient reaching the kernel is zero
wherever the mask is zero; together with the updaters zeroing dropped weights
and their optimizer slots, inactive weights stay exactly 0 through optimizer
steps and checkpoints (REFERENCE.md section 2, "inactive weights must stay 0").

Inside `dense_gradient_scope()` the forward value is unchanged but the gradient
w.r.t. the kernel is the *dense* gradient dL/d(kernel * mask), which RigL's grow
step needs (Evci et al. 2020, Eq. 2 of the FreeTickets paper).
"""

import contextlib

import numpy as np
import tensorflow as tf

from sparse_layers.keras_alias import keras

# A process-wide depth counter, not a thread-local: MirroredStrategy traces each
# replica's function in its own thread, and all of them must see the scope.
_dense_gradient_depth = 0


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


class MaskedLayerMixin:
  """Mask variable, masked kernel and mask assignment shared by both layers."""

  def _build_mask(self):
    self.mask = self.add_weight(
        name='mask',
        shape=self.kernel.shape,
        initializer='ones',
        trainable=False,
        dtype=self.dtype)

  def masked_kernel(self, kernel):
    """Returns `kernel * mask` (value); the gradient is dense in the scope."""
    mask = tf.cast(self.mask, kernel.dtype)
    if _dense_gradient_depth:
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
  """A `Conv2D` whose kernel is multiplied by a binary, non-trainable mask."""

  def build(self, input_shape):
    super().build(input_shape)
    self._build_mask()

  def convolution_op(self, inputs, kernel):
    return super().convolution_op(inputs, self.masked_kernel(kernel))


class MaskedDense(MaskedLayerMixin, keras.layers.Dense):
  """A `Dense` layer whose kernel is multiplied by a binary mask.

  Dense inputs of any rank >= 2 are supported; sparse and ragged inputs are not.
  """

  def build(self, input_shape):
    super().build(input_shape)
    self._build_mask()

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


def to_masked(model):
  """Clones a functional or Sequential model with Conv2D/Dense made masked.

  The clone gets the original's weights and all-ones masks; call
  `sparse_init.sparsify` on it to draw sparse masks.

  Args:
    model: a built functional or Sequential Keras model.

  Returns:
    The masked clone.
  """

  def clone_layer(layer):
    config = layer.get_config()
    if type(layer) is keras.layers.Conv2D:  # pylint: disable=unidiomatic-typecheck
      return MaskedConv2D.from_config(config)
    if type(layer) is keras.layers.Dense:  # pylint: disable=unidiomatic-typecheck
      return MaskedDense.from_config(config)
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
