"""What ensemble.py evaluates: its members' model specs, and the flags
their tickets set (--dataset, and the model flags of plain checkpoints).
"""

import os

from absl import app
from absl import logging
import tensorflow as tf

from baselines.artifacts import ticket_store


def adopt_spec_flags(flag_values, specs, spec_flags):
  """Sets flags from the tickets' common model spec.

  Args:
    flag_values: parsed flags.
    specs: {path: ModelSpec} (`ensemble_specs`).
    spec_flags: (spec field, flag name) pairs.

  Returns:
    {flag name: value} set here.

  Raises:
    ValueError: if a flag given on the command line contradicts the
      tickets (never silently replaced).
  """
  set_here = {}
  if not specs:
    return set_here
  first = next(iter(specs.values()))
  for field, name in spec_flags:
    values = {getattr(s, field) for s in specs.values()}
    if flag_values[name].present and values != {flag_values[name].value}:
      raise ValueError(
          f'--{name}={flag_values[name].value} contradicts the tickets '
          f'({", ".join(map(str, sorted(values)))}); leave it unset.')
    if len(values) == 1 and flag_values[name].value != getattr(first, field):
      setattr(flag_values, name, getattr(first, field))
      set_here[name] = getattr(first, field)
  return set_here


def checkpoint_specs(flag_values):
  """{path: ModelSpec} of --checkpoint_dirs' tickets (ensemble.py).

  Raises:
    app.UsageError: if there is no member, or the tickets cannot form one
      ensemble.
  """
  f = flag_values
  if f.checkpoint_dir:
    if f.checkpoint_dirs:
      raise app.UsageError('give --checkpoint_dir or --checkpoint_dirs, not '
                           'both.')
    f.checkpoint_dirs = members_of_checkpoint_dir(f.checkpoint_dir)
    logging.info('--checkpoint_dir=%s: %d members: %s', f.checkpoint_dir,
                 len(f.checkpoint_dirs), ', '.join(f.checkpoint_dirs))
  if not f.checkpoint_dirs:
    raise app.UsageError('--checkpoint_dirs needs at least one member.')
  try:
    return ticket_store.ensemble_specs(f.checkpoint_dirs)
  except ValueError as e:
    raise app.UsageError(str(e)) from e


def members_of_checkpoint_dir(parent):
  """UB's --checkpoint_dir: one member per subdirectory of `parent`.

  Each subdirectory (in sorted order) gives the first directory, walking it
  top-down, that is a ticket (its directory) or holds checkpoints (the
  latest, as UB's `parse_checkpoint_dir`); subdirectories with neither are
  skipped.

  Raises:
    app.UsageError: if `parent` is not a directory or gives no member.
  """
  if not tf.io.gfile.isdir(parent):
    raise app.UsageError(f'--checkpoint_dir={parent}: not a directory.')
  members = []
  for name in sorted(tf.io.gfile.listdir(parent)):
    top = os.path.join(parent, name.rstrip('/'))
    if not tf.io.gfile.isdir(top):
      continue
    for path, _, names in tf.io.gfile.walk(top):
      if ticket_store.is_complete(path):
        members.append(path)
        break
      if any(n.endswith('.index') for n in names):
        members.append(tf.train.latest_checkpoint(path) or path)
        break
  if not members:
    raise app.UsageError(f'--checkpoint_dir={parent}: no subdirectory holds '
                         f'a ticket or a checkpoint.')
  return members
