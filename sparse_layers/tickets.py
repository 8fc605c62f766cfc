"""Tickets on disk: a saved subnetwork that any process can rebuild.

A ticket directory holds
  - `architecture.json`: the Keras model's JSON (`model.to_json()`; masked
    layers by their class names), so the network is rebuilt without the code
    that built it;
  - `model.index` / `model.data-*`: a `tf.train.Checkpoint(model=...)` of its
    weights, masks included;
  - `ticket.json`: what its writer records (index, epoch, sparsity, ...).
`save` removes any old ticket at `path`, writes the architecture and the
checkpoint, and `ticket.json` last: a ticket is complete exactly when its
`ticket.json` exists, so an interrupted write leaves an incomplete ticket,
which readers refuse and the next write replaces. This needs no directory
rename, which object stores (gs://) and TF's ram:// lack; every file goes
through `tf.io.gfile`. The binaries' tickets
(`baselines/artifacts/ticket_store.py`) add test predictions and a model
spec to the same layout, so `load` and `sparse_layers.export` read both.
Functional and Sequential models only: a subclassed model has no JSON.
"""

import json
import os

import tensorflow as tf

from sparse_layers import layers as masked
from sparse_layers.keras_alias import keras

ARCHITECTURE_FILE = 'architecture.json'
CHECKPOINT_PREFIX = 'model'
INFO_FILE = 'ticket.json'


class TicketError(ValueError):
  """A ticket is missing, incomplete or does not fit the others."""


def check_writable(directory, name):
  """Raises ValueError unless `directory` can be created and written (a
  probe file, removed again); the message names it as `name`=directory."""
  probe = os.path.join(directory, '.write_test')
  try:
    tf.io.gfile.makedirs(directory)
    with tf.io.gfile.GFile(probe, 'w') as f:
      f.write('ok')
    tf.io.gfile.remove(probe)
  except (tf.errors.OpError, OSError) as e:
    raise ValueError(f'{name}={directory} is not writable '
                     f'({type(e).__name__}: {e}).') from e


def write_architecture(directory, model):
  """Writes `model.to_json()` to `directory`/architecture.json."""
  with tf.io.gfile.GFile(os.path.join(directory, ARCHITECTURE_FILE), 'w') as f:
    f.write(model.to_json())


def _from_json(config_json):
  return keras.models.model_from_json(config_json,
                                      custom_objects=masked.CUSTOM_OBJECTS)


def _weights_only(model):
  """`model`, or for a compiled one a copy without the optimizer state.

  A compiled model's checkpoint would hold its optimizer's slots too.
  """
  if getattr(model, 'optimizer', None) is None:
    return model
  copy = _from_json(model.to_json())
  copy.set_weights(model.get_weights())
  return copy


_MAX_DEPTH = 8  # Of the files under a ticket (saved models included).


def files_under(path):
  """Every file below directory `path` (deepest first), on any filesystem.

  Globs level by level: object stores and ram:// list files, not
  directories.
  """
  found = []
  for depth in range(1, _MAX_DEPTH + 1):
    found += [name for name in tf.io.gfile.glob(path + '/*' * depth)
              if not tf.io.gfile.isdir(name)]
  return sorted(found, key=lambda name: -name.count('/'))


def remove_tree(path):
  """Removes directory `path` and everything below it, if present.

  rmtree where the filesystem has directories (local, gs://); file by file
  where it has none (ram://, whose rmtree removes only direct children).
  """
  if tf.io.gfile.isdir(path):
    try:
      tf.io.gfile.rmtree(path)
    except tf.errors.NotFoundError:
      pass
  for name in files_under(path):
    tf.io.gfile.remove(name)


def copy_tree(source, target, last=INFO_FILE):
  """Copies the files below `source` to `target` (replacing it), the file
  named `last` at the end (the completeness marker)."""
  remove_tree(target)
  names = files_under(source)
  names.sort(key=lambda name: os.path.basename(name) == last)
  for name in names:
    destination = os.path.join(target, os.path.relpath(name, source))
    tf.io.gfile.makedirs(os.path.dirname(destination))
    tf.io.gfile.copy(name, destination, overwrite=True)


def write_dir(path, write_files, write_marker, before_marker=None):
  """Replaces directory `path`: removes it, runs write_files(path), then
  `before_marker()` (if given: the binaries' crash points), and
  write_marker(path) last (the completeness marker, ticket.json)."""
  remove_tree(path)
  tf.io.gfile.makedirs(path)
  write_files(path)
  if before_marker is not None:
    before_marker()
  write_marker(path)


def write_model(directory, model):
  """Writes architecture.json and the weights checkpoint into `directory`."""
  write_architecture(directory, model)
  tf.train.Checkpoint(model=_weights_only(model)).write(
      os.path.join(directory, CHECKPOINT_PREFIX))


def read_checkpoint(prefix, model, mismatch):
  """Restores `model` from a `tf.train.Checkpoint(model=...)` at `prefix`.

  Raises:
    TicketError: '<mismatch>: <the reader's error>' if the checkpoint does
      not fit the model (or is truncated).
  """
  try:
    status = tf.train.Checkpoint(model=model).read(prefix)
    status.assert_existing_objects_matched()
  except (tf.errors.OpError, AssertionError, ValueError, IndexError) as e:
    # IndexError: TF's reader on a truncated data file.
    raise TicketError(f'{mismatch}: {type(e).__name__}: {str(e)[:300]}') from e


def write_info(directory, info):
  """Writes ticket.json (the completeness marker) via a temporary file."""
  path = os.path.join(directory, INFO_FILE)
  with tf.io.gfile.GFile(path + '.tmp', 'w') as f:
    json.dump(info or {}, f, indent=1, sort_keys=True)
  tf.io.gfile.rename(path + '.tmp', path, overwrite=True)


def save(path, model, info=None):
  """Writes a ticket of `model` at `path`, replacing any older one there.

  Args:
    path: the ticket directory.
    model: a built functional or Sequential Keras model; its weights
      are saved, not its optimizer's.
    info: JSON-serialisable dict for ticket.json.
  """

  write_dir(path, lambda d: write_model(d, model),
            lambda d: write_info(d, info))


def is_complete(path):
  return tf.io.gfile.exists(os.path.join(path, INFO_FILE))


def load_info(path):
  """The ticket's ticket.json as a dict."""
  with tf.io.gfile.GFile(os.path.join(path, INFO_FILE)) as f:
    return json.load(f)


def architecture(path):
  """The ticket's architecture.json, parsed.

  Raises:
    TicketError: naming the ticket if it or its architecture is missing.
  """
  if not tf.io.gfile.isdir(path):
    raise TicketError(f'ticket {path}: no such directory.')
  file = os.path.join(path, ARCHITECTURE_FILE)
  if not tf.io.gfile.exists(file):
    raise TicketError(f'ticket {path} has no {ARCHITECTURE_FILE} (a ticket '
                      f'of an older version, or not a ticket directory).')
  with tf.io.gfile.GFile(file) as f:
    return json.load(f)


def load(path, name=None):
  """Rebuilds a ticket's model from its architecture and checkpoint.

  Args:
    path: the ticket directory.
    name: the rebuilt model's name (default: the saved one); models nested
      in one ensemble need distinct names.

  Returns:
    The Keras model with the ticket's weights and masks.

  Raises:
    TicketError: naming the ticket, if it is incomplete, a file is missing
      or the checkpoint does not match the architecture.
  """
  config = architecture(path)
  if not is_complete(path):
    raise TicketError(f'ticket {path} is incomplete (no {INFO_FILE}): its '
                      f'write was interrupted; write it again.')
  if name is not None:
    config['config']['name'] = name
  model = _from_json(json.dumps(config))
  prefix = os.path.join(path, CHECKPOINT_PREFIX)
  if not tf.io.gfile.exists(prefix + '.index'):
    raise TicketError(f'ticket {path} has no checkpoint {prefix}.index.')
  read_checkpoint(prefix, model, f'ticket {path}: its checkpoint does not '
                  f'match its {ARCHITECTURE_FILE}')
  return model


def check_same_signature(paths, models):
  """Raises TicketError unless all models take and give the same shapes.

  Args:
    paths: the tickets' directories (for the message).
    models: their loaded models, in the same order.
  """
  first_path, first = paths[0], models[0]
  for path, model in zip(paths[1:], models[1:]):
    for what in ('input_shape', 'output_shape'):
      if getattr(model, what) != getattr(first, what):
        raise TicketError(
            f'ticket {path} does not fit the ensemble: its {what} '
            f'{getattr(model, what)} differs from {getattr(first, what)} of '
            f'ticket {first_path}.')
