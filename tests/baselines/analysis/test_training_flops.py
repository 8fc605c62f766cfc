"""Tests for baselines/analysis/training_flops.py: Appendix D and Tables 1
and 3 from the command line and `report`."""

import json
import pathlib
import subprocess
import sys

import tensorflow as tf

from baselines.analysis import training_flops
from sparse_layers import flops

ROOT = pathlib.Path(__file__).resolve().parents[3]
TOOL = 'baselines.analysis.training_flops'


class TrainingFlopsTest(tf.test.TestCase):

  def test_paper_appendix_d_and_table_1(self):
    # WRN-28-10, ERK over all conv and dense kernels, CIFAR-100 classifier.
    model = flops.build_model('wrn', 28, 10, 100)
    kw = dict(dense_epochs=250, update_interval=1000)
    report = training_flops.report
    r80 = report(model, 0.8, 'erk', method='edst', ensemble_size=3,
                 exploration_epochs=150, refinement_epochs=100, **kw)
    r90 = report(model, 0.9, 'erk', method='edst', ensemble_size=7,
                 exploration_epochs=150, refinement_epochs=100, **kw)
    dst = report(model, 0.8, 'erk', method='dst_ensemble',
                 ensemble_size=3, train_epochs=250, **kw)
    # The paper prints 33.7% and 16.7%: within one unit of the last digit.
    self.assertAllClose(r80['flops_ratio'], 0.337, atol=0.001)
    self.assertAllClose(r90['flops_ratio'], 0.167, atol=0.001)
    self.assertEqual(round(r80['flops_ratio'] * 100, 1), 33.7)
    self.assertEqual(round(r80['train_flops_ratio'], 2), 0.61)
    self.assertEqual(round(r90['train_flops_ratio'], 2), 0.57)
    self.assertEqual(round(dst['train_flops_ratio'], 2), 1.01)
    self.assertEqual(r80['forward_passes'], 1)
    self.assertEqual(dst['forward_passes'], 3)
    self.assertLen(r80['layers'], 29)

  def test_command_line_json(self):
    result = subprocess.run(
        [sys.executable, '-m', TOOL, '--model=wrn',
         '--depth=10', '--width=1', '--num_classes=100', '--sparsity=0.8',
         '--distribution=erk', '--method=edst', '--ensemble_size=3', '--json'],
        cwd=ROOT, capture_output=True, text=True, check=True)
    report = json.loads(result.stdout)
    for key in ('dense_flops', 'sparse_flops', 'flops_ratio',
                'train_flops_ratio', 'layers'):
      self.assertIn(key, report)
    self.assertLen(report['layers'], 10)
    self.assertEqual(set(report['layers'][0]),
                     {'name', 'shape', 'density', 'flops', 'dense_flops'})
    self.assertAllClose(report['sparse_flops'],
                        sum(l['flops'] for l in report['layers']))

  def test_resnet50_erk_from_the_command(self):
    result = subprocess.run(
        [sys.executable, '-m', TOOL, '--model=resnet50',
         '--num_classes=1000', '--sparsity=0.8', '--method=edst',
         '--ensemble_size=2', '--exploration_epochs=30',
         '--refinement_epochs=70', '--update_interval=4000',
         '--dense_epochs=90', '--json'],
        cwd=ROOT, capture_output=True, text=True, check=True)
    report = json.loads(result.stdout)
    self.assertLen(report['layers'], 54)  # 53 convs and the classifier.
    # ResNet-50 at 224x224: 4.09 G multiply-adds (He et al.: 3.8-4.1 G).
    self.assertAllClose(report['dense_flops'], 4.089e9, rtol=1e-3)
    # RigL (Evci et al. 2020, Table 2): ERK at S = 0.8 needs 0.42x of the
    # dense inference FLOPs; ours includes the first layer: 0.414.
    self.assertAllClose(report['flops_ratio'], 0.42, atol=0.01)
    # 170 epochs at that cost (+ the dense gradient every ΔT) vs 90 dense.
    self.assertAllClose(report['train_flops_ratio'],
                        report['flops_ratio'] * 170 / 90, rtol=1e-3)

  def test_dense_reference_defaults_by_model_and_is_said(self):
    result = subprocess.run(
        [sys.executable, '-m', TOOL, '--model=wrn', '--depth=10',
         '--width=1', '--sparsity=0.8', '--method=edst'],
        cwd=ROOT, capture_output=True, text=True, check=True)
    self.assertIn('vs one dense run of D = 250 epochs', result.stdout)
    self.assertIn("D: the paper's reference, MIMO's training run",
                  result.stdout)

  def test_command_line_rejects_bad_sparsity(self):
    result = subprocess.run(
        [sys.executable, '-m', TOOL, '--depth=10',
         '--width=1', '--sparsity=1.2'],
        cwd=ROOT, capture_output=True, text=True, check=False)
    self.assertNotEqual(result.returncode, 0)
    self.assertIn(r'sparsity must be in [0, 1), got 1.2', result.stderr)
    result = subprocess.run(
        [sys.executable, '-m', TOOL, '--depth=10',
         '--width=1', '--first_layer=half'],
        cwd=ROOT, capture_output=True, text=True, check=False)
    self.assertNotEqual(result.returncode, 0)
    self.assertIn("--first_layer must be 'include', 'dense' or a sparsity",
                  result.stderr)


if __name__ == '__main__':
  tf.test.main()
