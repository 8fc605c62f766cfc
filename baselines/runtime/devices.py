"""What the strategy's devices compile: XLA for a replica's step.

TPUs compile every step of `strategy.run` with XLA anyway. Elsewhere a step
is compiled when asked (`--jit_compile`), where TensorFlow can: one device,
or replicas on GPUs. It cannot for replicas on several CPU devices (an XLA
step reads one device's variables only).
"""

import tensorflow as tf


def is_tpu(strategy):
  """Whether `strategy` runs on TPUs (which compile every step with XLA)."""
  return isinstance(strategy, (tf.distribute.TPUStrategy,
                               tf.distribute.experimental.TPUStrategy))


def can_jit_compile(strategy):
  """Whether TensorFlow can XLA-compile a replica's step under `strategy`:
  one device, TPUs, or replicas on GPUs (not on several CPU devices)."""
  if is_tpu(strategy) or strategy.num_replicas_in_sync == 1:
    return True
  devices = getattr(strategy.extended, 'worker_devices', ())
  return bool(devices) and all('GPU' in d.upper() for d in devices)


def compiled(step, jit_compile, strategy):
  """`step` for `strategy.run`: wrapped in an XLA-compiled tf.function with
  `jit_compile`, except on TPUs (which compile it anyway)."""
  if jit_compile and not is_tpu(strategy):
    return tf.function(step, jit_compile=True)
  return step
