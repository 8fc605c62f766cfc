"""Finished runs as the analysis tools read them: their metrics.json.

A directory named twice (a repeated argument, overlapping globs, a symlink)
counts once; two directories of the same method, result flags and seed are
refused, naming both (a copied run would fake a second seed). Runs are
compared by their result flags (`run_identity.stored_result_flags`).
"""

import glob
import json
import os
import sys
from typing import List

import tensorflow as tf

from baselines.runtime import files
from baselines.runtime import run_identity


class ReportError(ValueError):
  """A run directory cannot be read, or runs cannot share a table."""


def load_run(directory):
  """metrics.json of a run directory.

  Raises:
    ReportError: naming the directory, if it has no readable metrics.json.
  """
  path = os.path.join(directory, 'metrics.json')
  if not tf.io.gfile.exists(path) or tf.io.gfile.isdir(path):
    raise ReportError(f'{directory}: no metrics.json (not a finished run '
                      f'directory of these binaries).')
  try:
    run = files.read_json(path, 'Leave the directory out, or rerun its '
                          'binary with the same flags to rewrite it.')
  except files.FileError as e:
    raise ReportError(str(e)) from e
  if not isinstance(run.get('flags'), dict) or 'metrics' not in run:
    raise ReportError(f'{path}: lacks "metrics" or a "flags" dict (written '
                      f'by an older version?).')
  run['directory'] = directory
  return run


def _canonical(directory):
  """One name per directory: symlinks resolved (local), no trailing '/'."""
  if '://' in directory:
    return directory.rstrip('/')
  return os.path.realpath(directory)


def unique_directories(directories):
  """`directories` without repeats (of the same canonical directory)."""
  seen, unique = {}, []
  for directory in directories:
    key = _canonical(directory)
    if key in seen:
      print(f'note: {directory} is {seen[key]} again; counted once.',
            file=sys.stderr)
      continue
    seen[key] = directory
    unique.append(directory)
  return unique


def load_runs(directories):
  """metrics.json of each distinct directory.

  Raises:
    ReportError: for an unreadable directory, or two directories of the same
      method, result flags and seed (one is a copy of the other).
  """
  runs = [load_run(d) for d in unique_directories(directories)]
  first_of = {}
  for run in runs:
    key = configuration(run, ignore=())
    if key in first_of:
      raise ReportError(
          f'{first_of[key]["directory"]} and {run["directory"]} are runs of '
          f'the same method ({run["method"]}), result flags and seed '
          f'(--seed={run["flags"].get("seed")}): a copy or a rerun. '
          f'Counting both would fake a second seed; pass one of them.')
    first_of[key] = run
  return runs


def configuration(run, ignore=('seed',)):
  """What identifies a row: the method and the result flags but `ignore`."""
  return run['method'], json.dumps(
      run_identity.stored_result_flags(run, ignore), sort_keys=True)


def explores_parameters(run):
  """--parameter_exploration of the run (true for runs recorded before the
  flag existed, and for methods without it)."""
  return run_identity.stored_result_flags(run)['parameter_exploration']


def differing_flags(runs, ignore=()):
  """Result flags (but `ignore`) whose values differ between the runs."""
  flag_dicts = [run_identity.stored_result_flags(run, ignore) for run in runs]
  keys = set().union(*flag_dicts)
  return sorted(key for key in keys
                if len({json.dumps(d.get(key)) for d in flag_dicts}) > 1)


def expand(patterns: List[str]) -> List[str]:
  """Directories from arguments, globs expanded (a bare glob that matches
  nothing is an error)."""
  directories = []
  for pattern in patterns:
    matches = (sorted(tf.io.gfile.glob(pattern))
               if glob.has_magic(pattern) else [pattern])
    if not matches:
      raise ReportError(f'{pattern}: matches no directory.')
    directories += matches
  return directories
