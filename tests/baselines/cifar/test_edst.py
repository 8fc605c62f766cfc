"""End-to-end tests of baselines/cifar/edst.py under mock TFDS data."""

import json
import os
import re
import shutil
import signal
import tempfile

import numpy as np
import tensorflow as tf

from tests.baselines import binary_testing as bt
from tests.baselines import reference_metrics as ref

M, T_EX, T_RE, Q = 2, 1, 2, 0.8
ARGS = bt.SPARSE_FLAGS + [
    f'--ensemble_size={M}', f'--exploration_epochs={T_EX}',
    f'--refinement_epochs={T_RE}', f'--reexploration_fraction={Q}',
    '--sparsity=0.8', '--eval_on_ood', '--dense_epochs=250']


def _snapshot(directory):
  """{relative path: (size, mtime)} of every file under `directory`."""
  found = {}
  for root, _, names in os.walk(directory):
    for name in names:
      path = os.path.join(root, name)
      stat = os.stat(path)
      found[os.path.relpath(path, directory)] = (stat.st_size,
                                                 stat.st_mtime_ns)
  return found


class EdstTest(tf.test.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.out = tempfile.mkdtemp()
    cls.result = bt.check(bt.run('baselines.cifar.edst',
                                 ARGS + [f'--output_dir={cls.out}']))
    cls.metrics = bt.load_json(os.path.join(cls.out, 'metrics.json'))
    cls.tickets = [os.path.join(cls.out, 'tickets', f'ticket_{j}')
                   for j in range(M)]

  def test_one_ticket_per_refinement_at_target_sparsity(self):
    self.assertEqual(sorted(os.listdir(os.path.join(self.out, 'tickets'))),
                     [f'ticket_{j}' for j in range(M)])
    for path in self.tickets:
      masks = bt.checkpoint_arrays(path, 'mask')
      kernels = bt.checkpoint_arrays(path, 'kernel')
      self.assertLen(masks, 10)  # WRN-10-1: 9 convs + classifier.
      total = sum(m.size for m in masks.values())
      active = sum(int(m.sum()) for m in masks.values())
      self.assertLessEqual(abs(active - 0.2 * total), 1)
      for name, mask in masks.items():
        kernel = kernels[name.replace('/mask/', '/kernel/')]
        self.assertEqual(np.count_nonzero(kernel[mask == 0]), 0)
      info = bt.load_json(os.path.join(path, 'ticket.json'))
      self.assertAllClose(info['sparsity'], 1 - active / total)

  def test_ensemble_metrics_equal_numpy_from_saved_predictions(self):
    probs = [bt.predictions(p)[0].astype(np.float64) for p in self.tickets]
    labels = bt.predictions(self.tickets[0])[1]
    got = self.metrics['metrics']
    mean = np.mean(probs, 0)
    self.assertAllClose(got['test/negative_log_likelihood'],
                        ref.ensemble_nll(probs, labels), rtol=1e-5)
    self.assertAllClose(got['test/accuracy'], ref.accuracy(mean, labels))
    self.assertAllClose(got['test/ece'], ref.ece(mean, labels), atol=1e-6)
    disagreement, kl = ref.disagreement_and_kl(probs)
    self.assertAllClose(got['test/diversity/disagreement'], disagreement)
    self.assertAllClose(got['test/diversity/average_kl'], kl, rtol=1e-4)
    self.assertAllClose(got['test/gibbs_cross_entropy'],
                        np.mean([ref.nll(p, labels) for p in probs]),
                        rtol=1e-5)
    for j, p in enumerate(probs):
      self.assertAllClose(got[f'test/nll_member_{j}'], ref.nll(p, labels),
                          rtol=1e-5)
      self.assertAllClose(got[f'test/accuracy_member_{j}'],
                          ref.accuracy(p, labels))

  def test_summaries_hold_ub_keys(self):
    epochs = T_EX + M * T_RE
    per_epoch = bt.scalars(os.path.join(self.out, 'summaries'))
    for key in ('train/negative_log_likelihood', 'train/accuracy',
                'train/loss', 'train/ece', 'test/negative_log_likelihood',
                'test/accuracy', 'test/ece', 'train/ms_per_example',
                'test/ms_per_example'):
      self.assertEqual(sorted(per_epoch[key]), list(range(1, epochs + 1)),
                       key)
    # HParams linked to the per-epoch curves.
    session = bt.hparams_session(os.path.join(self.out, 'summaries'))
    self.assertEqual((session['method'], session['ensemble_size']),
                     ('edst', M))
    # Each layer's sparsity after every mask update (ΔT = 1 at a batch of
    # 128: every 4 steps of 32), at the optimizer step.
    layers = {k: v for k, v in per_epoch.items() if k.startswith('sparsity/')}
    self.assertLen(layers, 10)  # WRN-10-1: 9 convs + classifier.
    interval, steps = 128 // bt.BATCH, epochs * bt.NUM_EXAMPLES // bt.BATCH
    for values in layers.values():
      self.assertEqual(sorted(values), list(range(interval, steps + 1,
                                                  interval)))
    ticket = bt.checkpoint_arrays(self.tickets[-1], 'mask').values()
    self.assertAllClose(sorted(v[interval] for v in layers.values()),
                        sorted(1 - m.mean() for m in ticket), atol=1e-6)
    final = bt.scalars(os.path.join(self.out, 'summaries', 'ensemble'))
    for key in ['test/negative_log_likelihood', 'test/accuracy', 'test/ece',
                'test/gibbs_cross_entropy', 'test/diversity/disagreement',
                'test/diversity/average_kl',
                'test/diversity/cosine_similarity', 'ood/cifar100_auroc',
                'ood/svhn_cropped_auprc', 'ood/svhn_cropped_(1-fpr)@95tpr',
                'flops/train_flops_ratio'] + [
                    f'test/{m}_member_{j}' for m in ('nll', 'accuracy')
                    for j in range(M)]:
      self.assertIn(key, final)
      self.assertAllClose(final[key][epochs],
                          self.metrics['metrics'].get(
                              key, self.metrics['flops'].get(
                                  key.replace('flops/', ''))), rtol=1e-5)

  def test_metrics_json_values_in_range(self):
    m = self.metrics['metrics']
    for key, value in m.items():
      if re.search(r'accuracy|ece|auroc|auprc|fpr|disagreement', key):
        self.assertBetween(value, 0.0, 1.0, key)
      if 'nll' in key or 'negative_log_likelihood' in key:
        self.assertGreater(value, 0.0, key)
    flops = self.metrics['flops']
    self.assertAllClose(flops['flops_ratio'],
                        flops['sparse_flops'] / flops['dense_flops'])
    self.assertEqual(flops['forward_passes'], 1)
    self.assertBetween(flops['train_flops_ratio'], 0.0,
                       (T_EX + M * T_RE) / 250)
    self.assertLen(self.metrics['tickets'], M)
    self.assertEqual(self.metrics['flags']['ensemble_size'], 2)

  def test_lr_and_phase_sequence(self):
    epochs = [h for h in self.metrics['history'] if 'train/learning_rate' in h]
    base = 0.1 * bt.BATCH / 128
    expected = [('exploration', base)]
    for j in range(M):
      expected += [(f'refinement_{j}', base * 0.1),
                   (f'refinement_{j}', base * 0.01)]
    self.assertEqual([h['phase'] for h in epochs], [p for p, _ in expected])
    self.assertAllClose([h['train/learning_rate'] for h in epochs],
                        [lr for _, lr in expected])

  def test_reexploration_restarts_q_of_the_active_weights(self):
    events = [h for h in self.metrics['history']
              if 'reexploration_reset' in h]
    self.assertLen(events, M - 1)  # None after the last ticket.
    for event in events:
      # floor(q n_l) per layer: q of all active weights, dense layers
      # included, up to one weight per layer (10 layers).
      active = event['reexploration_active']
      self.assertBetween(event['reexploration_reset'], Q * active - 10,
                         Q * active)
    self.assertIn('re-exploration after refinement_0', self.result.stderr)

  def test_another_run_in_the_directory_is_refused_naming_flags(self):
    before = _snapshot(self.out)
    dst = bt.run('baselines.cifar.dst_ensemble', bt.SPARSE_FLAGS + [
        '--ensemble_size=2', f'--output_dir={self.out}'])
    self.assertNotEqual(dst.returncode, 0)
    self.assertIn("method: 'edst' in the directory, 'dst_ensemble' now",
                  dst.stderr)
    args = [a if a != '--sparsity=0.8' else '--sparsity=0.9' for a in ARGS]
    edst = bt.run('baselines.cifar.edst', args + [f'--output_dir={self.out}'])
    self.assertNotEqual(edst.returncode, 0)
    self.assertIn('--sparsity: 0.8 in the directory, 0.9 now', edst.stderr)
    self.assertNotIn('Traceback', edst.stderr)
    self.assertEqual(_snapshot(self.out), before)  # Nothing overwritten.

  def test_ensemble_binary_rebuilds_moved_tickets_without_model_flags(self):
    moved = tempfile.mkdtemp()
    shutil.copytree(os.path.join(self.out, 'tickets'),
                    os.path.join(moved, 'tickets'))
    paths = [os.path.join(moved, 'tickets', f'ticket_{j}') for j in range(M)]
    info = bt.load_json(os.path.join(paths[0], 'ticket.json'))
    self.assertEqual(info['model']['depth'], 10)
    self.assertEqual(info['model']['dataset'], 'cifar10')
    self.assertEqual(info['method'], 'edst')
    self.assertEqual(info['path'], os.path.join('tickets', 'ticket_0'))
    self.assertEqual(info['run_identity']['flags']['sparsity'], 0.8)
    out = os.path.join(moved, 'ensemble')
    result = bt.check(bt.run('baselines.cifar.ensemble', [
        f'--checkpoint_dirs={",".join(paths)}', f'--output_dir={out}']))
    self.assertIn('--depth=10 from the tickets', result.stderr)
    got = bt.load_json(os.path.join(out, 'metrics.json'))['metrics']
    for key in ('test/accuracy', 'test/negative_log_likelihood',
                'test/gibbs_cross_entropy', 'test/diversity/disagreement'):
      self.assertAllClose(got[key], self.metrics['metrics'][key], rtol=1e-5,
                          msg=key)

  def test_ensemble_binary_uses_the_tickets_test_set_and_refuses_mixed(self):
    work = tempfile.mkdtemp()
    rng = np.random.default_rng(0)
    test_npz = os.path.join(work, 'test.npz')
    np.savez(test_npz, x=rng.integers(0, 256, (20, 32, 32, 3), np.uint8),
             y=rng.integers(0, 10, 20))
    # The tickets' own (mock TFDS) test set: their ensemble's test metrics
    # are the run's.
    bt.check(bt.run('baselines.cifar.ensemble', [
        f'--checkpoint_dirs={self.tickets[0]},{self.tickets[1]}',
        f'--output_dir={work}/ok']))
    metrics = bt.load_json(os.path.join(work, 'ok', 'metrics.json'))
    run_metrics = bt.load_json(os.path.join(self.out, 'metrics.json'))
    self.assertAllClose(metrics['metrics']['test/accuracy'],
                        run_metrics['metrics']['test/accuracy'])
    self.assertNotIn('train', bt.load_json(os.path.join(work, 'ok',
                                                        'run.json'))['data'])
    # Another test set than the tickets recorded: refused.
    result = bt.run('baselines.cifar.ensemble', [
        f'--checkpoint_dirs={self.tickets[0]},{self.tickets[1]}',
        f'--test_npz={test_npz}', f'--output_dir={work}/other'], mock=False)
    self.assertEqual(result.returncode, 1)
    self.assertIn('was trained and evaluated on other test data',
                  result.stderr)
    self.assertFalse(os.path.exists(os.path.join(work, 'other')))
    other = os.path.join(work, 'cifar100_ticket')
    shutil.copytree(self.tickets[1], other)
    info = bt.load_json(os.path.join(other, 'ticket.json'))
    info['model'].update(dataset='cifar100', num_classes=100)
    with open(os.path.join(other, 'ticket.json'), 'w') as f:
      json.dump(info, f)
    result = bt.run('baselines.cifar.ensemble', [
        f'--checkpoint_dirs={self.tickets[0]},{other}',
        f'--test_npz={test_npz}', f'--output_dir={work}/mixed'], mock=False)
    self.assertNotEqual(result.returncode, 0)
    self.assertIn('the tickets differ in dataset', result.stderr)
    self.assertIn(f'{other}: cifar100', result.stderr)
    self.assertFalse(os.path.exists(os.path.join(work, 'mixed')))

  def test_restart_resumes_from_the_last_checkpoint(self):
    out = tempfile.mkdtemp()
    shutil.copytree(self.out, out, dirs_exist_ok=True)
    # Lose the last ticket and the newest checkpoint, as a crash would.
    shutil.rmtree(os.path.join(out, 'tickets', f'ticket_{M - 1}'))
    os.remove(os.path.join(out, 'metrics.json'))
    ckpt_dir = os.path.join(out, 'run', 'checkpoints')
    latest = tf.train.latest_checkpoint(ckpt_dir)
    for path in tf.io.gfile.glob(latest + '*'):
      os.remove(path)
    state = tf.train.get_checkpoint_state(ckpt_dir)
    previous = state.all_model_checkpoint_paths[-2]
    with open(os.path.join(ckpt_dir, 'checkpoint'), 'w') as f:
      f.write(f'model_checkpoint_path: "{os.path.basename(previous)}"\n')
    resumed_epoch = int(previous.rsplit('-', 1)[1])
    # Only flags that cannot change the result may differ on a restart.
    result = bt.check(bt.run('baselines.cifar.edst', ARGS + [
        f'--output_dir={out}', '--checkpoint_interval=2']))
    self.assertIn(f'at epoch {resumed_epoch}', result.stderr)
    trained = re.findall(r'\] epoch (\d+)/', result.stderr)
    self.assertEqual([int(e) for e in trained],
                     list(range(resumed_epoch + 1, T_EX + M * T_RE + 1)))
    self.assertTrue(os.path.exists(os.path.join(out, 'metrics.json')))


class EdstBestValidationTest(tf.test.TestCase):
  """--ticket_selection=best_validation: the authors' ticket choice."""

  ARGS = [a for a in ARGS if a != '--eval_on_ood'] + [
      '--train_proportion=0.75', '--ticket_selection=best_validation',
      '--deterministic', '--seed=5']

  def _run(self, out, kill_at=None):
    return bt.run('baselines.cifar.edst', self.ARGS + [f'--output_dir={out}'],
                  kill_at=kill_at)

  def test_tickets_are_each_phases_best_validation_epoch_and_resume(self):
    out = tempfile.mkdtemp()
    bt.check(self._run(out))
    metrics = bt.load_json(os.path.join(out, 'metrics.json'))
    epochs = [h for h in metrics['history'] if 'validation/accuracy' in h]
    self.assertLen(epochs, T_EX + M * T_RE)  # validation/* every epoch.
    for j in range(M):
      phase = [h for h in epochs if h['phase'] == f'refinement_{j}']
      accuracies = [h['validation/accuracy'] for h in phase]
      best = phase[int(np.argmax(accuracies))]  # The first best epoch.
      info = bt.load_json(os.path.join(out, 'tickets', f'ticket_{j}',
                                       'ticket.json'))
      self.assertEqual(info['epoch'], best['epoch'])
      self.assertAllClose(info['validation/accuracy'], max(accuracies))
      self.assertAllClose(info['test/accuracy'], best['test/accuracy'])
    self.assertEqual(os.listdir(os.path.join(out, 'run', 'candidates')), [])
    per_epoch = bt.scalars(os.path.join(out, 'summaries'))
    self.assertEqual(sorted(per_epoch['validation/accuracy']),
                     list(range(1, T_EX + M * T_RE + 1)))
    # Killed after a candidate is written, before the checkpoint that names
    # it, and again mid-phase: the same tickets as the uninterrupted run.
    killed = tempfile.mkdtemp()
    for point in ('run:epoch_end:2', 'run:epoch_end:4'):
      self.assertEqual(self._run(killed, point).returncode, -signal.SIGKILL)
    bt.check(self._run(killed))
    reference, got = bt.fingerprint(out), bt.fingerprint(killed)
    self.assertEqual(sorted(got), sorted(reference))
    for key, value in reference.items():
      self.assertAllEqual(got[key], value, msg=key)


if __name__ == '__main__':
  tf.test.main()
