"""Tickets: a saved member of an ensemble (weights, masks, test predictions).

A ticket directory holds `model-*` (a `tf.train.Checkpoint` of the model,
masks included), `architecture.json` (the model's Keras JSON),
`predictions.npz` (test probabilities and labels) and `ticket.json` (index,
epoch, sparsity, test metrics, model spec). `ticket.json` is written last:
a ticket without it is incomplete (an interrupted write), and the next
write replaces it. It is also a library ticket (`sparse_layers.tickets`):
`sparse_layers.export` and `sparse_layers.ensemble.load_ensemble` read it.
"""

import os

import numpy as np
import tensorflow as tf

from baselines.artifacts import model_spec as model_spec_lib
from baselines.runtime import files
from sparse_layers import tickets as ticket_files

TICKETS_DIR = 'tickets'
INFO_FILE = 'ticket.json'
PREDICTIONS_FILE = 'predictions.npz'


def ticket_dir(output_dir, index):
  return os.path.join(output_dir, TICKETS_DIR, f'ticket_{index}')


def run_tickets(output_dir):
  """A run directory's complete tickets, in index order."""
  markers = tf.io.gfile.glob(os.path.join(output_dir, TICKETS_DIR,
                                          'ticket_*', INFO_FILE))
  paths = [os.path.dirname(m) for m in markers]
  paths = [p for p in paths if os.path.basename(p)[7:].isdigit()]
  return sorted(paths, key=lambda p: int(p.rsplit('_', 1)[1]))


def is_complete(path):
  return tf.io.gfile.exists(os.path.join(path, INFO_FILE))


def _write_model(directory, model):
  tf.train.Checkpoint(model=model).write(os.path.join(directory, 'model'))


def save_model(path, model):
  """Writes `tf.train.Checkpoint(model=model)` as `path`/model (its index
  file, written last, marks it complete)."""
  files.write_dir(path, lambda d: None, lambda d: _write_model(d, model))


def save(path, model, probs, labels, info):
  """Writes a ticket (checkpoint, predictions, then ticket.json)."""

  def write_files(directory):
    ticket_files.write_model(directory, model)
    files.write_npz(os.path.join(directory, PREDICTIONS_FILE), probs=probs,
                    labels=labels)

  files.write_dir(path, write_files, lambda d: files.write_json_atomic(
      os.path.join(d, INFO_FILE), info))


def _rewrite_hint(path):
  return (f'A damaged ticket cannot be trusted: delete {path} and rerun the '
          f'binary with the same flags to recompute it (a member of a '
          f'member-based method: delete its member_<j>/ directory too).')


def load_info(path):
  """The ticket's ticket.json (a FileError naming it if unreadable)."""
  return files.read_json(os.path.join(path, INFO_FILE), _rewrite_hint(path))


def load_predictions(path):
  """(probs, labels) saved with the ticket."""
  file_path = os.path.join(path, PREDICTIONS_FILE)
  arrays = files.read_npz(file_path, _rewrite_hint(path))
  if 'probs' not in arrays or 'labels' not in arrays:
    raise files.FileError(f'{file_path}: lacks "probs" or "labels". '
                          f'{_rewrite_hint(path)}')
  return arrays['probs'], arrays['labels']


def load_member_predictions(paths):
  """([probs of each ticket], labels) of tickets that share one test set.

  Raises:
    ticket_files.TicketError: naming the tickets, if a ticket's labels are
      not the first's (another test set or order): averaging their
      predictions would mix examples.
  """
  predictions = [load_predictions(p) for p in paths]
  first = predictions[0][1]
  for path, (probs, labels) in zip(paths, predictions):
    if labels.shape != first.shape or not np.array_equal(labels, first):
      differ = ('a different number of examples' if labels.shape !=
                first.shape else
                f'{int(np.sum(labels != first))} labels that differ')
      raise ticket_files.TicketError(
          f'{path} and {paths[0]} hold predictions of different test sets '
          f'or orders ({differ}: {labels.shape[0]} vs {first.shape[0]} '
          f'examples); their ensemble would average unrelated examples.')
    if probs.shape[0] != labels.shape[0]:
      raise ticket_files.TicketError(
          f'{path}: {probs.shape[0]} predictions but {labels.shape[0]} '
          f'labels. {_rewrite_hint(path)}')
  return [probs for probs, _ in predictions], first


def require_complete(paths, how_to_recompute):
  """Raises TicketError naming the tickets of `paths` that are missing.

  For a run whose training is done (its checkpoint is past the phases that
  write them): a deleted ticket is not rewritten by resuming.
  """
  missing = [p for p in paths if not is_complete(p)]
  if missing:
    raise ticket_files.TicketError(
        f'the run has finished, but {len(missing)} of its tickets are '
        f'missing or incomplete: {", ".join(missing)}. Resuming does not '
        f'rewrite them (the checkpoint is past their phase). '
        f'{how_to_recompute}')


def model_spec(path):
  """The `model_spec.ModelSpec` in a ticket's ticket.json.

  Raises:
    ValueError: naming the ticket, if it has none or an unusable one.
  """
  info = load_info(path)
  if 'model' not in info:
    raise ValueError(f'{path}/ticket.json has no model spec (a ticket of an '
                     f'older version); pass its checkpoint prefix '
                     f'{path}/model with the model flags.')
  return model_spec_lib.ModelSpec.from_json(info['model'], path)


def ensemble_specs(paths):
  """{path: ModelSpec} of the paths that are tickets (have ticket.json).

  Raises:
    ValueError: on a ticket without a usable spec, or tickets that differ in
      dataset, input shape, classes or preprocessing (an ensemble needs one
      test input pipeline).
  """
  specs = {path: model_spec(path) for path in paths if is_complete(path)}
  for field in ('dataset', 'input_shape', 'num_classes', 'preprocessing'):
    values = {getattr(s, field) for s in specs.values()}
    if len(values) > 1:
      listing = ', '.join(f'{p}: {getattr(s, field)}'
                          for p, s in specs.items())
      raise ValueError(f'the tickets differ in {field} ({listing}); an '
                       f'ensemble needs one test set.')
  return specs


def load_model(path):
  """A ticket's network, built from its spec and restored (call it under
  the strategy scope that should own the variables)."""
  model = model_spec(path).build()
  restore_model(path, model)
  return model


def restore_model(path, model):
  """Loads a ticket's (or any `model`-keyed checkpoint's) weights into model.

  Args:
    path: a ticket directory, or a checkpoint prefix / directory holding a
      `tf.train.Checkpoint(model=...)`.
    model: a model of the same architecture.

  Raises:
    ValueError: if no checkpoint is found, or (`TicketError`, a ValueError)
      it does not match the model.
  """
  prefix = os.path.join(path, 'model') if tf.io.gfile.isdir(path) else path
  if tf.io.gfile.isdir(path) and not tf.io.gfile.exists(prefix + '.index'):
    prefix = tf.train.latest_checkpoint(path)
  if not prefix or not tf.io.gfile.exists(prefix + '.index'):
    raise ValueError(f'no checkpoint found at {path}')
  ticket_files.read_checkpoint(prefix, model,
                               f'checkpoint {prefix} does not match the model')
