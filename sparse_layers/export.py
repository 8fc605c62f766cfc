r"""Compact export of a ticket ensemble, and a SavedModel that serves it.

The paper's ensemble costs no more at test time than one dense network
(Section 3.3); `export` makes it so in storage too. It writes into a new
output directory:
  - `ensemble.npz`: every member's non-zero weights only. Per masked kernel,
    the mask as a bitmask (`np.packbits`, 1 bit per weight) and the values
    where the mask is 1, in mask order; every other variable (biases,
    BatchNorm, dense layers) as it is; the masks themselves are not stored
    (they are the bitmasks). Each member's architecture JSON and a `meta`
    JSON (format, dtype, variable names and shapes) make it self-contained.
    `load_members` rebuilds the members with the same float32 weights
    (an inactive weight comes back as +0.0, where the ticket may hold -0.0).
    With `dtype='bfloat16'` the kernel values are rounded to bfloat16 (stored
    as their 16 bits); the rest stays float32.
  - `saved_model/`: a SavedModel whose `serving_default` signature maps
    `images` to `probabilities` (the ensemble's mean) and
    `member_probabilities` ([batch, member, class]). Where the tickets
    record their input preprocessing (`ticket.json`'s
    `input_preprocessing`, as the binaries write it), `images` are what the
    dataset gives: uint8, 0-255, [batch, height, width, channels], and the
    SavedModel applies the normalisation (x / 255 - mean) / std itself;
    otherwise `images` are float32 as the members take them. Its members
    are `serving_copy`s: plain Conv2D / Dense layers holding the tickets'
    kernels (zeros included) and no masks.
  - `export.json`: the members, dtype, serving input and preprocessing.
Both reproduce the tickets' ensemble (`ensemble.load_ensemble`) bit for bit
as TensorFlow computes it in a graph (`predict`, a `tf.function`); eager
calls can differ in the last bit, as grappler rewrites graphs.

Command line:

  python -m sparse_layers.export TICKET_DIR [TICKET_DIR ...] --output DIR \
      [--dtype=float32|bfloat16]
"""

import io
import json
import os

import numpy as np
import tensorflow as tf

from sparse_layers import ensemble as ensemble_lib
from sparse_layers import layers as masked
from sparse_layers import tickets as ticket_files
from sparse_layers.keras_alias import keras

COMPACT_FILE = 'ensemble.npz'
SAVED_MODEL_DIR = 'saved_model'
METADATA_FILE = 'export.json'
FORMAT = 'freetickets-compact-1'
DTYPES = ('float32', 'bfloat16')
# ticket.json's record of the input preprocessing: {'mean': [...], 'std':
# [...]} of images scaled to [0, 1], as (uint8 image / 255 - mean) / std.
PREPROCESSING_KEY = 'input_preprocessing'


def _text(payload):
  return np.frombuffer(payload.encode('utf-8'), np.uint8)


def _untext(array):
  return bytes(array.tobytes()).decode('utf-8')


def _masked_variables(model):
  """{id(kernel): mask} and the set of ids of the masks of `model`."""
  kernels, masks = {}, set()
  for layer in masked.masked_layers(model):
    kernels[id(layer.kernel)] = layer.mask
    masks.add(id(layer.mask))
  return kernels, masks


def _to_bfloat16_bits(values):
  """float32 -> the 16 bits of its bfloat16 rounding (round to nearest even)."""
  return tf.bitcast(tf.cast(tf.constant(values, tf.float32), tf.bfloat16),
                    tf.uint16).numpy()


def _from_bfloat16_bits(bits):
  return tf.cast(tf.bitcast(tf.constant(bits, tf.uint16), tf.bfloat16),
                 tf.float32).numpy()


def compact_arrays(members, dtype='float32', from_logits=None):
  """The arrays of `ensemble.npz` for member models (see the module doc)."""
  if dtype not in DTYPES:
    raise ValueError(f'dtype must be one of {DTYPES}, got {dtype!r}.')
  arrays, meta_members = {}, []
  for m, model in enumerate(members):
    kernels, masks = _masked_variables(model)
    variables = []
    for v, variable in enumerate(model.weights):
      if id(variable) in masks:
        continue
      key = f'm{m}.v{v}'
      value = variable.numpy()
      entry = {'index': v, 'name': variable.name,
               'shape': list(value.shape), 'dtype': value.dtype.name}
      if id(variable) in kernels:
        active = kernels[id(variable)].numpy().ravel() != 0
        values = value.ravel()[active]
        arrays[key + '.bits'] = np.packbits(active)
        arrays[key + '.values'] = (_to_bfloat16_bits(values)
                                   if dtype == 'bfloat16' else values)
        entry['kind'] = 'masked_kernel'
      else:
        arrays[key] = value
        entry['kind'] = 'dense'
      variables.append(entry)
    arrays[f'm{m}.architecture'] = _text(model.to_json())
    logits = from_logits if from_logits is not None else (
        not ensemble_lib.outputs_probabilities(model))
    meta_members.append({'name': model.name, 'from_logits': logits,
                         'num_weights': len(model.weights),
                         'variables': variables})
  arrays['meta'] = _text(json.dumps({'format': FORMAT, 'dtype': dtype,
                                     'members': meta_members}))
  return arrays


def save_compact(path, members, dtype='float32', from_logits=None):
  """Writes `compact_arrays` to `path` (an uncompressed .npz); its bytes."""
  buffer = io.BytesIO()
  np.savez(buffer, **compact_arrays(members, dtype, from_logits))
  with tf.io.gfile.GFile(path, 'wb') as f:
    f.write(buffer.getvalue())
  return len(buffer.getvalue())


def load_members(path):
  """Rebuilds the member models of an `ensemble.npz`.

  Returns:
    (members, from_logits): the models (weights and masks restored; float32
    values exactly as exported, inactive weights +0.0) and whether each
    outputs logits.

  Raises:
    ValueError: naming the file, if it is not a compact ensemble or does not
      match its architectures.
  """
  with tf.io.gfile.GFile(path, 'rb') as f:
    arrays = np.load(io.BytesIO(f.read()))
    arrays = {key: arrays[key] for key in arrays.files}
  if 'meta' not in arrays:
    raise ValueError(f'{path} is not a compact ensemble (no meta).')
  meta = json.loads(_untext(arrays['meta']))
  if meta.get('format') != FORMAT:
    raise ValueError(f'{path}: unknown format {meta.get("format")!r}.')
  members, from_logits = [], []
  for m, member in enumerate(meta['members']):
    model = keras.models.model_from_json(
        _untext(arrays[f'm{m}.architecture']),
        custom_objects=masked.CUSTOM_OBJECTS)
    if len(model.weights) != member['num_weights']:
      raise ValueError(f'{path}: member {m} has {member["num_weights"]} '
                       f'weights, its architecture {len(model.weights)}.')
    kernels, _ = _masked_variables(model)
    for entry in member['variables']:
      variable = model.weights[entry['index']]
      if list(variable.shape) != entry['shape']:
        raise ValueError(f'{path}: member {m} variable {entry["name"]} has '
                         f'shape {entry["shape"]}, its architecture '
                         f'{variable.shape}.')
      key = f'm{m}.v{entry["index"]}'
      if entry['kind'] == 'masked_kernel':
        size = int(np.prod(entry['shape']))
        active = np.unpackbits(arrays[key + '.bits'], count=size).astype(bool)
        values = arrays[key + '.values']
        if meta['dtype'] == 'bfloat16':
          values = _from_bfloat16_bits(values)
        kernel = np.zeros(size, np.float32)
        kernel[active] = values
        kernels[id(variable)].assign(active.reshape(entry['shape']).astype(
            kernels[id(variable)].dtype.as_numpy_dtype))
        variable.assign(kernel.reshape(entry['shape']))
      else:
        variable.assign(arrays[key])
    members.append(model)
    from_logits.append(member['from_logits'])
  return members, from_logits


def _unmasked_config(config):
  """A model config with MaskedConv2D / MaskedDense made Conv2D / Dense."""
  if isinstance(config, dict):
    config = {key: _unmasked_config(value) for key, value in config.items()}
    if config.get('class_name') in masked.CUSTOM_OBJECTS:
      config['class_name'] = config['class_name'][len('Masked'):]
      config['config'].pop('inactive_gradient', None)
    return config
  if isinstance(config, list):
    return [_unmasked_config(value) for value in config]
  return config


def serving_copy(model):
  """`model` with plain Conv2D / Dense layers and no mask variables.

  A ticket's kernels are 0 wherever its masks are (the masked layers'
  constraint), so the copy computes the same values without storing masks.
  """
  copy = keras.models.model_from_json(
      json.dumps(_unmasked_config(json.loads(model.to_json()))))
  _, masks = _masked_variables(model)
  values = [v.numpy() for v in model.weights if id(v) not in masks]
  if len(values) != len(copy.weights):
    raise ValueError(f'{model.name}: {len(values)} weights without masks, '
                     f'but its unmasked copy has {len(copy.weights)}.')
  copy.set_weights(values)
  return copy


def _ensemble_of(members, from_logits):
  if len(set(from_logits)) > 1:
    raise ValueError('members mix logit and probability outputs.')
  return ensemble_lib.ensemble_model(members, from_logits[0],
                                     member_probabilities=True)


def load_compact_ensemble(path):
  """The ensemble of an `ensemble.npz`, with outputs [mean, per member]."""
  return _ensemble_of(*load_members(path))


def normalize(images, preprocessing):
  """(uint8 images / 255 - mean) / std, in float32 (`PREPROCESSING_KEY`)."""
  images = tf.cast(images, tf.float32) / 255.0
  return ((images - tf.constant(preprocessing['mean'], tf.float32)) /
          tf.constant(preprocessing['std'], tf.float32))


class _Serving(tf.Module):
  """The SavedModel's root: the ensemble's variables and serving function.

  It tracks the variables, not the Keras model, so saving traces only the
  serving function (not every layer's call, as for a Keras object). With
  `preprocessing` it takes uint8 images and normalises them.
  """

  def __init__(self, model, preprocessing=None):
    super().__init__()
    self.ensemble_variables = list(model.weights)
    spec = tf.TensorSpec([None, *model.input_shape[1:]],
                         tf.uint8 if preprocessing else tf.float32,
                         name='images')

    def serve(images):
      if preprocessing:
        images = normalize(images, preprocessing)
      mean, per_member = model(images, training=False)
      return {'probabilities': mean, 'member_probabilities': per_member}

    self.serve = tf.function(serve, input_signature=[spec])


def save_serving(path, model, preprocessing=None):
  """Writes a SavedModel of an ensemble with outputs [mean, per member]
  (taking uint8 images with `preprocessing`, see `_Serving`)."""
  module = _Serving(model, preprocessing)
  tf.saved_model.save(module, path,
                      signatures={'serving_default': module.serve})


def tickets_preprocessing(ticket_dirs):
  """The tickets' common `PREPROCESSING_KEY` record, or None if none has one.

  Raises:
    TicketError: if the tickets record different ones (or only some do).
  """
  records = {path: ticket_files.load_info(path).get(PREPROCESSING_KEY)
             for path in ticket_dirs}
  distinct = {json.dumps(r, sort_keys=True) for r in records.values()}
  if len(distinct) > 1:
    raise ticket_files.TicketError(
        'the tickets record different input preprocessing: ' + '; '.join(
            f'{path}: {record}' for path, record in records.items()))
  return next(iter(records.values()))


def serving_input(model, preprocessing):
  """What the SavedModel's `images` are, in words."""
  shape = [None, *model.input_shape[1:]]
  if preprocessing:
    return (f'uint8 {shape}, 0-255 as the dataset gives them; normalised '
            f'inside as (x / 255 - mean) / std')
  return f'float32 {shape}, as the members take them (no preprocessing)'


def directory_bytes(path):
  """Total bytes of the files under `path`."""
  return sum(tf.io.gfile.stat(os.path.join(root, name)).length
             for root, _, names in tf.io.gfile.walk(path) for name in names)


def export(ticket_dirs, output_dir, dtype='float32', preprocessing=None):
  """Writes the compact file, the SavedModel and `export.json`.

  The SavedModel is built from the compact file, so both give the same
  predictions.

  Args:
    ticket_dirs: ticket directories (`tickets`), one per member.
    output_dir: a new or empty directory.
    dtype: of the stored kernel values, 'float32' or 'bfloat16'.
    preprocessing: {'mean': [...], 'std': [...]} (`PREPROCESSING_KEY`);
      default: the tickets' record, if they have one.

  Returns:
    dict: paths and bytes of the compact file and the SavedModel, and the
    bytes of the tickets' own files.

  Raises:
    tickets.TicketError: naming a missing, incomplete or mismatched ticket.
    ValueError: if output_dir holds files.
  """
  if ticket_files.files_under(output_dir):
    raise ValueError(f'--output {output_dir} is not empty; export writes '
                     f'into a new or empty directory.')
  members = ensemble_lib.load_members(ticket_dirs)
  if preprocessing is None:
    preprocessing = tickets_preprocessing(ticket_dirs)
  tf.io.gfile.makedirs(output_dir)
  compact = os.path.join(output_dir, COMPACT_FILE)
  compact_bytes = save_compact(compact, members, dtype)
  served = os.path.join(output_dir, SAVED_MODEL_DIR)
  compact_members, from_logits = load_members(compact)
  served_ensemble = _ensemble_of([serving_copy(m) for m in compact_members],
                                 from_logits)
  save_serving(served, served_ensemble, preprocessing)
  metadata = {'members': len(members), 'dtype': dtype,
              'tickets': list(ticket_dirs),
              'serving_input': serving_input(members[0], preprocessing),
              'preprocessing': preprocessing}
  with tf.io.gfile.GFile(os.path.join(output_dir, METADATA_FILE), 'w') as f:
    json.dump(metadata, f, indent=1, sort_keys=True)
  return {'compact_file': compact, 'compact_bytes': compact_bytes,
          'saved_model': served, 'saved_model_bytes': directory_bytes(served),
          'ticket_bytes': sum(directory_bytes(p) for p in ticket_dirs),
          **metadata}


def define_flags(flag_values=None):
  """Defines the command line's flags (in absl's global FLAGS by default)."""
  from absl import flags  # pylint: disable=g-import-not-at-top
  if flag_values is None:  # An empty FlagValues is falsy.
    flag_values = flags.FLAGS
  flags.DEFINE_string('output', None, 'New or empty output directory.',
                      flag_values=flag_values)
  flags.DEFINE_enum('dtype', 'float32', list(DTYPES),
                    'Type of the stored kernel values.',
                    flag_values=flag_values)
  flags.mark_flag_as_required('output', flag_values=flag_values)
  return flag_values


def main(argv, flag_values):
  """Exports the tickets named in argv[1:]; prints the result as JSON."""
  ticket_dirs = argv[1:]
  if not ticket_dirs:
    raise SystemExit('usage: python -m sparse_layers.export TICKET_DIR '
                     '[TICKET_DIR ...] --output DIR')
  try:
    result = export(ticket_dirs, flag_values.output, flag_values.dtype)
  except ValueError as e:
    raise SystemExit(f'error: {e}') from e
  print(json.dumps(result, indent=1))


if __name__ == '__main__':
  from absl import app  # pylint: disable=g-import-not-at-top
  _FLAGS = define_flags()
  app.run(lambda argv: main(argv, _FLAGS))
