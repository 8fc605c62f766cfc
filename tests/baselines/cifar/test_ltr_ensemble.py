"""End-to-end test of baselines/cifar/ltr_ensemble.py under mock data."""

import os
import tempfile

import numpy as np
import tensorflow as tf

from baselines.evaluation import method_cards
from tests.baselines import binary_testing as bt


class LtrEnsembleTest(tf.test.TestCase):

  def test_prune_rewind_retrain(self):
    out = tempfile.mkdtemp()
    bt.check(bt.run('baselines.cifar.ltr_ensemble', bt.TINY_FLAGS + [
        '--ensemble_size=2', '--train_epochs=4', '--sparsity=0.8',
        '--ltr_rewind_fraction=0.25', '--ltr_prune_begin=0.25',
        '--ltr_prune_end=0.75', '--pruning_frequency=1',
        f'--output_dir={out}']))
    metrics = bt.load_json(os.path.join(out, 'metrics.json'))
    tickets = [os.path.join(out, 'tickets', f'ticket_{j}') for j in (0, 1)]
    masks = [bt.checkpoint_arrays(t, 'mask') for t in tickets]
    kernels = [bt.checkpoint_arrays(t, 'kernel') for t in tickets]
    self.assertEqual(sorted(masks[0]), sorted(masks[1]))
    for name in masks[0]:
      # One pruned mask for every retrain, uniform 80% per layer.
      self.assertAllEqual(masks[0][name], masks[1][name])
      self.assertEqual(int(masks[0][name].sum()),
                       round(0.2 * masks[0][name].size))
      for mask, kernel in zip(masks, kernels):
        k = kernel[name.replace('/mask/', '/kernel/')]
        self.assertEqual(np.count_nonzero(k[mask[name] == 0]), 0)
    self.assertNotAllEqual(*[np.concatenate([k.ravel() for k in ks.values()])
                             for ks in kernels])  # Different data orders.
    self.assertTrue(os.path.exists(os.path.join(out, 'gmp', 'rewind',
                                                'model.index')))
    base = 0.1 * bt.BATCH / 128
    history = metrics['history']
    self.assertAllClose([h['train/learning_rate'] for h in history['gmp']],
                        [base, base, base * 0.1, base * 0.01])
    # Retrains continue the schedule from the rewind point (epoch 1 of 4).
    self.assertAllClose([h['train/learning_rate'] for h in history['0']],
                        [base, base * 0.1, base * 0.01])
    gmp_sparsity = [h['train/sparsity'] for h in history['gmp']]
    self.assertEqual(gmp_sparsity, sorted(gmp_sparsity))
    self.assertAllClose(gmp_sparsity[-1], 0.8, atol=1e-3)
    # Each layer's sparsity at every pruning step (steps 3 to 9 of 12).
    gmp = os.path.join(out, 'summaries', 'gmp')
    layers = {k: v for k, v in bt.scalars(gmp).items()
              if k.startswith('sparsity/')}
    self.assertLen(layers, len(masks[0]))
    final = sorted(1 - round(0.2 * m.size) / m.size for m in masks[0].values())
    self.assertAllClose(sorted(v[9] for v in layers.values()), final)
    for values in layers.values():
      self.assertEqual(sorted(values), list(range(3, 10)))
      by_step = [values[t] for t in range(3, 10)]
      self.assertEqual(by_step, sorted(by_step))
    self.assertEqual(bt.hparams_session(gmp)['method'], 'ltr')
    f = metrics['flops']
    self.assertEqual(f['forward_passes'], 3)
    self.assertAllClose(f['train_flops_ratio'], method_cards.train_flops_ratio(
        'ltr', f['dense_flops'], f['sparse_flops'], dense_epochs=250,
        train_epochs=4, ensemble_size=2, ltr_rewind_fraction=0.25,
        ltr_prune_begin=0.25, ltr_prune_end=0.75))


if __name__ == '__main__':
  tf.test.main()
