"""Runs binaries and tools in one process with every file on ram://.

  python -m tests.baselines.runtime.cloud_storage_run

TF's in-memory filesystem (`ram://`) stands in for gs://: `tf.io.gfile`
works on it, plain file calls do not, and like an object store it has no
directories to rename (nor, unlike gs://, to list). It lives in the
process, so every step runs here: learnable npz data written to ram://,
a tiny EDST (bfloat16, loops of 4 steps; trajectory points), a DST
ensemble, ensemble.py on the EDST tickets, `python -m
baselines.analysis.report`, the diversity tool and the compact export, all reading and writing
ram:// only. Prints one JSON line (after `RESULT `) with what the test
checks: the files found there, the EDST's accuracy and its tickets'
per-layer counts, and whether anything appeared in the working directory.
"""

import json
import os
import sys

# Keras 2 is chosen before TensorFlow loads, as the binaries do.
from sparse_layers import keras_alias  # pylint: disable=unused-import,g-bad-import-order
import numpy as np  # pylint: disable=g-bad-import-order
import tensorflow as tf

from baselines.runtime import files
from sparse_layers import distributions
from sparse_layers import tickets as ticket_files
from tests.baselines import binary_testing as bt
from tests.baselines import in_process

ROOT = 'ram://freetickets'
TINY = ['--depth=10', '--width_multiplier=1', '--per_core_batch_size=32',
        '--update_interval=1', '--checkpoint_interval=1']


def ticket_counts(ticket_dir):
  """{kernel shape: (mask non-zeros, kernel non-zeros where the mask is 1,
  kernel non-zeros where it is 0)} of a ticket's checkpoint."""
  # A prefix, read directly: ram:// takes any prefix of a file for a
  # directory, which tf.train.load_checkpoint would then search.
  reader = tf.compat.v1.train.NewCheckpointReader(f'{ticket_dir}/model')
  names = reader.get_variable_to_shape_map()
  counts = []
  for name in sorted(names):
    if name.endswith('/mask/.ATTRIBUTES/VARIABLE_VALUE'):
      mask = reader.get_tensor(name)
      kernel = reader.get_tensor(name.replace('/mask/', '/kernel/'))
      counts.append((list(mask.shape), int(mask.sum()),
                     int(np.count_nonzero(kernel[mask == 0])),
                     str(kernel.dtype)))
  return counts


def expected_counts(sparsity=0.8):
  """Per-layer non-zeros a WRN-10-1 (CIFAR) gets at `sparsity` with ERK."""
  from sparse_layers import layers  # pylint: disable=g-import-not-at-top
  from sparse_layers import models  # pylint: disable=g-import-not-at-top
  model = models.wide_resnet((32, 32, 3), 10, 1, 10)
  shapes = {l.name: l.kernel.shape.as_list()
            for l in layers.masked_layers(model)}
  counts = distributions.nonzero_counts(
      shapes, distributions.layer_densities(shapes, sparsity), sparsity)
  return sorted((shapes[name], count) for name, count in counts.items())


def main():
  cwd_before = sorted(os.listdir('.'))
  train, test = bt.write_learnable_npz(f'{ROOT}/data', 320, 200,
                                       save=files.write_npz)
  data_flags = [f'--train_npz={train}', f'--test_npz={test}']
  edst, dst = f'{ROOT}/runs/edst', f'{ROOT}/runs/dst'
  run = in_process.run_binary
  run('baselines.cifar.edst', ['edst'] + TINY + data_flags + [
      '--ensemble_size=2', '--exploration_epochs=1', '--refinement_epochs=1',
      '--use_bfloat16', '--steps_per_loop=4',
      '--trajectory_interval=2', f'--output_dir={edst}'])
  run('baselines.cifar.dst_ensemble', ['dst'] + TINY + data_flags + [
      '--ensemble_size=2', '--train_epochs=1', f'--output_dir={dst}'])
  tickets = [f'{edst}/tickets/ticket_{j}' for j in range(2)]
  run('baselines.cifar.ensemble', ['ensemble'] + [
      f'--test_npz={test}', f'--checkpoint_dirs={",".join(tickets)}',
      f'--output_dir={ROOT}/runs/ensemble'])
  run('baselines.analysis.report', ['report', edst, dst,
                           f'--json={ROOT}/reports/table.json',
                           f'--csv={ROOT}/reports/table.csv'],
      define=lambda m: m.define_flags())
  run('baselines.analysis.diversity', [
      'diversity', f'--run_dirs={edst},{dst}',
      f'--output_dir={ROOT}/reports/diversity'])
  run('sparse_layers.export', ['export'] + tickets + [
      f'--output={ROOT}/exports/edst'], define=lambda m: m.define_flags(),
      main=lambda argv: sys.modules['sparse_layers.export'].main(
          argv, in_process.FLAGS))
  found = sorted(path[len(ROOT) + 1:]
                 for path in ticket_files.files_under(ROOT))
  metrics = files.read_json(f'{edst}/metrics.json')
  result = {
      'found': found,
      'edst_accuracy': metrics['metrics']['test/accuracy'],
      'ensemble_accuracy': files.read_json(
          f'{ROOT}/runs/ensemble/metrics.json')['metrics']['test/accuracy'],
      'report_rows': len(files.read_json(
          f'{ROOT}/reports/table.json')['cifar10']),
      'ticket_counts': [ticket_counts(t) for t in tickets],
      'expected_counts': expected_counts(),
      'effective': files.read_json(f'{edst}/run.json')['effective'],
      'cwd_unchanged': sorted(os.listdir('.')) == cwd_before,
  }
  print('RESULT ' + json.dumps(result))


if __name__ == '__main__':
  main()
