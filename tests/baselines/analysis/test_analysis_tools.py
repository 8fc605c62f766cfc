"""The analysis tools (report, diversity, trajectories, adversarial, sweep)
on tiny runs trained here (mock data, WRN-10-1, a few steps)."""

import concurrent.futures
import json
import os
import shutil
import tempfile

from matplotlib import image as mpimg
import numpy as np
import tensorflow as tf

from tests.baselines import binary_testing as bt
from tests.baselines import reference_metrics as ref

EDST = bt.SPARSE_FLAGS + ['--ensemble_size=2', '--exploration_epochs=1',
                          '--refinement_epochs=1', '--trajectory_interval=1',
                          '--eval_on_ood',
                          '--ood_dataset=svhn_cropped,gaussian_noise']
RUNS = {
    'edst_seed1': ('edst', EDST + ['--seed=1']),
    'edst_seed2': ('edst', EDST + ['--seed=2']),
    'edst_s09': ('edst', EDST + ['--seed=1', '--sparsity=0.9']),
    'dst': ('dst_ensemble', bt.SPARSE_FLAGS + [
        '--ensemble_size=2', '--train_epochs=2', '--trajectory_interval=1']),
    # Figure 5: M = 1 at the same total t_ex + M t_re = 3 epochs.
    'edst_m1': ('edst', bt.SPARSE_FLAGS + [
        '--ensemble_size=1', '--exploration_epochs=1',
        '--refinement_epochs=2', '--seed=1']),
    # Table 5: EDST without parameter exploration.
    'edst_fixed': ('edst', bt.TINY_FLAGS + [
        '--noparameter_exploration', '--ensemble_size=2',
        '--exploration_epochs=1', '--refinement_epochs=1', '--seed=1']),
}


def _image_is_drawn(path):
  """A PNG that exists and is not blank."""
  pixels = mpimg.imread(path)
  return pixels.shape[0] > 200 and pixels.shape[1] > 200 and (
      pixels[..., :3].std() > 0.05)


class AnalysisToolsTest(tf.test.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.root = tempfile.mkdtemp()
    cls.dirs = {name: os.path.join(cls.root, name) for name in RUNS}
    # Learnable data (npz route; OOD sets from mock TFDS and generated), so
    # the runs double as the learning test of EDST and DST.
    train_npz, cls.test_npz = bt.write_learnable_npz(cls.root, 320, 200)
    data_flags = [f'--train_npz={train_npz}', f'--test_npz={cls.test_npz}']

    def train(name):
      binary, args = RUNS[name]
      bt.check(bt.run(f'baselines.cifar.{binary}', args + data_flags + [
          f'--output_dir={cls.dirs[name]}']))

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
      list(pool.map(train, RUNS))

  def _metrics(self, name):
    return bt.load_json(os.path.join(self.dirs[name], 'metrics.json'))

  def test_edst_and_dst_learn(self):
    # Chance is 0.1 (test_learning.py covers the other binaries).
    for name in RUNS:
      self.assertGreater(self._metrics(name)['metrics']['test/accuracy'],
                         0.5, name)

  def test_report_groups_seeds_and_equals_metrics_json(self):
    table = os.path.join(self.root, 'table.json')
    result = bt.check(bt.run('baselines.analysis.report', [
        os.path.join(self.root, 'edst_s*'), self.dirs['dst'],
        f'--json={table}', '--sort=s'], mock=False))
    rows = bt.load_json(table)['cifar10']
    self.assertEqual([(r['method'], r['s'], r['seeds']) for r in rows],
                     [('EDST Ensemble', 0.8, 2), ('DST Ensemble', 0.8, 1),
                      ('EDST Ensemble', 0.9, 1)])
    accuracies = [self._metrics(n)['metrics']['test/accuracy']
                  for n in ('edst_seed1', 'edst_seed2')]
    self.assertAllClose(rows[0]['acc']['mean'], np.mean(accuracies))
    self.assertAllClose(rows[0]['acc']['std'], np.std(accuracies, ddof=1))
    self.assertAllClose(rows[1]['flops']['mean'],
                        self._metrics('dst')['flops']['train_flops_ratio'])
    self.assertIsNone(rows[1]['cacc']['mean'])
    self.assertIn('| EDST Ensemble | 2 | 0.8 |', result.stdout)
    self.assertIn('—', result.stdout)  # No corrupted metrics: dashes.
    ood = bt.check(bt.run('baselines.analysis.report', [
        self.dirs['edst_seed1'], '--ood'], mock=False))
    self.assertIn('gaussian_noise/auroc', ood.stdout)
    self.assertIn('svhn_cropped/auprc', ood.stdout)

  def test_diversity_matrix_and_heatmap_from_saved_predictions(self):
    out = os.path.join(self.root, 'diversity')
    bt.check(bt.run('baselines.analysis.diversity', [
        f'--run_dirs={self.dirs["edst_seed1"]},{self.dirs["dst"]}',
        f'--output_dir={out}'], mock=False))
    result = bt.load_json(os.path.join(out, 'diversity.json'))
    matrix = np.array(result['disagreement'])
    self.assertEqual(matrix.shape, (4, 4))
    self.assertAllEqual(matrix, matrix.T)
    self.assertAllEqual(np.diag(matrix), np.zeros(4))
    probs = [bt.predictions(path)[0] for path in result['tickets']]
    for i in range(4):
      for j in range(4):
        self.assertAllClose(matrix[i, j], np.mean(
            np.argmax(probs[i], -1) != np.argmax(probs[j], -1)))
    # EDST's own pair equals its metrics.json diversity.
    disagreement, _ = ref.disagreement_and_kl(
        [p.astype(np.float64) for p in probs[:2]])
    self.assertAllClose(matrix[0, 1], disagreement)
    self.assertTrue(_image_is_drawn(os.path.join(out, 'disagreement.png')))
    with open(os.path.join(out, 'diversity.md')) as f:
      self.assertIn('mean over pairs', f.read())

  def test_trajectories_png_has_one_line_per_ticket_or_member(self):
    png = os.path.join(self.root, 'trajectories.png')
    result = bt.check(bt.run('baselines.analysis.trajectories', [
        f'--run_dirs={self.dirs["edst_seed1"]},{self.dirs["dst"]}',
        f'--output={png}'], mock=False))
    # EDST: 3 epochs of one run; DST: 2 epochs of each of 2 members.
    self.assertIn('7 snapshots of 3 trajectories', result.stdout)
    self.assertTrue(_image_is_drawn(png))

  def test_fgsm_step_zero_changes_nothing_and_a_step_never_helps(self):
    outs = {}
    for epsilon in (0, 8):
      out = os.path.join(self.root, f'fgsm_{epsilon}')
      bt.check(bt.run('baselines.analysis.adversarial', [
          f'--run_dir={self.dirs["edst_seed1"]}', f'--epsilon={epsilon}',
          f'--test_npz={self.test_npz}', f'--output_dir={out}'], mock=False))
      outs[epsilon] = bt.load_json(os.path.join(out, 'adversarial.json'))
    clean = outs[0]['clean']
    self.assertEqual(outs[0]['single'], clean['single'])
    self.assertAllClose(np.array(outs[0]['matrix'])[:, -1],
                        [clean['ensemble']] * 2)
    # The tickets' clean accuracy equals their saved test predictions'.
    for j, accuracy in enumerate(clean['single']):
      probs, labels = bt.predictions(os.path.join(
          self.dirs['edst_seed1'], 'tickets', f'ticket_{j}'))
      self.assertAllClose(accuracy, ref.accuracy(probs, labels))
    for own, before in zip(outs[8]['single'], clean['single']):
      self.assertLessEqual(own, before)
    ensemble = outs[8]['ensemble']
    self.assertLessEqual(ensemble['min'], ensemble['mean'])
    self.assertLessEqual(ensemble['mean'], ensemble['max'])

  def test_sweep_plot_over_sparsity_and_refusal_of_other_flags(self):
    png = os.path.join(self.root, 'sweep.png')
    result = bt.check(bt.run('baselines.analysis.sweep', [
        self.dirs['edst_seed1'], self.dirs['edst_seed2'],
        self.dirs['edst_s09'], '--vary=sparsity', f'--output={png}'],
                             mock=False))
    self.assertIn('S = 0.8: ensemble', result.stdout)
    self.assertIn('S = 0.9: ensemble', result.stdout)
    self.assertTrue(_image_is_drawn(png))
    mixed = bt.run('baselines.analysis.sweep', [
        self.dirs['edst_seed1'], self.dirs['dst'], '--vary=sparsity',
        f'--output={png}.x'], mock=False)
    self.assertNotEqual(mixed.returncode, 0)
    self.assertIn('differ in more than --sparsity and the seed', mixed.stderr)

  def test_sweep_over_ensemble_size_lets_edsts_refinement_follow_m(self):
    png = os.path.join(self.root, 'sweep_m.png')
    result = bt.check(bt.run('baselines.analysis.sweep', [
        self.dirs['edst_seed1'], self.dirs['edst_seed2'],
        self.dirs['edst_m1'], '--vary=ensemble_size', f'--output={png}'],
                             mock=False))
    m1 = self._metrics('edst_m1')['metrics']['test/accuracy']
    self.assertIn(f'M = 1: ensemble {m1:.4f}, tickets {m1:.4f}, '
                  '--refinement_epochs=2', result.stdout)
    both = np.mean([self._metrics(n)['metrics']['test/accuracy']
                    for n in ('edst_seed1', 'edst_seed2')])
    self.assertIn(f'M = 2: ensemble {both:.4f}', result.stdout)
    self.assertTrue(_image_is_drawn(png))
    # Runs of one M must agree on t_re: a copy of seed 2 with another t_re.
    other = os.path.join(self.root, 'edst_m2_tre2')
    os.makedirs(other, exist_ok=True)
    payload = self._metrics('edst_seed2')
    payload['flags'].update(seed=3, refinement_epochs=2)
    with open(os.path.join(other, 'metrics.json'), 'w') as f:
      json.dump(payload, f)
    mixed = bt.run('baselines.analysis.sweep', [
        self.dirs['edst_seed1'], other, self.dirs['edst_m1'],
        '--vary=ensemble_size', f'--output={png}.x'], mock=False)
    self.assertNotEqual(mixed.returncode, 0)
    self.assertIn("differ in more than the seed at one --ensemble_size (2): "
                  "method or ['refinement_epochs']", mixed.stderr)
    # Over S, t_re may not differ.
    mixed = bt.run('baselines.analysis.sweep', [
        self.dirs['edst_seed1'], self.dirs['edst_m1'], '--vary=sparsity',
        f'--output={png}.y'], mock=False)
    self.assertIn('differ in more than --sparsity and the seed', mixed.stderr)

  def test_edst_without_parameter_exploration_keeps_its_first_masks(self):
    first = bt.initial_masks(seed=1)
    for j in range(2):
      self.assertEqual(bt.ticket_masks(os.path.join(
          self.dirs['edst_fixed'], 'tickets', f'ticket_{j}')), first)
    metrics = self._metrics('edst_fixed')
    self.assertFalse(metrics['flags']['parameter_exploration'])
    # Static sparse steps: S = 0.8's sparse/dense FLOPs, over 3 of D = 250.
    flops = metrics['flops']
    self.assertAllClose(flops['train_flops_ratio'],
                        flops['sparse_flops'] / flops['dense_flops'] * 3 / 250)
    table = os.path.join(self.root, 'table5.json')
    result = bt.check(bt.run('baselines.analysis.report', [
        self.dirs['edst_fixed'], self.dirs['edst_seed1'], '--diversity',
        f'--json={table}'], mock=False))
    self.assertIn('| EDST Ensemble (w/o Parameter Exploration) | 2 | 0.8 |',
                  result.stdout)
    rows = {r['method']: r for r in bt.load_json(table)['cifar10']}
    self.assertAllClose(
        rows['EDST Ensemble (w/o Parameter Exploration)']['d_dis']['mean'],
        metrics['metrics']['test/diversity/disagreement'])
    # Flags of the exploration it turns off are refused before training.
    refused = bt.run('baselines.cifar.edst', bt.TINY_FLAGS + [
        '--noparameter_exploration', '--reexploration_fraction=0.5',
        f'--output_dir={self.root}/refused'])
    self.assertNotEqual(refused.returncode, 0)
    self.assertIn('--reexploration_fraction: no effect with '
                  '--noparameter_exploration', refused.stderr)
    self.assertFalse(os.path.exists(f'{self.root}/refused'))

  def test_bad_input_names_the_directory(self):
    empty = os.path.join(self.root, 'not_a_run')
    os.makedirs(empty, exist_ok=True)
    result = bt.run('baselines.analysis.report', [self.dirs['dst'], empty],
                    mock=False)
    self.assertNotEqual(result.returncode, 0)
    self.assertIn(f'{empty}: no metrics.json', result.stderr)
    other = os.path.join(self.root, 'other_test_set')
    shutil.copytree(os.path.join(self.dirs['dst'], 'tickets', 'ticket_0'),
                    other, dirs_exist_ok=True)
    probs, labels = bt.predictions(other)
    np.savez(os.path.join(other, 'predictions.npz'), probs=probs[:5],
             labels=labels[:5])
    result = bt.run('baselines.analysis.diversity', [
        f'--tickets={self.dirs["dst"]}/tickets/ticket_1,{other}',
        f'--output_dir={self.root}/d2'], mock=False)
    self.assertNotEqual(result.returncode, 0)
    self.assertIn(f'{other}: its predictions are of another test set',
                  result.stderr)
    wider = os.path.join(self.root, 'wider')
    shutil.copytree(os.path.join(self.dirs['dst'], 'tickets', 'ticket_0'),
                    wider, dirs_exist_ok=True)
    info = bt.load_json(os.path.join(wider, 'ticket.json'))
    info['model']['width_multiplier'] = 2
    with open(os.path.join(wider, 'ticket.json'), 'w') as f:
      json.dump(info, f)
    result = bt.run('baselines.analysis.diversity', [
        f'--tickets={self.dirs["dst"]}/tickets/ticket_1,{wider}',
        f'--output_dir={self.root}/d3'], mock=False)
    self.assertNotEqual(result.returncode, 0)
    self.assertIn(f'{wider}: another network than', result.stderr)
    self.assertIn('width_multiplier 1 vs 2', result.stderr)


if __name__ == '__main__':
  tf.test.main()
