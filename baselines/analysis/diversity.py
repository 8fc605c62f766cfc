r"""Pairwise diversity of tickets or members (paper Figure 2, Table 4).

From the test predictions each ticket saved (no re-evaluation), for
tickets of one network (architecture, depth, width, classes, input shape
and dataset; sparse and dense alike): the
pairwise prediction-disagreement matrix as a heatmap PNG, and the pairwise
disagreement and KL(p_i || p_j) table, with their means over pairs.

  python baselines/analysis/diversity.py \
      --tickets=/tmp/edst/tickets/ticket_0,/tmp/edst/tickets/ticket_1 \
      --output_dir=/tmp/edst_diversity
  python baselines/analysis/diversity.py --run_dirs=/tmp/edst,/tmp/dst ...

Writes output_dir/disagreement.png, diversity.md and diversity.json.
"""

import json
import os
import sys

from absl import app
from absl import flags
import numpy as np

from baselines.analysis import plots
from baselines.artifacts import ticket_store
from baselines.evaluation import metrics
from baselines.runtime import files

flags.DEFINE_list('tickets', [], 'Ticket directories.')
flags.DEFINE_list('run_dirs', [],
                  'Run directories: all their tickets (tickets/ticket_*).')
flags.DEFINE_string('output_dir', None, 'Where the PNG and tables go.')
flags.mark_flag_as_required('output_dir')
FLAGS = flags.FLAGS


class DiversityError(ValueError):
  """Tickets that cannot be compared."""


def ticket_paths(tickets, run_dirs):
  """The ticket directories named, then each run directory's tickets."""
  paths = list(tickets)
  for run_dir in run_dirs:
    found = ticket_store.run_tickets(run_dir)
    if not found:
      raise DiversityError(f'{run_dir}: no tickets under '
                           f'{ticket_store.TICKETS_DIR}/.')
    paths += found
  return paths


def load(paths):
  """(names, [M, N, K] probabilities) of the tickets.

  Raises:
    DiversityError: naming the ticket, if one is incomplete or was
      evaluated on other labels than the first.
  """
  names, probs, labels = [], [], None
  for path in paths:
    if not ticket_store.is_complete(path):
      raise DiversityError(f'{path}: not a complete ticket (no ticket.json).')
    p, y = ticket_store.load_predictions(path)
    if labels is None:
      labels = y
    elif y.shape != labels.shape or np.any(y != labels) or (
        p.shape[1:] != probs[0].shape[1:]):
      raise DiversityError(f'{path}: its predictions are of another test set'
                           f' than {paths[0]} ({p.shape} vs '
                           f'{probs[0].shape}).')
    names.append(os.path.join(os.path.basename(os.path.dirname(
        os.path.dirname(os.path.abspath(path)))), os.path.basename(path)))
    probs.append(p)
  if len(probs) < 2:
    raise DiversityError('diversity needs at least 2 tickets.')
  _check_same_network(paths)
  return names, np.stack(probs)


# Fields of the model spec that make two tickets the same network (masked
# or dense tickets of one network may be compared).
_NETWORK_FIELDS = ('architecture', 'depth', 'width_multiplier',
                   'num_classes', 'input_shape', 'dataset')


def _check_same_network(paths):
  """Raises DiversityError naming the first ticket of another network."""
  first = None
  for path in paths:
    spec = ticket_store.load_info(path).get('model')
    if spec is None:
      continue  # An older ticket: only its predictions are checked.
    network = {k: spec.get(k) for k in _NETWORK_FIELDS}
    if first is None:
      first = (path, network)
    elif network != first[1]:
      differ = ', '.join(f'{k} {first[1][k]} vs {network[k]}'
                         for k in _NETWORK_FIELDS
                         if first[1][k] != network[k])
      raise DiversityError(f'{path}: another network than {first[0]} '
                           f'({differ}); compare tickets of one '
                           f'architecture.')


def heatmap(matrix, names, title, path):
  """The disagreement matrix as an annotated heatmap PNG."""
  size = 2.0 + 0.6 * len(names)
  fig, axes = plots.figure(size + 1.5, size)
  image = axes.imshow(matrix, cmap='viridis', vmin=0.0)
  fig.colorbar(image, ax=axes, label='prediction disagreement')
  axes.set_xticks(range(len(names)), names, rotation=45, ha='right')
  axes.set_yticks(range(len(names)), names)
  axes.set_xlabel('ticket')
  axes.set_ylabel('ticket')
  for i in range(len(names)):
    for j in range(len(names)):
      axes.text(j, i, f'{matrix[i, j]:.3f}', ha='center', va='center',
                color='white' if matrix[i, j] < matrix.max() / 2 else 'black',
                fontsize=8)
  axes.set_title(title)
  return plots.save(fig, path)


def pair_table(names, disagreement, kl):
  """Markdown: one row per pair i < j, and the means (Table 4's figures)."""
  lines = ['| pair | disagreement | KL(i‖j) | KL(j‖i) |',
           '| --- | --- | --- | --- |']
  upper = np.triu_indices(len(names), 1)
  for i, j in zip(*upper):
    lines.append(f'| {names[i]} vs {names[j]} | {disagreement[i, j]:.4f} | '
                 f'{kl[i, j]:.4f} | {kl[j, i]:.4f} |')
  lines.append(f'| mean over pairs | {disagreement[upper].mean():.4f} | '
               f'{kl[upper].mean():.4f} | {kl.T[upper].mean():.4f} |')
  return '\n'.join(lines)


def main(argv):
  del argv
  try:
    paths = ticket_paths(FLAGS.tickets, FLAGS.run_dirs)
    names, probs = load(paths)
  except (DiversityError, OSError) as e:
    sys.exit(f'error: {e}')
  disagreement, kl = metrics.pairwise_diversity(probs)
  title = (f'Prediction disagreement of {len(names)} tickets '
           f'({", ".join(sorted({n.split(os.sep)[0] for n in names}))})')
  heatmap(disagreement, names, title,
          os.path.join(FLAGS.output_dir, 'disagreement.png'))
  table = pair_table(names, disagreement, kl)
  files.write_text(os.path.join(FLAGS.output_dir, 'diversity.md'),
                   table + '\n')
  files.write_text(os.path.join(FLAGS.output_dir, 'diversity.json'),
                   json.dumps({'tickets': paths, 'names': names,
                               'disagreement': disagreement.tolist(),
                               'kl': kl.tolist()}, indent=1))
  print(table)


if __name__ == '__main__':
  app.run(main)
