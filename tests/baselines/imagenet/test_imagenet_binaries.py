"""End-to-end tests of baselines/imagenet/*.py under mock TFDS data.

A reduced ResNet (depth 14, base width 4, 32x32 crops: the same code path
as ResNet-50) on 32 mock images of random sizes, 8 a batch (4 steps an
epoch); ΔT = 1 at a batch of 128 is 16 steps here.
"""

import os

import numpy as np
import tensorflow as tf

from tests.baselines import binary_testing as bt
from tests.baselines import reference_metrics as ref

NUM_EXAMPLES = 32
TINY = ['--resnet_depth=14', '--resnet_base_width=4', '--image_size=32',
        '--per_core_batch_size=8', '--update_interval=1',
        '--checkpoint_interval=1', '--test_examples=16']


def _run(module, args, **kwargs):
  return bt.run(f'baselines.imagenet.{module}', args,
                num_examples=NUM_EXAMPLES, **kwargs)


class ImagenetEdstTest(tf.test.TestCase):

  def test_edst_bfloat16_tickets_and_ensemble_binary(self):
    out = os.path.join(self.get_temp_dir(), 'edst')
    bt.check(_run('edst', TINY + [
        '--exploration_epochs=1', '--refinement_epochs=2',
        '--ensemble_size=2', '--lr_warmup_epochs=0', '--use_bfloat16',
        '--eval_on_imagenet_a', f'--output_dir={out}']))
    metrics = bt.load_json(os.path.join(out, 'metrics.json'))
    history = [h for h in metrics['history'] if 'train/loss' in h]
    # Exploration at the base LR, each refinement at 0.1x then 0.01x of it
    # (t_re = 2: the authors' switch at 3/7 of the phase rounds to epoch 1).
    base = 0.1 * 8 / 128
    self.assertAllClose([h['train/learning_rate'] for h in history],
                        [base, base * 0.1, base * 0.01, base * 0.1,
                         base * 0.01])
    self.assertEqual([h['phase'] for h in history],
                     ['exploration'] + ['refinement_0'] * 2 +
                     ['refinement_1'] * 2)
    reexplored = [h for h in metrics['history']
                  if 'reexploration_reset' in h]
    self.assertLen(reexplored, 1)
    self.assertAllClose(reexplored[0]['reexploration_reset'] /
                        reexplored[0]['reexploration_active'], 0.8, atol=2e-3)
    for key in ('accuracy', 'negative_log_likelihood', 'ece'):
      self.assertIn(f'imagenet_a/{key}', metrics['metrics'])
    tickets = [os.path.join(out, 'tickets', f'ticket_{j}') for j in (0, 1)]
    probs = []
    for path in tickets:
      info = bt.load_json(os.path.join(path, 'ticket.json'))
      self.assertEqual((info['model']['architecture'], info['model']['depth'],
                        info['model']['num_classes']), ('resnet', 14, 1000))
      masks = bt.checkpoint_arrays(path, 'mask')
      kernels = bt.checkpoint_arrays(path, 'kernel')
      self.assertLen(masks, 18)  # 17 convs and the classifier.
      zeros = sum(int((m == 0).sum()) for m in masks.values())
      total = sum(m.size for m in masks.values())
      self.assertAllClose(zeros / total, 0.8, atol=1e-3)
      for name, mask in masks.items():
        kernel = kernels[name.replace('/mask/', '/kernel/')]
        self.assertEqual(kernel.dtype, np.float32)  # bfloat16 compute only.
        self.assertAllEqual(kernel[mask == 0], np.zeros((mask == 0).sum()))
      probs.append(bt.predictions(path))
    labels = probs[0][1]
    member_probs = np.stack([p for p, _ in probs])
    self.assertAllClose(metrics['metrics']['test/negative_log_likelihood'],
                        ref.ensemble_nll(member_probs, labels), rtol=1e-4)

    # ensemble.py rebuilds the tickets from their specs (the image size
    # included); ImageNet-C's splits: tests/baselines/methods/test_tasks.py.
    ensemble_out = os.path.join(self.get_temp_dir(), 'ensemble')
    bt.check(_run('ensemble', [
        f'--checkpoint_dirs={tickets[0]},{tickets[1]}', '--use_bfloat16',
        '--per_core_batch_size=8', '--test_examples=8',
        f'--output_dir={ensemble_out}']))
    evaluated = bt.load_json(os.path.join(ensemble_out, 'metrics.json'))
    self.assertAllClose(
        evaluated['metrics']['test/accuracy'],
        np.mean(np.argmax(member_probs[:, :8].mean(0), -1) == labels[:8]))
    self.assertAllClose(evaluated['metrics']['test/nll_member_1'],
                        ref.nll(member_probs[1, :8], labels[:8]), rtol=1e-4)


class ImagenetMembersTest(tf.test.TestCase):

  def test_dst_ensemble_members_and_dense_model(self):
    out = os.path.join(self.get_temp_dir(), 'dst')
    bt.check(_run('dst_ensemble', TINY + [
        '--ensemble_size=2', '--train_epochs=1', f'--output_dir={out}']))
    masks = [bt.ticket_masks(os.path.join(out, 'tickets', f'ticket_{j}'))
             for j in (0, 1)]
    self.assertNotEqual(masks[0], masks[1])  # Own sparse inits (seed + j).
    metrics = bt.load_json(os.path.join(out, 'metrics.json'))
    self.assertIn('test/diversity/disagreement', metrics['metrics'])
    # The warm-up: 5 epochs to the base LR, so epoch 1 starts at 0.
    first = [h for h in metrics['history']['0'] if 'train/loss' in h][0]
    self.assertEqual(first['train/learning_rate'], 0.0)

    dense_out = os.path.join(self.get_temp_dir(), 'dense')
    dense_flags = [f for f in TINY if not f.startswith('--update_interval')]
    bt.check(_run('deterministic', dense_flags + [
        '--train_epochs=1', f'--output_dir={dense_out}']))
    info = bt.load_json(os.path.join(dense_out, 'tickets', 'ticket_0',
                                     'ticket.json'))
    self.assertEqual(info['sparsity'], 0.0)
    self.assertFalse(info['model']['masked'])


class ImagenetBadInputTest(tf.test.TestCase):

  def test_imagenet_not_prepared_is_a_clear_error(self):
    out = os.path.join(self.get_temp_dir(), 'out')
    result = _run('edst', TINY + [
        f'--data_dir={self.get_temp_dir()}/tfds', f'--output_dir={out}'],
        mock=False)
    self.assertEqual(result.returncode, 1, result.stderr[-2000:])
    self.assertIn('TFDS cannot download ImageNet', result.stderr)
    self.assertIn('tfds build imagenet2012', result.stderr)
    self.assertNotIn('Traceback', result.stderr)
    self.assertFalse(os.path.exists(out))

  def test_bad_flag_stops_before_anything_runs(self):
    out = os.path.join(self.get_temp_dir(), 'out')
    result = _run('dst_ensemble', ['--resnet_depth=20',
                                   f'--output_dir={out}'])
    self.assertEqual(result.returncode, 1)
    self.assertIn('--resnet_depth must be 14, 26, 50 or 101', result.stderr)
    self.assertFalse(os.path.exists(out))


if __name__ == '__main__':
  tf.test.main()
