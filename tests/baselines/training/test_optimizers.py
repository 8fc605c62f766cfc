"""Tests for baselines/training/optimizers.py: PyTorch's and Keras' momentum."""

import numpy as np
import tensorflow as tf

from baselines.training import optimizers
from sparse_layers import updaters
from sparse_layers.keras_alias import keras


def _torch_sgd(w, grads, lrs, momentum, nesterov=False):
  """torch.optim.SGD's update (no dampening, no weight decay), in numpy."""
  w, buffer = np.array(w, np.float64), None
  for g, lr in zip(grads, lrs):
    buffer = g if buffer is None else momentum * buffer + g
    w -= lr * (g + momentum * buffer if nesterov else buffer)
  return w


class OptimizersTest(tf.test.TestCase):

  def _run(self, style, grads, lrs, nesterov=False):
    # The LR of step i is lrs[i], a schedule of the optimizer's step
    # (PiecewiseConstantDecay keeps a value up to its boundary, inclusive).
    changes = [i for i in range(1, len(lrs)) if lrs[i] != lrs[i - 1]]
    schedule = lrs[0]
    if changes:
      schedule = keras.optimizers.schedules.PiecewiseConstantDecay(
          [c - 1 for c in changes], [lrs[0]] + [lrs[i] for i in changes])
    w = tf.Variable([1.0, -2.0, 0.5])
    optimizer = optimizers.sgd(schedule, 0.9, nesterov, style)
    for g in grads:
      optimizer.apply_gradients([(tf.constant(g, tf.float32), w)])
    return w.numpy(), optimizer, w

  def test_pytorch_style_matches_torch_across_lr_changes(self):
    rng = np.random.default_rng(0)
    grads = rng.normal(size=(12, 3))
    lrs = [0.1] * 4 + [0.001] * 4 + [0.01] * 4  # EDST-like jumps.
    for nesterov in (False, True):
      got, _, _ = self._run('pytorch', grads, lrs, nesterov)
      self.assertAllClose(got, _torch_sgd([1.0, -2.0, 0.5], grads, lrs, 0.9,
                                          nesterov), rtol=1e-5, atol=1e-6)
    keras_w, _, _ = self._run('keras', grads, lrs)
    self.assertNotAllClose(keras_w, _torch_sgd([1.0, -2.0, 0.5], grads, lrs,
                                               0.9), rtol=1e-3)
    # At a constant LR the two styles take the same steps.
    constant = [0.05] * 12
    self.assertAllClose(self._run('keras', grads, constant)[0],
                        self._run('pytorch', grads, constant)[0], rtol=1e-5)

  def test_slots_are_found_by_the_updaters(self):
    _, optimizer, w = self._run('pytorch', np.ones((2, 3)), [0.1, 0.2])
    (buffer,) = updaters.optimizer_slots(optimizer, w)
    self.assertAllClose(buffer.numpy(), np.full(3, 1.9))  # 0.9 * 1 + 1.
    with self.assertRaisesRegex(ValueError, 'momentum style must be one of'):
      optimizers.sgd(0.1, 0.9, style='adam')


if __name__ == '__main__':
  tf.test.main()
