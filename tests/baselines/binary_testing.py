"""Helpers for end-to-end tests of the CIFAR binaries (run as subprocesses)."""

import glob
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import tensorflow as tf

ROOT = pathlib.Path(__file__).resolve().parents[2]
# A WRN-10-1, 32 images a batch (3 steps an epoch on the default 96 mock
# examples); sparse: ΔT = 1 at a batch of 128, i.e. updates every 4 steps.
BATCH = 32
NUM_EXAMPLES = 96
TINY_FLAGS = ['--depth=10', '--width_multiplier=1',
              f'--per_core_batch_size={BATCH}', '--checkpoint_interval=1']
SPARSE_FLAGS = TINY_FLAGS + ['--update_interval=1']
UPDATE_STEPS = 128 // BATCH


def run(module, args, num_examples=NUM_EXAMPLES, mock=True, timeout=900,
        kill_at=None, sigterm_at_step=None):
  """Runs `python -m module args` (under mock TFDS data if `mock`).

  `kill_at` names a crash point (baselines/runtime/faults.py) where the process
  SIGKILLs itself; `sigterm_at_step` a global step after which it sends
  itself a SIGTERM (baselines/runtime/preemption.py).
  """
  if mock:
    command = [sys.executable, '-m', 'tests.baselines.mock_run', module,
               str(num_examples)]
  else:
    command = [sys.executable, '-m', module]
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2')
  env.pop('FREETICKETS_KILL_AT', None)
  if kill_at:
    env['FREETICKETS_KILL_AT'] = kill_at
  env.pop('FREETICKETS_SIGTERM_AT_STEP', None)
  if sigterm_at_step is not None:
    env['FREETICKETS_SIGTERM_AT_STEP'] = str(sigterm_at_step)
  return subprocess.run(command + list(args), cwd=ROOT, capture_output=True,
                        text=True, timeout=timeout, env=env, check=False)


def result_of(module, *args, timeout=900):
  """Runs `python -m module args` and returns the JSON it printed after
  `RESULT ` (the in-process case runners)."""
  result = check(subprocess.run(
      [sys.executable, '-m', module, *args], cwd=ROOT, capture_output=True,
      text=True, timeout=timeout, check=False))
  line = [l for l in result.stdout.splitlines() if l.startswith('RESULT ')]
  return json.loads(line[-1][len('RESULT '):])


def check(result):
  """Raises with the binary's stderr tail if it failed."""
  if result.returncode != 0:
    raise AssertionError(f'exit {result.returncode}:\n{result.stderr[-4000:]}')
  return result


def scalars(directory):
  """{tag: {step: value}} from the event files directly in `directory`."""
  found = {}
  for path in glob.glob(os.path.join(directory, 'events.out.tfevents.*')):
    for record in tf.data.TFRecordDataset(path):
      event = tf.compat.v1.Event.FromString(record.numpy())
      for value in event.summary.value:
        if value.HasField('simple_value'):
          number = value.simple_value
        else:
          array = tf.make_ndarray(value.tensor)
          if array.shape or not np.issubdtype(array.dtype, np.number):
            continue  # HParams metadata, not a scalar.
          number = float(array)
        found.setdefault(value.tag, {})[event.step] = number
  return found


def hparams_session(directory):
  """The hparams of the TensorBoard HParams session written directly in
  `directory` ({name: value}), or None if there is none."""
  # pylint: disable=g-import-not-at-top
  from tensorboard.plugins.hparams import metadata
  from tensorboard.plugins.hparams import plugin_data_pb2
  found = None
  for path in glob.glob(os.path.join(directory, 'events.out.tfevents.*')):
    for record in tf.data.TFRecordDataset(path):
      event = tf.compat.v1.Event.FromString(record.numpy())
      for value in event.summary.value:
        if value.tag != metadata.SESSION_START_INFO_TAG:
          continue
        data = plugin_data_pb2.HParamsPluginData.FromString(
            value.metadata.plugin_data.content)
        found = {name: getattr(v, v.WhichOneof('kind'))
                 for name, v in data.session_start_info.hparams.items()}
  return found


def checkpoint_arrays(ticket_dir, kind):
  """Arrays of every `kind` ('kernel' or 'mask') variable in a ticket."""
  reader = tf.train.load_checkpoint(os.path.join(ticket_dir, 'model'))
  names = sorted(n for n in reader.get_variable_to_shape_map()
                 if n.endswith(f'/{kind}/.ATTRIBUTES/VARIABLE_VALUE'))
  return {n: reader.get_tensor(n) for n in names}


def initial_masks(seed, sparsity=0.8):
  """Masks `sparsify` draws for a WRN-10-1 member with this seed, as
  {(shape, mask bytes)} (checkpoint keys are ordered by name, not layer)."""
  # pylint: disable=g-import-not-at-top
  from sparse_layers import layers
  from sparse_layers import models
  from sparse_layers import sparse_init
  model = models.wide_resnet((32, 32, 3), 10, 1, 10)
  sparse_init.sparsify(model, sparsity, 'erk', seed=seed)
  return sorted((l.mask.numpy().shape, l.mask.numpy().tobytes())
                for l in layers.masked_layers(model))


def ticket_masks(ticket_dir):
  """A ticket's masks as `initial_masks` gives them."""
  return sorted((m.shape, m.tobytes())
                for m in checkpoint_arrays(ticket_dir, 'mask').values())


def write_learnable_npz(directory, num_train, num_test, seed=0,
                        save=np.savez):
  """Train / test npz of 10 classes, each a colour plus pixel noise.

  Any network that learns ends far above chance (0.1); one that does not
  stays near it. `save(path, x=..., y=...)` writes a file (e.g.
  `baselines.runtime.files.write_npz` for any TF filesystem). Returns
  (train path, test path).
  """
  rng = np.random.default_rng(seed)
  hues = np.arange(10) / 10.0
  # Ten well-separated colours around the hue circle, at two brightnesses.
  colours = np.stack([np.abs(((hues + shift) % 1.0) * 6 - 3) - 1
                      for shift in (0.0, 2 / 3, 1 / 3)], -1)
  colours = np.clip(colours, 0, 1) * np.where(np.arange(10) % 2, 200, 120)[
      :, None] + 30
  paths = []
  for name, n in (('train', num_train), ('test', num_test)):
    y = rng.integers(0, 10, n)
    x = colours[y][:, None, None, :] + rng.normal(0, 25, (n, 32, 32, 3))
    path = os.path.join(directory, f'{name}.npz')
    save(path, x=np.clip(x, 0, 255).astype(np.uint8), y=y)
    paths.append(path)
  return tuple(paths)


def load_json(path):
  with open(path) as f:
    return json.load(f)


def predictions(ticket_dir):
  with np.load(os.path.join(ticket_dir, 'predictions.npz')) as arrays:
    return arrays['probs'], arrays['labels']


def fingerprint(out):
  """Everything a finished run produced that must not depend on restarts:
  every ticket's variables (masks, weights), predictions and metrics."""
  result = {}
  tickets_dir = os.path.join(out, 'tickets')
  for name in sorted(os.listdir(tickets_dir)):
    path = os.path.join(tickets_dir, name)
    reader = tf.train.load_checkpoint(os.path.join(path, 'model'))
    for key in sorted(reader.get_variable_to_shape_map()):
      if key.startswith('model/'):
        result[f'{name}/{key}'] = reader.get_tensor(key)
    result[f'{name}/probs'] = predictions(path)[0]
  metrics = load_json(os.path.join(out, 'metrics.json'))
  for key, value in metrics['metrics'].items():
    result[f'metrics/{key}'] = np.asarray(value)
  return result
