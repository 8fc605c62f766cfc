"""End-to-end test of baselines/cifar/deterministic.py: the npz route."""

import os
import pathlib
import re
import tempfile

import numpy as np
import tensorflow as tf

from tests.baselines import binary_testing as bt
from tests.baselines import reference_metrics as ref


class DeterministicTest(tf.test.TestCase):

  def test_offline_npz_route(self):
    directory = tempfile.mkdtemp()
    rng = np.random.default_rng(0)
    for name, n in (('train', 256), ('test', 20)):
      np.savez(os.path.join(directory, f'{name}.npz'),
               x=rng.integers(0, 256, (n, 32, 32, 3)).astype(np.uint8),
               y=rng.integers(0, 10, n))
    out = os.path.join(directory, 'out')
    # The default global batch (128) and LR: 2 steps an epoch.
    flags = [f for f in bt.TINY_FLAGS if 'per_core_batch_size' not in f]
    bt.check(bt.run('baselines.cifar.deterministic', flags + [
        '--train_epochs=4', f'--train_npz={directory}/train.npz',
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
    self.assertAllClose(metrics['flops']['train_flops_ratio'], 4 / 250)
    # The authors' dense schedule by default: batch 128 at LR 0.1, no
    # warm-up, LR / 10 at 50% and 75% of training.
    self.assertAllClose(
        [h['train/learning_rate'] for h in metrics['history']['0']],
        [0.1, 0.1, 0.01, 0.001])
    hparams = bt.scalars(os.path.join(out, 'summaries', 'ensemble'))
    self.assertIn('test/accuracy', hparams)
    # One model: its per-epoch scalars and hparams directly in summaries/,
    # as UB's deterministic.py writes them.
    summaries = os.path.join(out, 'summaries')
    self.assertEqual(sorted(bt.scalars(summaries)['test/accuracy']),
                     [1, 2, 3, 4])
    self.assertIn('ensemble', os.listdir(summaries))
    self.assertFalse(os.path.exists(os.path.join(summaries, 'member_0')))
    self.assertEqual(bt.hparams_session(summaries)['method'], 'dense')
    self.assertFalse([k for k in bt.scalars(summaries)
                      if k.startswith('sparsity/')])  # Dense: no masks.
    self.assertEqual(metrics['flops']['forward_passes'], 1)
    self.assertNotIn('test/diversity/disagreement', metrics['metrics'])

  def test_readmes_ub_recipe_command(self):
    # The README's flags for UB's recipe, on a tiny WRN and mock data (the
    # last of a repeated flag wins: 2 epochs, no TPU).
    readme = (pathlib.Path(__file__).parents[3] / 'README.md').read_text()
    command = re.search(r'python baselines/cifar/deterministic\.py (--per_core'
                        r'[^\n]*)', readme).group(1).split()
    flags = [f for f in command if not f.startswith('--tpu')]
    out = tempfile.mkdtemp()
    bt.check(bt.run('baselines.cifar.deterministic', flags + [
        '--depth=10', '--width_multiplier=1', '--train_epochs=2',
        f'--output_dir={out}']))
    run = bt.load_json(os.path.join(out, 'run.json'))
    recipe = {k: run['flags'][k] for k in (
        'nesterov', 'momentum_style', 'l2', 'lr_decay_epochs',
        'lr_decay_ratio', 'lr_warmup_epochs', 'cifar_preprocessing',
        'per_core_batch_size')}
    self.assertEqual(recipe, {
        'nesterov': True, 'momentum_style': 'keras', 'l2': 2e-4,
        'lr_decay_epochs': ['60', '120', '160'], 'lr_decay_ratio': 0.2,
        'lr_warmup_epochs': 1, 'cifar_preprocessing': 'ub',
        'per_core_batch_size': 64})
    self.assertAllClose(run['effective']['learning_rate'], 0.1 * 64 / 128)
    info = bt.load_json(os.path.join(out, 'tickets', 'ticket_0',
                                     'ticket.json'))
    self.assertEqual(info['model']['preprocessing'], 'ub')


if __name__ == '__main__':
  tf.test.main()
