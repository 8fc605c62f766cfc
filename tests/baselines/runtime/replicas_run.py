"""Many replicas on logical CPU devices: 8 train alike, 32 get pod batches.

  python -m tests.baselines.runtime.replicas_run

Splits the CPU into 32 logical devices (before TensorFlow starts), then:
trains a small sparse CNN with RigL updates after every step on 8 replicas
(MirroredStrategy, the default global batch: 128 = 16 per replica) and
records whether every replicated variable (weights, masks, momentum) is
identical on all 8; and builds a 32-replica strategy and its first
training batch (default global batch 512 = 16 per replica). Prints one
JSON line after `RESULT `.
"""

import json

# Keras 2 is chosen before TensorFlow loads, as the binaries do.
from sparse_layers import keras_alias  # pylint: disable=unused-import,g-bad-import-order
import numpy as np
import tensorflow as tf

_CPUS = tf.config.list_physical_devices('CPU')
tf.config.set_logical_device_configuration(
    _CPUS[0], [tf.config.LogicalDeviceConfiguration()] * 32)

# pylint: disable=g-import-not-at-top,wrong-import-position
from baselines.data import cifar
from baselines.data import pipeline
from baselines.methods import batch_scaling
from baselines.methods import plans
from baselines.training import loop
from tests import testing


def _split(n, seed=0):
  rng = np.random.default_rng(seed)
  x = rng.integers(0, 256, (n, 32, 32, 3)).astype(np.uint8)
  y = rng.integers(0, 10, n).astype(np.int64)
  return pipeline.Split('random', tf.data.Dataset.from_tensor_slices((x, y)), n)


def _strategy(replicas):
  return tf.distribute.MirroredStrategy(
      [f'/cpu:{i}' for i in range(replicas)])


def train_on_8(output_dir):
  """(global batch, per-replica batch shapes, replicas identical?)."""
  strategy = _strategy(8)
  batch = batch_scaling.global_batch_size(None, 8)
  config = loop.RunConfig(
      output_dir=output_dir, seed=1, global_batch_size=batch,
      base_learning_rate=0.1, momentum=0.9, num_bins=15,
      checkpoint_interval=-1, warmup_epochs=0, method='dst',
      train_split=_split(2 * batch), test_split=_split(batch, 1),
      num_classes=10, preprocessing=cifar.PREPROCESSING['cifar10'])

  run = loop.Run(
      config, strategy, testing.sparse_model_fn(
          lambda: testing.small_cnn(image_size=32, num_classes=10)),
      plans.member_phases(1, ((0.0, 1.0),), 0), 'member_0',
      testing.rigl_hook_fn(1, strategy))
  shapes = [list(t.shape) for t in strategy.experimental_local_results(
      next(run.trainer.epoch_iterator(0))[0])]
  masks_before = [l.mask.numpy() for l in run.hook.masked_layers]
  run.train()
  identical, compared = True, 0
  for variable in run.model.variables + run.optimizer.variables:
    values = [v.numpy() for v in
              strategy.experimental_local_results(variable)]
    compared += 1
    identical &= all(np.array_equal(values[0], v) for v in values[1:])
  changed = sum(int((l.mask.numpy() != m).sum())
                for l, m in zip(run.hook.masked_layers, masks_before))
  return {'global_batch': batch, 'shapes': shapes, 'identical': identical,
          'compared': compared, 'mask_changes': changed,
          'steps': int(run.optimizer.iterations.numpy()),
          'hook_steps': int(run.hook.step.numpy())}


def first_batch_on_32():
  """(global batch, LR, ΔT, the first batch's per-replica shapes)."""
  strategy = _strategy(32)
  batch = batch_scaling.global_batch_size(None, 32)
  split = _split(batch)

  def dataset_fn(context):
    return pipeline.train_dataset(
        split, context.get_per_replica_batch_size(batch), 0, 0,
        cifar.PREPROCESSING['cifar10'], context.num_input_pipelines,
        context.input_pipeline_id)

  images, _ = next(iter(strategy.distribute_datasets_from_function(
      dataset_fn)))
  return {'replicas': strategy.num_replicas_in_sync, 'global_batch': batch,
          'learning_rate': batch_scaling.scaled_learning_rate(0.1, batch),
          'update_interval': batch_scaling.scaled_update_interval(1000, batch),
          'shapes': sorted({tuple(t.shape) for t in
                            strategy.experimental_local_results(images)}),
          'per_replica': len(strategy.experimental_local_results(images))}


def main():
  import tempfile  # pylint: disable=g-import-not-at-top
  result = {'eight': train_on_8(tempfile.mkdtemp()),
            'thirty_two': first_batch_on_32()}
  print('RESULT ' + json.dumps(result))


if __name__ == '__main__':
  main()
