"""End-to-end test of baselines/cifar/deterministic.py: the npz route."""

import os
import tempfile

import numpy as np
import tensorflow as tf

from tests.baselines import reference_metrics as ref
from tests.baselines.cifar import binary_testing as bt


class DeterministicTest(tf.test.TestCase):

  def test_offline_npz_route(self):
    directory = tempfile.mkdtemp()
    rng = np.random.default_rng(0)
    for name, n in (('train', 48), ('test', 20)):
      np.savez(os.path.join(directory, f'{name}.npz'),
               x=rng.integers(0, 256, (n, 32, 32, 3)).astype(np.uint8),
               y=rng.integers(0, 10, n))
    out = os.path.join(directory, 'out')
    bt.check(bt.run('baselines.cifar.deterministic', bt.TINY_FLAGS + [
        '--train_epochs=2', f'--train_npz={directory}/train.npz',
        f'--test_npz={directory}/test.npz', f'--output_dir={out}'],
                    mock=False))
    metrics = bt.load_json(os.path.join(out, 'metrics.json'))
    ticket = os.path.join(out, 'tickets', 'ticket_0')
    self.assertEqual(bt.checkpoint_arrays(ticket, 'mask'), {})  # Dense.
    probs, labels = bt.predictions(ticket)
    with np.load(os.path.join(directory, 'test.npz')) as arrays:
      self.assertAllEqual(labels, arrays['y'])
    self.assertEqual(probs.shape, (20, 10))
    self.assertAllClose(metrics['metrics']['test/accuracy'],
                        ref.accuracy(probs, labels))
    self.assertEqual(metrics['tickets'][0]['sparsity'], 0.0)
    self.assertAllClose(metrics['flops']['train_flops_ratio'], 2 / 250)
    self.assertEqual(metrics['flops']['forward_passes'], 1)
    self.assertNotIn('test/diversity/disagreement', metrics['metrics'])


if __name__ == '__main__':
  tf.test.main()
