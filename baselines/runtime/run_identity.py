"""Run identity (`run.json`): one output directory never mixes two runs.

At its first start a binary writes `output_dir/run.json`: the method, every
flag of the project that can change the result, the global batch, the
model spec and the code version. A restart in the same directory (to resume
a preempted run, or to train another `--member_index`) compares its own
identity with the stored one and stops, naming each differing flag with
both values, unless only flags that cannot change the result differ
(as each binary declares them: where it runs, how often it checkpoints,
what is evaluated at the end, which member this job trains). The identity
records what the data are, not only where (`pipeline.Split.identity`: an
npz file's size and sha256, a TFDS builder's name, version and split): a
restart on data replaced in place is refused too, naming the file and both
fingerprints. A different code version is logged, not refused: resuming
after a fix is allowed. Tickets carry the identity too, and a ticket is
reused (or evaluated by ensemble.py) only when it matches.
"""

import json
import os
import subprocess

from absl import logging
import tensorflow as tf

from baselines.artifacts import model_spec
from baselines.runtime import files

IDENTITY_FILE = 'run.json'

# The flags that cannot change a result, for metrics.json files written
# before runs recorded their result flags (`stored_result_flags`); a run
# now records them, as its binary declared them.
_NEUTRAL_BEFORE_RECORDED = frozenset({
    'output_dir', 'checkpoint_interval', 'use_gpu', 'tpu', 'num_cores',
    'data_dir', 'download_data', 'member_index', 'quick', 'deterministic',
    'eval_on_ood', 'ood_dataset', 'ood_npz', 'corruptions_interval',
    'corrupted_npz_dir', 'cifar100_c_path', 'dense_epochs',
    'trajectory_interval', 'eval_on_imagenet_a', 'steps_per_loop',
    'jit_compile',
})

# Result flags added after identities were first recorded, with the value
# that does what the code did before them: an identity or metrics.json
# without the flag is that value.
ADDED_RESULT_FLAGS = {'parameter_exploration': True,
                      'cifar_preprocessing': 'authors'}

# Identity keys compared on a restart (not 'code_version').
_COMPARED = ('method', 'global_batch_size', 'model', 'flags')


class RunMismatchError(ValueError):
  """The output directory holds a run of another method or other flags."""


def stored_result_flags(payload, ignore=()):
  """{name: value} of a stored run's flags (its metrics.json `payload`)
  that can change its result, but `ignore`: those it recorded under
  `result_flags`, else all but the neutral ones of earlier versions; a
  flag of `ADDED_RESULT_FLAGS` it lacks is that flag's earlier value."""
  names = payload.get('result_flags')
  if names is None:
    names = [name for name in payload['flags']
             if name not in _NEUTRAL_BEFORE_RECORDED]
  values = {**ADDED_RESULT_FLAGS, **{
      name: value for name, value in payload['flags'].items()
      if name in names}}
  return {name: value for name, value in values.items()
          if name not in ignore}


def code_version():
  """`git describe` of this checkout, else the installed package version."""
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  try:
    described = subprocess.run(
        ['git', 'describe', '--always', '--dirty'], cwd=root,
        capture_output=True, text=True, timeout=10, check=True)
    return described.stdout.strip()
  except (OSError, subprocess.SubprocessError):
    pass
  try:
    from importlib import metadata  # pylint: disable=g-import-not-at-top
    return 'freetickets ' + metadata.version('freetickets')
  except Exception:  # pylint: disable=broad-except
    return 'unknown'


def make_identity(method, result_flags, global_batch_size, model_spec,
                  data_identity=None):
  """The identity of a run.

  `result_flags` are {name: value} of its flags that can change its result
  (as its binary declares them); `model_spec` is a `model_spec.ModelSpec`,
  or None where members bring their own (ensemble.py); `data_identity` is
  {split name: `pipeline.Split.identity()`} of the splits that change the
  result.
  """
  return {'method': method, 'global_batch_size': int(global_batch_size),
          'model': model_spec.to_json() if model_spec else None,
          'flags': dict(sorted(result_flags.items())),
          'data': data_identity or {},
          'code_version': code_version()}


def describe_data(split_identity):
  """One line saying what a split's data are (`pipeline.Split.identity()`)."""
  if not split_identity:
    return 'none'
  source = split_identity.get('source') or {}
  first, end = split_identity.get('examples', (0, 0))
  if 'npz' in source:
    what = (f'{source["npz"]} (size {source["size"]} bytes, sha256 '
            f'{source["sha256"]})')
  elif 'tfds' in source:
    config = f'/{source["config"]}' if source.get('config') else ''
    what = (f'TFDS {source["tfds"]}{config} {source["version"]} split '
            f'{source["split"]!r}')
  else:
    what = json.dumps(source, sort_keys=True)
  return f'{what}, examples [{first}, {end})'


def data_differences(stored, current, sources_only=False,
                     stored_in='the directory'):
  """Lines naming each split whose data differ (both fingerprints; the
  stored ones said to be in `stored_in`)."""
  lines = []
  for name in sorted(set(stored) | set(current)):
    old, new = stored.get(name), current.get(name)
    if sources_only:
      old, new = (old or {}).get('source'), (new or {}).get('source')
    if old != new:
      lines.append(f'{name} data: {describe_data(stored.get(name))} in '
                   f'{stored_in}, {describe_data(current.get(name))} now')
  return lines


def differences(stored, current):
  """Human-readable differences of two identities (empty if they match)."""
  lines = []
  for key in _COMPARED:
    if key == 'flags':
      continue
    read = _as_read if key == 'model' else (lambda value: value)
    if read(stored.get(key)) != read(current.get(key)):
      lines.append(f'{key}: {stored.get(key)!r} in the directory, '
                   f'{current.get(key)!r} now')
  # Identities written before data were recorded compare by flags alone.
  if 'data' in stored and 'data' in current:
    lines += data_differences(stored['data'], current['data'])
  old, new = stored.get('flags', {}), current.get('flags', {})
  for name in sorted(set(old) | set(new)):
    if name not in new:
      lines.append(f'--{name}={old[name]!r} in the directory, not a flag of '
                   f'this binary')
    elif name not in old:
      if name in ADDED_RESULT_FLAGS and ADDED_RESULT_FLAGS[name] == new[name]:
        continue  # Recorded before the flag existed, at its earlier value.
      lines.append(f'--{name}: not a flag of the run in the directory, '
                   f'{new[name]!r} now')
    elif old[name] != new[name]:
      lines.append(f'--{name}: {old[name]!r} in the directory, '
                   f'{new[name]!r} now')
  return lines


def _as_read(spec):
  """A stored model spec as this code reads it (a field added since, such
  as the CIFAR preprocessing, at its default); as stored if unreadable."""
  try:
    return model_spec.ModelSpec.from_json(spec).to_json()
  except (ValueError, TypeError, KeyError, AttributeError):
    return spec


def load(output_dir):
  """The stored identity, or None if the directory has none.

  Raises:
    files.FileError: naming run.json, if it cannot be read.
  """
  path = os.path.join(output_dir, IDENTITY_FILE)
  if not tf.io.gfile.exists(path):
    return None
  return files.read_json(
      path, f'It identifies the run in {output_dir}: restore it from a '
      f'backup, or use a new --output_dir.')


def check(output_dir, identity):
  """Raises RunMismatchError if `output_dir` holds another run.

  A directory without `run.json` but with a run's outputs (checkpoints,
  tickets, metrics) of unknown identity is refused too.
  """
  stored = load(output_dir)
  if stored is None:
    found = [name for name in ('run', 'tickets', 'metrics.json', 'gmp')
             if tf.io.gfile.exists(os.path.join(output_dir, name))]
    found += [name for name in (tf.io.gfile.listdir(output_dir)
                                if tf.io.gfile.isdir(output_dir) else [])
              if name.startswith('member_')]
    if found:
      raise RunMismatchError(
          f'--output_dir={output_dir} holds outputs of an earlier run '
          f'({", ".join(sorted(found))}) but no {IDENTITY_FILE}: it cannot '
          f'be told whether they belong to this run. Use a new --output_dir.')
    return
  lines = differences(stored, identity)
  if lines:
    raise RunMismatchError(
        f'--output_dir={output_dir} holds another run ({IDENTITY_FILE}); '
        f'nothing was changed. Use a new --output_dir, or rerun with the '
        f'stored values. Differences:\n  ' + '\n  '.join(lines))
  if stored.get('code_version') != identity.get('code_version'):
    logging.warning('%s was started by code version %s; resuming with %s.',
                    output_dir, stored.get('code_version'),
                    identity.get('code_version'))


def record(output_dir, identity):
  """Writes run.json if the directory has none yet (after `check`)."""
  if load(output_dir) is None:
    tf.io.gfile.makedirs(output_dir)
    files.write_json_atomic(os.path.join(output_dir, IDENTITY_FILE), identity)


def matches(stored, identity):
  """Whether a ticket's stored identity is that of this run."""
  return stored is not None and not differences(stored, identity)


def check_ticket_data(ticket_infos, data_identity):
  """Raises RunMismatchError if a ticket was evaluated on other test data.

  Args:
    ticket_infos: {ticket path: its ticket.json}.
    data_identity: {split name: identity} of this evaluation.
  """
  for path, info in ticket_infos.items():
    recorded = (info.get('run_identity') or {}).get('data')
    if not recorded or 'test' not in recorded:
      continue  # A ticket written before data were recorded.
    lines = data_differences({'test': recorded['test']},
                             {'test': data_identity.get('test')},
                             sources_only=True, stored_in='the ticket')
    if lines:
      raise RunMismatchError(
          f'{path} was trained and evaluated on other test data than this '
          f'evaluation has; its ensemble would mix two test sets. Pass the '
          f'test data the ticket recorded. ' + '; '.join(lines))
