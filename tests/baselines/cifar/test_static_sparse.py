"""End-to-end test of baselines/cifar/static_sparse.py under mock data."""

import os
import tempfile

import numpy as np
import tensorflow as tf

from sparse_layers import layers
from sparse_layers import models
from sparse_layers import sparse_init
from tests.baselines.cifar import binary_testing as bt


def _initial_masks(seed):
  """Masks `sparsify` draws for a member with this seed, in layer order."""
  model = models.wide_resnet((32, 32, 3), 10, 1, 10)
  sparse_init.sparsify(model, 0.8, 'erk', seed=seed)
  return [l.mask.numpy() for l in layers.masked_layers(model)]


class StaticSparseTest(tf.test.TestCase):

  def test_masks_never_change(self):
    out = tempfile.mkdtemp()
    bt.check(bt.run('baselines.cifar.static_sparse',
                    bt.SPARSE_FLAGS + ['--ensemble_size=2', '--train_epochs=2',
                                     '--seed=7', f'--output_dir={out}']))
    metrics = bt.load_json(os.path.join(out, 'metrics.json'))
    self.assertLen(metrics['tickets'], 2)
    for j in (0, 1):
      saved = bt.checkpoint_arrays(
          os.path.join(out, 'tickets', f'ticket_{j}'), 'mask')
      # Checkpoint keys are ordered by name, not layer: compare as multisets
      # of (shape, mask bytes).
      got = sorted((m.shape, m.tobytes()) for m in saved.values())
      want = sorted((m.shape, m.tobytes()) for m in _initial_masks(7 + j))
      self.assertEqual(got, want)
    self.assertAllClose(metrics['flops']['train_flops_ratio'],
                        2 * 2 / 250 * metrics['flops']['flops_ratio'])


if __name__ == '__main__':
  tf.test.main()
