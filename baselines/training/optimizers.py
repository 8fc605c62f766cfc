"""SGD with momentum in either formulation: PyTorch's or Keras'.

Both are "SGD with momentum" (the paper, Section 3.2). Keras' SGD keeps a
velocity that includes the learning rate, `v = μ v - lr g; w += v`;
PyTorch's (the authors' `torch.optim.SGD`) keeps a buffer without it,
`b = μ b + g; w -= lr b` (Nesterov: `w -= lr (g + μ b)`). They take the
same steps at a constant learning rate, and differ after it changes: after
EDST's jump from 0.001 to 0.01 at a re-exploration, PyTorch's first steps
apply the accumulated buffer at the new rate (a regrown weight's momentum
moves it at once), Keras' at the old one, for the few dozen steps its
velocity takes to forget.
"""

import tensorflow as tf

from sparse_layers.keras_alias import keras

MOMENTUM_STYLES = ('pytorch', 'keras')


class PyTorchSGD(keras.optimizers.SGD):
  """Keras SGD with PyTorch's momentum buffer `b = μ b + g; w -= lr b`.

  Its slots are Keras SGD's `momentums` (holding b), so code that finds
  optimizer slots (the mask updaters) treats it as SGD.
  """

  def update_step(self, gradient, variable):
    if isinstance(gradient, tf.IndexedSlices):
      gradient = tf.convert_to_tensor(gradient)
    lr = tf.cast(self.learning_rate, variable.dtype)
    momentum = tf.cast(self.momentum, variable.dtype)
    buffer = self.momentums[self._index_dict[self._var_key(variable)]]
    buffer.assign(buffer * momentum + gradient)
    if self.nesterov:
      variable.assign_sub(lr * (gradient + momentum * buffer))
    else:
      variable.assign_sub(lr * buffer)


def sgd(learning_rate, momentum, nesterov=False, style='pytorch'):
  """SGD with momentum of the given style ('pytorch' or 'keras')."""
  if style not in MOMENTUM_STYLES:
    raise ValueError(f'momentum style must be one of {MOMENTUM_STYLES}, got '
                     f'{style!r}.')
  optimizer_type = PyTorchSGD if style == 'pytorch' else keras.optimizers.SGD
  return optimizer_type(learning_rate, momentum=momentum, nesterov=nesterov)
