r"""Bytes of a compact ticket ensemble beside one dense checkpoint.

Builds M WRN-28-10 tickets with random ERK masks at sparsity S (untrained:
only sizes matter), saves them as tickets (`sparse_layers.tickets`), exports
them with `sparse_layers.export` in float32 and in bfloat16, and writes one
dense WRN-28-10 checkpoint (`tf.train.Checkpoint(model=...)`, the model's
weights only). Prints each size and its ratio to the dense checkpoint.

  python -m benchmarks.export_size --work_dir=/tmp/export_size \
      [--ensemble_size=3 --sparsity=0.8 --depth=28 --width=10]
"""

import json
import os
import shutil

from absl import app
from absl import flags
import tensorflow as tf

from sparse_layers import export as export_lib
from sparse_layers import layers as masked
from sparse_layers import models
from sparse_layers import sparse_init
from sparse_layers import tickets

flags.DEFINE_string('work_dir', '/tmp/export_size', 'Scratch directory '
                    '(replaced).')
flags.DEFINE_integer('ensemble_size', 3, 'M tickets.')
flags.DEFINE_float('sparsity', 0.8, 'S of every ticket (ERK).')
flags.DEFINE_integer('depth', 28, 'WRN depth.')
flags.DEFINE_integer('width', 10, 'WRN width multiplier.')
flags.DEFINE_integer('num_classes', 10, 'Classifier outputs.')
FLAGS = flags.FLAGS


def _wrn(masked_layers):
  return models.wide_resnet((32, 32, 3), depth=FLAGS.depth,
                            width_multiplier=FLAGS.width,
                            num_classes=FLAGS.num_classes,
                            masked=masked_layers)


def main(argv):
  del argv
  if tf.io.gfile.exists(FLAGS.work_dir):
    shutil.rmtree(FLAGS.work_dir)
  dense = _wrn(False)
  dense_dir = os.path.join(FLAGS.work_dir, 'dense')
  tf.train.Checkpoint(model=dense).write(os.path.join(dense_dir, 'model'))
  dense_bytes = export_lib.directory_bytes(dense_dir)
  paths, nonzeros = [], 0
  for index in range(FLAGS.ensemble_size):
    model = _wrn(True)
    sparse_init.sparsify(model, FLAGS.sparsity, 'erk', seed=index)
    nonzeros += sum(int(l.mask.numpy().sum())
                    for l in masked.masked_layers(model))
    paths.append(os.path.join(FLAGS.work_dir, 'tickets', f'ticket_{index}'))
    tickets.save(paths[-1], model, {'index': index})
    del model
  rows = {'dense checkpoint (1 model)': dense_bytes}
  for dtype in export_lib.DTYPES:
    result = export_lib.export(
        paths, os.path.join(FLAGS.work_dir, f'export_{dtype}'), dtype)
    rows[f'tickets as checkpoints ({FLAGS.ensemble_size}, weights + masks)'] = (
        result['ticket_bytes'])
    rows[f'compact ensemble.npz, {dtype}'] = result['compact_bytes']
    rows[f'SavedModel (serving), {dtype}-exported'] = (
        result['saved_model_bytes'])
  print(f'WRN-{FLAGS.depth}-{FLAGS.width}, {dense.count_params():,} '
        f'parameters; {FLAGS.ensemble_size} tickets at S = {FLAGS.sparsity} '
        f'(ERK), {nonzeros:,} non-zero kernel weights in all')
  print(f'{"file":<50} {"bytes":>14} {"x dense":>8}')
  for name, size in rows.items():
    print(f'{name:<50} {size:>14,} {size / dense_bytes:>8.3f}')
  print(json.dumps({name: size for name, size in rows.items()}))


if __name__ == '__main__':
  app.run(main)
