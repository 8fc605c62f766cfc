"""End-to-end tests of baselines/cifar/ensemble.py under mock data."""

import os
import shutil
import tempfile

import numpy as np
import tensorflow as tf

from baselines.data import cifar
from sparse_layers import models
from sparse_layers import sparse_init
from sparse_layers.keras_alias import keras
from tests.baselines import binary_testing as bt


def _write_member(directory, masked, seed):
  keras.utils.set_random_seed(seed)
  model = models.wide_resnet((32, 32, 3), 10, 1, 10, masked=masked)
  if masked:
    sparse_init.sparsify(model, 0.8, seed=seed)
  os.makedirs(directory)
  tf.train.Checkpoint(model=model).write(os.path.join(directory, 'model'))
  return directory


class EnsembleTest(tf.test.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.dir = tempfile.mkdtemp()
    cls.members = [_write_member(os.path.join(cls.dir, 'sparse_a'), True, 1),
                   _write_member(os.path.join(cls.dir, 'sparse_b'), True, 2),
                   _write_member(os.path.join(cls.dir, 'dense'), False, 3)]

  def test_sparse_and_dense_members_with_corrupted_and_ood(self):
    out = os.path.join(self.dir, 'out')
    bt.check(bt.run('baselines.cifar.ensemble', bt.TINY_FLAGS + [
        f'--checkpoint_dirs={",".join(self.members)}', '--eval_on_ood',
        '--corruptions_interval=1', f'--output_dir={out}'], num_examples=16))
    metrics = bt.load_json(os.path.join(out, 'metrics.json'))
    m = metrics['metrics']
    self.assertEqual(metrics['members'], self.members)
    member_nlls = [m[f'test/nll_member_{i}'] for i in range(3)]
    self.assertLen(set(member_nlls), 3)
    # Ensemble NLL <= mean member NLL (convexity of -log).
    self.assertLessEqual(m['test/negative_log_likelihood'],
                         np.mean(member_nlls) + 1e-9)
    corrupted = [k for k in m if k.startswith('test/') and any(
        c in k for c in cifar.CORRUPTIONS)]
    self.assertLen(corrupted, 15 * 5 * 3)
    for name in ('nll', 'accuracy', 'ece'):
      means = [m[f'test/{name}_mean_{i}'] for i in range(1, 6)]
      self.assertAllClose(m[f'test/{name}_mean_corrupted'], np.mean(means))
      self.assertAllClose(means[0], np.mean(
          [m[f'test/{name}_{c}_1'] for c in cifar.CORRUPTIONS]))
    for ood in ('cifar100', 'svhn_cropped'):
      self.assertBetween(m[f'ood/{ood}_auroc'], 0.0, 1.0)
    self.assertIn('test/accuracy',
                  bt.scalars(os.path.join(out, 'summaries', 'ensemble')))

  def test_ubs_checkpoint_dir_gives_one_member_per_subdirectory(self):
    parent = os.path.join(self.dir, 'ub_layout')
    for name, source in (('a', self.members[0]), ('b', self.members[2])):
      shutil.copytree(source, os.path.join(parent, name, 'checkpoints'))
    out = os.path.join(self.dir, 'out_ub')
    bt.check(bt.run('baselines.cifar.ensemble', bt.TINY_FLAGS + [
        f'--checkpoint_dir={parent}', f'--output_dir={out}'],
                    num_examples=16))
    metrics = bt.load_json(os.path.join(out, 'metrics.json'))
    self.assertEqual(metrics['members'], [
        os.path.join(parent, 'a', 'checkpoints'),
        os.path.join(parent, 'b', 'checkpoints')])
    self.assertIn('test/nll_member_1', metrics['metrics'])
    self.assertNotIn('test/nll_member_2', metrics['metrics'])

  def test_missing_and_truncated_checkpoints_are_clear_errors(self):
    missing = os.path.join(self.dir, 'nope')
    result = bt.run('baselines.cifar.ensemble', bt.TINY_FLAGS + [
        f'--checkpoint_dirs={self.members[0]},{missing}',
        f'--output_dir={self.dir}/o1'], num_examples=16)
    self.assertNotEqual(result.returncode, 0)
    self.assertIn(f'no checkpoint found at {missing}', result.stderr)
    truncated = os.path.join(self.dir, 'truncated')
    _write_member(truncated, True, 4)
    data_file = tf.io.gfile.glob(os.path.join(truncated, 'model.data*'))[0]
    with open(data_file, 'r+b') as f:
      f.truncate(100)
    result = bt.run('baselines.cifar.ensemble', bt.TINY_FLAGS + [
        f'--checkpoint_dirs={truncated}', f'--output_dir={self.dir}/o2'],
                    num_examples=16)
    self.assertNotEqual(result.returncode, 0)
    self.assertIn(f'cannot restore member {truncated}', result.stderr)
    self.assertFalse(os.path.exists(os.path.join(self.dir, 'o2',
                                                 'metrics.json')))


if __name__ == '__main__':
  tf.test.main()
