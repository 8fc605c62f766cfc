"""End-to-end test of baselines/cifar/static_sparse.py under mock data."""

import os
import tempfile

import numpy as np
import tensorflow as tf

from tests.baselines import binary_testing as bt


class StaticSparseTest(tf.test.TestCase):

  def test_masks_never_change(self):
    out = tempfile.mkdtemp()
    bt.check(bt.run('baselines.cifar.static_sparse',
                    bt.SPARSE_FLAGS + ['--ensemble_size=2', '--train_epochs=2',
                                     '--seed=7', f'--output_dir={out}']))
    metrics = bt.load_json(os.path.join(out, 'metrics.json'))
    self.assertLen(metrics['tickets'], 2)
    for j in (0, 1):
      self.assertEqual(
          bt.ticket_masks(os.path.join(out, 'tickets', f'ticket_{j}')),
          bt.initial_masks(7 + j))
    self.assertAllClose(metrics['flops']['train_flops_ratio'],
                        2 * 2 / 250 * metrics['flops']['flops_ratio'])


if __name__ == '__main__':
  tf.test.main()
