"""The bad-input cases of test_bad_input.py, all in one process.

  python -m tests.baselines.bad_input_run DIRECTORY

Writes the fixtures (npz files, a blocking file) into DIRECTORY, runs
every case's binary in this process (`in_process`: absl's flag errors and
the binaries' own messages as a user would read them) and prints one JSON
line after `RESULT `: per case the exit code, the message, a traceback (if
any) and whether its output directory was created.
"""

import json
import os
import sys

# Keras 2 is chosen before TensorFlow loads, as the binaries do.
from sparse_layers import keras_alias  # pylint: disable=unused-import,g-bad-import-order
import numpy as np  # pylint: disable=g-bad-import-order
import tensorflow_datasets as tfds

from tests.baselines import binary_testing as bt
from tests.baselines import in_process


def write_fixtures(directory):
  """The npz files and the file that blocks an output directory."""
  rng = np.random.default_rng(0)
  arrays = {
      'float': (rng.random((8, 32, 32, 3)).astype(np.float32),
                np.zeros(8, int)),
      'shape': (np.zeros((8, 28, 28, 3), np.uint8), np.zeros(8, int)),
      'ok': (np.zeros((8, 32, 32, 3), np.uint8), np.zeros(8, int)),
      'labels': (np.zeros((8, 32, 32, 3), np.uint8), np.full(8, 12)),
  }
  for name, (x, y) in arrays.items():
    np.savez(os.path.join(directory, f'{name}.npz'), x=x, y=y)
  np.savez(os.path.join(directory, 'nolabels.npz'),
           x=np.zeros((8, 32, 32, 3), np.uint8))
  np.savez(os.path.join(directory, 'no_examples.npz'),
           x=np.zeros((0, 32, 32, 3), np.uint8), y=np.zeros(0, int))
  with open(os.path.join(directory, 'ok.npz'), 'rb') as f:
    payload = f.read()
  with open(os.path.join(directory, 'truncated.npz'), 'wb') as f:
    f.write(payload[:len(payload) // 2])
  os.makedirs(os.path.join(directory, 'empty'), exist_ok=True)
  with open(os.path.join(directory, 'a_file'), 'w') as f:
    f.write('not a directory')


def cases(directory):
  """name: (binary, extra flags, text the message must hold, mock data)."""
  empty = os.path.join(directory, 'empty')
  blocker = os.path.join(directory, 'a_file')
  ok_npz = [f'--train_npz={directory}/ok.npz',
            f'--test_npz={directory}/ok.npz']
  return {
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
                                f'--output_dir={blocker}/out is not writable',
                                True),
      'npz_dtype': ('deterministic', [f'--train_npz={directory}/float.npz',
                                      f'--test_npz={directory}/ok.npz'],
                    'float.npz: x must be uint8', False),
      'npz_shape': ('deterministic', [f'--train_npz={directory}/ok.npz',
                                      f'--test_npz={directory}/shape.npz'],
                    'shape.npz: x must be uint8 [N, 32, 32, 3], got uint8 '
                    '[8, 28, 28, 3]', False),
      'npz_label_range': (
          'deterministic', [f'--train_npz={directory}/labels.npz',
                            f'--test_npz={directory}/ok.npz'],
          'labels.npz: labels must be in [0, 10), got [12, 12]', False),
      'npz_missing_key': (
          'deterministic', [f'--train_npz={directory}/ok.npz',
                            f'--test_npz={directory}/nolabels.npz'],
          'nolabels.npz: needs arrays "x" and "y"', False),
      'npz_without_test': (
          'deterministic', [f'--train_npz={directory}/ok.npz'],
          '--train_npz and --test_npz go together', False),
      'npz_no_examples': (
          'deterministic', [f'--train_npz={directory}/ok.npz',
                            f'--test_npz={directory}/no_examples.npz'],
          'no_examples.npz: has no examples', False),
      'npz_truncated': (
          'deterministic', [f'--train_npz={directory}/truncated.npz',
                            f'--test_npz={directory}/ok.npz'],
          'truncated.npz: not a readable npz file', False),
      'train_smaller_than_batch': (
          'dst_ensemble', ok_npz, 'the training split (train_npz, 8 '
          'examples) is smaller than one global batch (32)', False),
      'empty_output_dir': ('edst', [], '--output_dir must name a directory',
                           True),
      'ood_npz_format': ('deterministic', ok_npz + ['--eval_on_ood',
                                                    '--ood_npz=svhn.npz'],
                         '--ood_npz entries must be name=path.npz', False),
      'missing_data_dir': ('dst_ensemble', [f'--data_dir={empty}'],
                           '--download_data', False),
      'checkpoint_interval_zero': ('edst', ['--checkpoint_interval=0'],
                                   '--checkpoint_interval must be -1 (never) '
                                   'or >= 1', True),
      'ensemble_without_members': (
          'ensemble', [], '--checkpoint_dirs needs at least one member',
          True),
  }


def output_dir(directory, name):
  """The case's --output_dir (inside the blocking file for that case)."""
  if name == 'unwritable_output_dir':
    return os.path.join(directory, 'a_file', 'out')
  if name == 'empty_output_dir':  # --output_dir=$UNSET.
    return ''

  return os.path.join(directory, name)


def main(directory):
  write_fixtures(directory)
  results = {}
  for name, (binary, extra, _, mock) in cases(directory).items():
    out = output_dir(directory, name)
    module = f'baselines.cifar.{binary}'
    context = ((lambda: tfds.testing.mock_data(num_examples=64)) if mock
               else None)
    code, message, trace = in_process.outcome(
        module, [module] + bt.TINY_FLAGS + extra + [f'--output_dir={out}'],
        **({'context': context} if context else {}))
    results[name] = {'code': code, 'message': message, 'traceback': trace,
                     'created': os.path.exists(out)}
  print('RESULT ' + json.dumps(results))


if __name__ == '__main__':
  main(sys.argv[1])
