r"""FGSM robustness of a ticket ensemble (paper App. G, Table 8).

Adversarial examples are crafted with FGSM (step --epsilon grey levels,
8 / 255 in the paper, in pixel space) against each ticket in turn; the
ensemble's robust accuracy on each source's examples, their min / mean /
max, and each ticket's accuracy on its own examples are reported. Tickets
are rebuilt from their ticket.json; the test set is that of their dataset
(TFDS, or --test_npz).

  python baselines/analysis/adversarial.py --run_dir=/tmp/edst \
      --output_dir=/tmp/edst_fgsm

Writes output_dir/adversarial.json and adversarial.md.
"""

import json
import os
import sys

from absl import app
from absl import flags
import numpy as np

from baselines.artifacts import ticket_store
from baselines.data import cifar
from baselines.data import pipeline
from baselines.evaluation import attacks
from baselines.runtime import files

flags.DEFINE_list('tickets', [], 'Ticket directories.')
flags.DEFINE_string('run_dir', None, 'A run directory: all its tickets.')
flags.DEFINE_float('epsilon', 8.0, 'FGSM step in grey levels (x / 255).')
flags.DEFINE_string('data_dir', None, 'TFDS data directory.')
flags.DEFINE_string('test_npz', None, 'Offline test set (x uint8, y int).')
flags.DEFINE_integer('test_examples', None,
                     'Use only the first N test examples.')
flags.DEFINE_string('output_dir', None, 'Where the results go.')
flags.mark_flag_as_required('output_dir')
flags.register_validator('epsilon', lambda v: 0 <= v <= 255,
                         '--epsilon must be in [0, 255] grey levels.')
FLAGS = flags.FLAGS


def test_arrays(dataset, num_classes):
  """(uint8 images, labels) of the test set: --test_npz or TFDS."""
  if FLAGS.test_npz:
    split = cifar.load_npz(FLAGS.test_npz, num_classes, 'test_npz')
  else:
    split = pipeline.load_tfds(dataset, 'test', FLAGS.data_dir)
  split = pipeline.take(split, FLAGS.test_examples)
  images, labels = zip(*split.dataset.as_numpy_iterator())
  return np.stack(images), np.asarray(labels)


def markdown(names, result):
  lines = ['| source of the attack | ' + ' | '.join(names) + ' | ensemble |',
           '|' + ' --- |' * (len(names) + 2)]
  for name, row in zip(names, result['matrix']):
    lines.append(f'| {name} | ' + ' | '.join(f'{v:.4f}' for v in row) + ' |')
  e = result['ensemble']
  lines += ['', f'Ensemble robust accuracy over sources: min {e["min"]:.4f}, '
                f'mean {e["mean"]:.4f}, max {e["max"]:.4f} (clean '
                f'{result["clean"]["ensemble"]:.4f}).',
            'Each ticket on its own adversarial examples: ' + ', '.join(
                f'{n} {v:.4f}' for n, v in zip(names, result['single']))]
  return '\n'.join(lines)


def main(argv):
  del argv
  paths = list(FLAGS.tickets)
  if FLAGS.run_dir:
    paths += ticket_store.run_tickets(FLAGS.run_dir)
  if not paths:
    sys.exit('error: no tickets (--tickets or --run_dir).')
  try:
    specs = ticket_store.ensemble_specs(paths)
    missing = [p for p in paths if p not in specs]
    if missing:
      raise ValueError(f'not complete tickets (no ticket.json): {missing}')
    spec = specs[paths[0]]
    images, labels = test_arrays(spec.dataset, spec.num_classes)
    models = [ticket_store.load_model(p) for p in paths]
  except (ValueError, OSError) as e:
    sys.exit(f'error: {e}')
  result = attacks.robustness(models, images, labels, FLAGS.epsilon / 255.0,
                              cifar.preprocessing(spec.dataset,
                                                  spec.preprocessing))
  result.update(tickets=paths, epsilon=FLAGS.epsilon / 255.0,
                num_examples=int(len(labels)))
  names = [os.path.basename(p) for p in paths]
  files.write_text(os.path.join(FLAGS.output_dir, 'adversarial.json'),
                   json.dumps(result, indent=1))
  table = markdown(names, result)
  files.write_text(os.path.join(FLAGS.output_dir, 'adversarial.md'),
                   table + '\n')
  print(table)


if __name__ == '__main__':
  app.run(main)
