"""Tests for baselines/analysis/report.py on synthetic metrics.json files."""

import json
import os

import numpy as np
import tensorflow as tf

from baselines.analysis import report


def _write_run(root, name, method='edst', seed=0, accuracy=0.9,
               dataset='cifar10', sparsity=0.8, corrupted=True, **flags):
  directory = os.path.join(root, name)
  os.makedirs(directory)
  metrics = {'test/accuracy': accuracy, 'test/negative_log_likelihood': 0.3,
             'test/ece': 0.02, 'ood/svhn_cropped_auroc': 0.9,
             'ood/svhn_cropped_auprc': 0.8}
  if corrupted:
    metrics.update({'test/accuracy_mean_corrupted': accuracy - 0.2,
                    'test/nll_mean_corrupted': 1.0,
                    'test/ece_mean_corrupted': 0.1})
  payload = {'method': method, 'metrics': metrics,
             'flags': {'seed': seed, 'dataset': dataset, 'sparsity': sparsity,
                       'ensemble_size': 3, 'output_dir': directory, **flags},
             'flops': {'train_flops_ratio': 0.61, 'forward_passes': 1},
             'tickets': []}
  with open(os.path.join(directory, 'metrics.json'), 'w') as f:
    json.dump(payload, f)
  return directory


class ReportTest(tf.test.TestCase):

  def test_seeds_grouped_with_numpy_mean_and_std(self):
    root = self.get_temp_dir()
    dirs = [_write_run(root, f's{i}', seed=i, accuracy=a)
            for i, a in enumerate([0.90, 0.92, 0.95])]
    dirs.append(_write_run(root, 'dst', method='dst_ensemble', seed=0,
                           accuracy=0.93, corrupted=False))
    tables = report.build_tables(dirs)
    rows, columns, _ = tables['cifar10']
    self.assertEqual([r['method'] for r in rows],
                     ['DST Ensemble', 'EDST Ensemble'])
    edst = rows[1]
    self.assertEqual(edst['seeds'], 3)
    self.assertAllClose(edst['acc']['mean'], np.mean([0.90, 0.92, 0.95]))
    self.assertAllClose(edst['acc']['std'],
                        np.std([0.90, 0.92, 0.95], ddof=1))
    self.assertIsNone(rows[0]['acc']['std'])  # One seed: no std.
    self.assertIsNone(rows[0]['cacc']['mean'])  # Missing: a dash.
    text = report.markdown('cifar10', rows, columns, ['acc', 'cacc'])
    self.assertIn('| DST Ensemble | 3 | 0.8 | 93.00 | 0.300 | 0.020 | — |',
                  text)
    self.assertIn('92.33 ± 2.52', text)
    by_acc = report.sort_rows(rows, 'acc')
    self.assertEqual([r['method'] for r in by_acc],
                     ['EDST Ensemble', 'DST Ensemble'])

  def test_datasets_get_their_own_tables_and_files(self):
    root = self.get_temp_dir()
    dirs = [_write_run(root, 'a'), _write_run(root, 'b', dataset='cifar100')]
    tables = report.build_tables(dirs, ood=True)
    self.assertEqual(sorted(tables), ['cifar10', 'cifar100'])
    rows, columns, _ = tables['cifar100']
    self.assertEqual(columns, ['svhn_cropped/auroc', 'svhn_cropped/auprc'])
    self.assertAllClose(rows[0]['svhn_cropped/auroc']['mean'], 0.9)
    csv_path = os.path.join(root, 't.csv')
    report.write_csv(csv_path, tables)
    with open(csv_path) as f:
      lines = f.read().splitlines()
    self.assertLen(lines, 4)  # A header and a row per dataset.
    json_path = os.path.join(root, 't.json')
    report.write_json(json_path, tables)
    with open(json_path) as f:
      self.assertEqual(sorted(json.load(f)), ['cifar10', 'cifar100'])

  def test_imagenet_table_has_imagenet_a_columns(self):
    root = self.get_temp_dir()
    directory = _write_run(root, 'in', dataset=None)
    path = os.path.join(directory, 'metrics.json')
    with open(path) as f:
      payload = json.load(f)
    # ImageNet binaries have no --dataset: the tickets' spec names it.
    del payload['flags']['dataset']
    payload['tickets'] = [{'model': {'dataset': 'imagenet2012'}}]
    payload['metrics'].update({'imagenet_a/accuracy': 0.037,
                               'imagenet_a/negative_log_likelihood': 4.9,
                               'imagenet_a/ece': 0.37})
    with open(path, 'w') as f:
      json.dump(payload, f)
    cifar = _write_run(root, 'c')
    tables = report.build_tables([directory, cifar])
    rows, columns, percent = tables['imagenet2012']
    self.assertEqual(columns[6:9], ['aacc', 'anll', 'aece'])
    self.assertIn('aacc', percent)
    self.assertAllClose(rows[0]['anll']['mean'], 4.9)
    self.assertNotIn('aacc', tables['cifar10'][1])
    text = report.markdown('imagenet2012', rows, columns, percent)
    self.assertIn('| aAcc (%) | aNLL | aECE |', text)
    self.assertIn('| 3.70 | 4.900 | 0.370 |', text)

  def test_rows_name_the_flags_that_differ(self):
    root = self.get_temp_dir()
    dirs = [_write_run(root, 'rigl', growth='gradient'),
            _write_run(root, 'set', growth='random')]
    rows, _, _ = report.build_tables(dirs)['cifar10']
    self.assertEqual(sorted(r['method'] for r in rows),
                     ['EDST Ensemble (growth=gradient)',
                      'EDST Ensemble (growth=random)'])

  def test_table_5_diversity_and_its_labels(self):
    root = self.get_temp_dir()
    rows = {}
    for name, method, flags, values in (
        ('edst_0', 'edst', {}, (0.03, 0.07)),
        ('edst_1', 'edst', {}, (0.04, 0.08)),
        ('edst_fixed', 'edst', {'parameter_exploration': False},
         (0.017, 0.042)),
        ('static', 'static', {}, (0.02, 0.051))):
      path = _write_run(root, name, method=method, seed=int(name[-1] == '1'),
                        **flags)
      with open(os.path.join(path, 'metrics.json')) as f:
        payload = json.load(f)
      payload['metrics']['test/diversity/disagreement'] = values[0]
      payload['metrics']['test/diversity/average_kl'] = values[1]
      with open(os.path.join(path, 'metrics.json'), 'w') as f:
        json.dump(payload, f)
      rows[name] = path
    table, columns, percent = report.build_tables(
        list(rows.values()), diversity=True)['cifar10']
    self.assertEqual(columns, ['d_dis', 'd_kl'])
    by_label = {r['method']: r for r in table}
    self.assertEqual(sorted(by_label), [
        'DST Ensemble (w/o Parameter Exploration)', 'EDST Ensemble',
        'EDST Ensemble (w/o Parameter Exploration)'])
    edst = by_label['EDST Ensemble']
    self.assertEqual(edst['seeds'], 2)
    self.assertAllClose(edst['d_dis']['mean'], 0.035)
    self.assertAllClose(edst['d_kl']['std'], np.std([0.07, 0.08], ddof=1))
    text = report.markdown('cifar10', table, columns, percent)
    self.assertIn('| EDST Ensemble (w/o Parameter Exploration) | 3 | 0.8 | '
                  '0.017 | 0.042 | 1 |', text)
    # Table 1 keeps the static ensemble's own name.
    self.assertIn('Static Sparse Ensemble', [
        r['method'] for r in report.build_tables(
            list(rows.values()))['cifar10'][0]])

  def test_flops_against_one_dense_reference_per_table(self):
    root = self.get_temp_dir()
    dirs = []
    for seed, stored in ((0, 90), (1, 150)):
      path = _write_run(root, f'imagenet_{seed}', seed=seed,
                        dataset='imagenet2012')
      with open(os.path.join(path, 'metrics.json')) as f:
        payload = json.load(f)
      payload['flops'] = {'train_flops_ratio': 0.78 * 90 / stored,
                          'forward_passes': 1, 'dense_epochs': stored}
      with open(os.path.join(path, 'metrics.json'), 'w') as f:
        json.dump(payload, f)
      dirs.append(path)
    # Two references in one row: refused, naming both, unless rescaled.
    with self.assertRaisesRegex(
        report.ReportError, r'different dense references: D = 90: .*'
        r'imagenet_0; D = 150: .*imagenet_1\. Pass --dense_epochs'):
      report.build_tables(dirs)
    (row,), columns, percent = report.build_tables(
        dirs, dense_epochs=150)['imagenet2012']
    self.assertEqual(row['seeds'], 2)
    self.assertAllClose(row['flops']['mean'], 0.78 * 90 / 150)
    self.assertEqual(row['flops']['std'], 0.0)
    self.assertIn('Training FLOPs (× dense, D = 150)',
                  report.markdown('imagenet2012', [row], columns, percent))
    # A run that does not say its D cannot be rescaled.
    old = _write_run(root, 'old', dataset='imagenet2012', seed=2)
    with self.assertRaisesRegex(report.ReportError,
                                'old: its metrics.json does not say'):
      report.build_tables(dirs + [old], dense_epochs=150)

  def test_directory_without_metrics_is_named(self):
    empty = os.path.join(self.get_temp_dir(), 'empty')
    os.makedirs(empty)
    with self.assertRaisesRegex(report.ReportError,
                                f'{empty}: no metrics.json'):
      report.build_tables([empty])


if __name__ == '__main__':
  tf.test.main()
