"""Bad flags and data: a clear message and a non-zero exit before training."""

import concurrent.futures
import os
import tempfile

from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tests.baselines.cifar import binary_testing as bt

_DIR = tempfile.mkdtemp()
_RNG = np.random.default_rng(0)
np.savez(os.path.join(_DIR, 'float.npz'),
         x=_RNG.random((8, 32, 32, 3)).astype(np.float32), y=np.zeros(8, int))
np.savez(os.path.join(_DIR, 'shape.npz'),
         x=np.zeros((8, 28, 28, 3), np.uint8), y=np.zeros(8, int))
np.savez(os.path.join(_DIR, 'ok.npz'),
         x=np.zeros((8, 32, 32, 3), np.uint8), y=np.zeros(8, int))
np.savez(os.path.join(_DIR, 'labels.npz'),
         x=np.zeros((8, 32, 32, 3), np.uint8), y=np.full(8, 12))
np.savez(os.path.join(_DIR, 'nolabels.npz'),
         x=np.zeros((8, 32, 32, 3), np.uint8))
EMPTY = tempfile.mkdtemp()
BLOCKER = os.path.join(_DIR, 'a_file')
with open(BLOCKER, 'w') as _f:
  _f.write('not a directory')
OK_NPZ = [f'--train_npz={_DIR}/ok.npz', f'--test_npz={_DIR}/ok.npz']

# name: (binary, extra flags, text the message must hold, use mock data).
CASES = {
    # Datasets and names.
    'unknown_dataset': ('edst', ['--dataset=mnist'], '--dataset', True),
    'unknown_distribution': ('edst', ['--distribution=erdos'],
                             '--distribution', True),
    'unknown_growth': ('dst_ensemble', ['--growth=momentum'], '--growth',
                       True),
    'unknown_schedule': ('edst', ['--drop_fraction_schedule=linear'],
                         '--drop_fraction_schedule', True),
    'bad_first_layer': ('edst', ['--first_layer=sparse'],
                        "--first_layer must be 'include', 'dense' or a "
                        'sparsity', True),
    # Sparsities and fractions.
    'sparsity_too_high': ('edst', ['--sparsity=1.2'],
                          '--sparsity must be in [0, 1)', True),
    'sparsity_one': ('ltr_ensemble', ['--sparsity=1.0'],
                     '--sparsity must be in [0, 1)', True),
    'sparsity_negative': ('dst_ensemble', ['--sparsity=-0.1'],
                          '--sparsity must be in [0, 1)', True),
    'drop_fraction': ('edst', ['--drop_fraction=1.5'],
                      '--drop_fraction must be in [0, 1]', True),
    'reexploration_fraction': ('edst', ['--reexploration_fraction=-0.2'],
                               '--reexploration_fraction must be in [0, 1]',
                               True),
    'erk_power_scale': ('static_sparse', ['--erk_power_scale=-1'],
                        '--erk_power_scale must be >= 0', True),
    'ltr_prune_window': ('ltr_ensemble', ['--ltr_prune_begin=0.8',
                                          '--ltr_prune_end=0.5'],
                         'need 0 <= --ltr_prune_begin < --ltr_prune_end',
                         True),
    'one_minus_momentum': ('deterministic', ['--one_minus_momentum=1.5'],
                           '--one_minus_momentum must be in [0, 1]', True),
    'dropout_rate': ('deterministic', ['--dropout_rate=1.0'],
                     '--dropout_rate must be in [0, 1)', True),
    'inactive_gradient': ('dst_ensemble', ['--inactive_gradient=momentum'],
                          '--inactive_gradient', True),
    'best_validation_without_split': (
        'edst', ['--ticket_selection=best_validation'],
        '--ticket_selection=best_validation needs a validation split: '
        '--train_proportion < 1', True),
    # Intervals, sizes and epochs.
    'update_interval': ('edst', ['--update_interval=0'],
                        '--update_interval (ΔT) must be >= 1', True),
    'corruptions_interval': ('edst', ['--corruptions_interval=0'],
                             '--corruptions_interval must be -1 (never) or '
                             '>= 1', True),
    'exploration_epochs': ('edst', ['--exploration_epochs=-1'],
                           '--exploration_epochs must be >= 0', True),
    'refinement_epochs': ('edst', ['--refinement_epochs=0'],
                          '--refinement_epochs must be >= 1', True),
    'train_epochs': ('dst_ensemble', ['--train_epochs=0'],
                     '--train_epochs must be >= 1', True),
    'batch_size': ('deterministic', ['--per_core_batch_size=0'],
                   '--per_core_batch_size must be >= 1', True),
    'depth': ('deterministic', ['--depth=12'], '--depth must be 6n + 4',
              True),
    'ensemble_size_zero': ('edst', ['--ensemble_size=0'],
                           '--ensemble_size (M) must be >= 1', True),
    'member_index': ('dst_ensemble', ['--ensemble_size=2',
                                      '--member_index=5'],
                     '--member_index must be in [0, 2), got 5', True),
    'num_cores': ('deterministic', ['--num_cores=4'],
                  '--num_cores=4 but the strategy has 1 replicas', True),
    'epochs_mismatch': ('edst', ['--exploration_epochs=2',
                                 '--refinement_epochs=3', '--ensemble_size=2',
                                 '--train_epochs=10'],
                        '--train_epochs=10 must equal --exploration_epochs + '
                        '--ensemble_size * --refinement_epochs = 2 + 2 * 3 = '
                        '8', True),
    'edst_lr_decays': ('edst', ['--lr_decay_epochs=60,120',
                                '--lr_decay_ratio=0.2'],
                       '--lr_decay_epochs and --lr_decay_ratio: EDST does '
                       'not use LR decays', True),
    'corrupted_cifar100': ('edst', ['--dataset=cifar100',
                                    '--corruptions_interval=1'],
                           'needs --cifar100_c_path', True),
    # Files and directories.
    'unwritable_output_dir': ('deterministic', [],
                              f'--output_dir={BLOCKER}/out is not writable',
                              True),
    'npz_dtype': ('deterministic', [f'--train_npz={_DIR}/float.npz',
                                    f'--test_npz={_DIR}/ok.npz'],
                  'float.npz: x must be uint8', False),
    'npz_shape': ('deterministic', [f'--train_npz={_DIR}/ok.npz',
                                    f'--test_npz={_DIR}/shape.npz'],
                  'shape.npz: x must be uint8 [N, 32, 32, 3], got uint8 '
                  '[8, 28, 28, 3]', False),
    'npz_label_range': ('deterministic', [f'--train_npz={_DIR}/labels.npz',
                                          f'--test_npz={_DIR}/ok.npz'],
                        'labels.npz: labels must be in [0, 10), got [12, 12]',
                        False),
    'npz_missing_key': ('deterministic', [f'--train_npz={_DIR}/ok.npz',
                                          f'--test_npz={_DIR}/nolabels.npz'],
                        'nolabels.npz: needs arrays "x" and "y"', False),
    'npz_without_test': ('deterministic', [f'--train_npz={_DIR}/ok.npz'],
                         '--train_npz and --test_npz go together', False),
    'ood_npz_format': ('deterministic', OK_NPZ + ['--eval_on_ood',
                                                  '--ood_npz=svhn.npz'],
                       '--ood_npz entries must be name=path.npz', False),
    'missing_data_dir': ('dst_ensemble', [f'--data_dir={EMPTY}'],
                         '--download_data', False),
    'checkpoint_interval_zero': ('edst', ['--checkpoint_interval=0'],
                                 '--checkpoint_interval must be -1 (never) '
                                 'or >= 1', True),
    'ensemble_without_members': ('ensemble', [],
                                 '--checkpoint_dirs needs at least one member',
                                 True),
}


def _run_case(name):
  binary, extra, _, mock = CASES[name]
  out = (f'{BLOCKER}/out' if name == 'unwritable_output_dir' else
         os.path.join(_DIR, name))
  return name, out, bt.run(f'baselines.cifar.{binary}',
                           bt.TINY_FLAGS + extra + [f'--output_dir={out}'],
                           num_examples=16, mock=mock)


class BadInputTest(tf.test.TestCase, parameterized.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
      cls.results = {name: (out, result) for name, out, result in
                     pool.map(_run_case, CASES)}

  @parameterized.named_parameters((name, name) for name in CASES)
  def test_clear_error_before_training(self, name):
    out, result = self.results[name]
    message = CASES[name][2]
    self.assertNotEqual(result.returncode, 0, result.stderr[-2000:])
    self.assertIn(message, result.stderr)
    self.assertNotIn('Traceback', result.stderr)
    self.assertFalse(os.path.exists(out))  # Nothing written, not even it.
    self.assertNotRegex(result.stderr, r'\] epoch \d+/')


class HelpTest(tf.test.TestCase):

  def test_help_lists_the_binary_flags_with_paper_symbols(self):
    # absl exits 1 after --help.
    result = bt.run('baselines.cifar.edst', ['--help'], mock=False)
    for line in ('--sparsity: Overall sparsity S', '--ensemble_size: M:',
                 '--exploration_epochs: t_ex:', '--refinement_epochs: t_re:',
                 '--reexploration_fraction: q:', '--update_interval: ΔT:',
                 '--drop_fraction: p:', '--base_learning_rate:',
                 '--checkpoint_interval:', '--corruptions_interval:'):
      self.assertIn(line, result.stdout)


if __name__ == '__main__':
  tf.test.main()
