"""Tickets on disk: a saved subnetwork that any process can rebuild.

A ticket directory holds
  - `architecture.json`: the Keras model's JSON (`model.to_json()`; masked
    layers by their class names), so the network is rebuilt without the code
    that built it;
  - `model.index` / `model.data-*`: a `tf.train.Checkpoint(model=...)` of its
    weights, masks included;
  - `ticket.json`: what its writer records (index, epoch, sparsity, ...).
`save` writes all three into `<path>.partial` and renames it, so a ticket
appears whole or not at all. The binaries' tickets (`baselines/tickets.py`)
add test predictions and a model spec to the same layout, so `load` and
`sparse_layers.export` read both. Functional and Sequential models only:
a subclassed model has no JSON.
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


def replace_dir(source, target):
  """Moves directory `source` to `target`, replacing any old `target`."""
  if tf.io.gfile.exists(target):
    tf.io.gfile.rmtree(target)
  tf.io.gfile.makedirs(os.path.dirname(target))
  tf.io.gfile.rename(source, target)


def write_dir_atomic(path, write_fn, before_rename=None):
  """Fills `path`.partial with write_fn(dir), then renames it to `path`.

  A stale `.partial` from an interrupted write is replaced; `before_rename()`
  (if given) runs between the two (the binaries' crash points).
  """
  partial = path + '.partial'
  if tf.io.gfile.exists(partial):
    tf.io.gfile.rmtree(partial)
  tf.io.gfile.makedirs(partial)
  write_fn(partial)
  if before_rename is not None:
    before_rename()
  replace_dir(partial, path)


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


def save(path, model, info=None):
  """Writes a ticket of `model` at `path`, replacing any older one there.

  Args:
    path: the ticket directory.
    model: a built functional or Sequential Keras model; its weights
      are saved, not its optimizer's.
    info: JSON-serialisable dict for ticket.json.
  """

  def write(directory):
    write_model(directory, model)
    with tf.io.gfile.GFile(os.path.join(directory, INFO_FILE), 'w') as f:
      json.dump(info or {}, f, indent=1, sort_keys=True)

  write_dir_atomic(path, write)


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
    TicketError: naming the ticket, if a file is missing or the checkpoint
      does not match the architecture.
  """
  config = architecture(path)
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
