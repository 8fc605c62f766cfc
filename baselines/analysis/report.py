r"""Results tables from run directories, in the layout of the paper's Table 1.

  # Markdown on stdout; CSV and JSON files, sorted by accuracy; OOD tables.
  python -m baselines.analysis.report /tmp/runs/*
  python -m baselines.analysis.report RUN ... --csv=t.csv --json=t.json \
      --sort=acc
  python -m baselines.analysis.report RUN ... --ood  # AUROC / AUPRC per set

Each run directory holds the `metrics.json` a binary wrote. Runs whose
method and result-changing flags are equal but for `--seed` form one row:
mean ± sample standard deviation (numpy's std, ddof=1) over their seeds,
with the number of seeds. A directory named twice (a repeated argument,
overlapping globs, a symlink) counts once; two directories of the same
method, result flags and seed are refused, naming both (a copied run would
fake a second seed). Runs of different datasets go into different
tables. A metric a run lacks shows as a dash, never as 0. Markdown shows
accuracies in percent, as the paper; CSV and JSON hold the raw means and
stds.
"""

import csv
import glob
import io
import json
import os
import sys
from typing import List

from absl import app
from absl import flags
import numpy as np
import tensorflow as tf

from baselines.evaluation import method_cards
from baselines.runtime import files
from baselines.runtime import run_identity

FLAGS = flags.FLAGS

# Table 1's columns: (name, metrics.json section, key, shown in percent).
COLUMNS = (
    ('acc', 'metrics', 'test/accuracy', True),
    ('nll', 'metrics', 'test/negative_log_likelihood', False),
    ('ece', 'metrics', 'test/ece', False),
    ('cacc', 'metrics', 'test/accuracy_mean_corrupted', True),
    ('cnll', 'metrics', 'test/nll_mean_corrupted', False),
    ('cece', 'metrics', 'test/ece_mean_corrupted', False),
    ('flops', 'flops', 'train_flops_ratio', False),
    ('passes', 'flops', 'forward_passes', False),
)
# Table 3 (ImageNet) adds ImageNet-A after the corrupted columns.
IMAGENET_A_COLUMNS = (
    ('aacc', 'metrics', 'imagenet_a/accuracy', True),
    ('anll', 'metrics', 'imagenet_a/negative_log_likelihood', False),
    ('aece', 'metrics', 'imagenet_a/ece', False),
)
SORT_KEYS = ('method', 'm', 's', 'seeds') + tuple(
    c[0] for c in COLUMNS + IMAGENET_A_COLUMNS)
HEADERS = {'acc': 'Acc (%)', 'nll': 'NLL', 'ece': 'ECE', 'cacc': 'cAcc (%)',
           'cnll': 'cNLL', 'cece': 'cECE', 'aacc': 'aAcc (%)',
           'anll': 'aNLL', 'aece': 'aECE',
           'flops': 'Training FLOPs (× dense)',
           'passes': '# Forward passes'}
_WHOLE_NUMBERS = ('passes',)
OOD_METRICS = ('auroc', 'auprc')
DASH = '—'

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


def differing_flags(runs, ignore=()):
  """Result flags (but `ignore`) whose values differ between the runs."""
  flag_dicts = [run['flags'] for run in runs]
  keys = set().union(*(run_identity.stored_result_flags(run, ignore)
                       for run in runs))
  return sorted(key for key in keys
                if len({json.dumps(d.get(key)) for d in flag_dicts}) > 1)


def _ticket_dataset(run):
  """The dataset in the run's tickets' model spec (ImageNet binaries have
  no --dataset flag)."""
  for info in run.get('tickets') or []:
    dataset = (info.get('model') or {}).get('dataset')
    if dataset:
      return dataset
  return 'unknown'


def group_runs(runs):
  """{dataset: [[runs of one configuration], ...]} (seeds grouped)."""
  by_dataset = {}
  for run in runs:
    dataset = run['flags'].get('dataset') or _ticket_dataset(run)
    groups = by_dataset.setdefault(dataset, {})
    groups.setdefault(configuration(run), []).append(run)
  return {d: list(groups.values()) for d, groups in sorted(by_dataset.items())}


def _stats(values):
  """(mean, std or None, n) of the present values; None mean if none."""
  values = [float(v) for v in values if v is not None]
  if not values:
    return None, None, 0
  std = float(np.std(values, ddof=1)) if len(values) > 1 else None
  return float(np.mean(values)), std, len(values)


def _differing_flags(groups):
  """Flags (but M, S, seed) whose values differ between rows of a method."""
  by_method = {}
  for group in groups:
    by_method.setdefault(group[0]['method'], []).append(group[0])
  return sorted({name for runs in by_method.values()
                 for name in differing_flags(
                     runs, ('seed', 'sparsity', 'ensemble_size'))})


def _method_label(run, differing):
  flag_values = run['flags']
  name = method_cards.label(run['method'], flag_values.get('ensemble_size', 1))
  extra = [f'{k}={flag_values[k]}' for k in differing if k in flag_values]
  return name + (f' ({", ".join(extra)})' if extra else '')


def _row_header(group, differing):
  """A row's label, M, S (None for dense: a dash, as in the paper), seed
  count and directories."""
  first = group[0]
  return {'method': _method_label(first, differing),
          'm': first['flags'].get('ensemble_size', 1),
          's': (first['flags'].get('sparsity')
                if _is_sparse(first['method']) else None),
          'seeds': len(group),
          'directories': [r['directory'] for r in group]}


def _is_sparse(method):
  card = method_cards.card(method)
  return card is None or card.sparse


def table_columns(dataset):
  """Table 1's columns; Table 3's (with ImageNet-A) for imagenet2012."""
  if dataset != 'imagenet2012':
    return COLUMNS
  return COLUMNS[:6] + IMAGENET_A_COLUMNS + COLUMNS[6:]


def table_rows(groups, columns=COLUMNS):
  """Rows of one dataset's Table 1: label, M, S, seeds, {column: stats}."""
  differing = _differing_flags(groups)
  rows = []
  for group in groups:
    row = _row_header(group, differing)
    for name, section, key, _ in columns:
      mean, std, n = _stats([r.get(section, {}).get(key) for r in group])
      row[name] = {'mean': mean, 'std': std, 'n': n}
    rows.append(row)
  return rows


def ood_rows(groups):
  """Rows of one dataset's OOD table: label, M, S, seeds, {set_metric}."""
  differing = _differing_flags(groups)
  names = sorted({key[len('ood/'):].rsplit('_', 1)[0]
                  for group in groups for run in group
                  for key in run['metrics'] if key.startswith('ood/') and
                  key.rsplit('_', 1)[1] in OOD_METRICS})
  rows = []
  for group in groups:
    row = _row_header(group, differing)
    for name in names:
      for metric in OOD_METRICS:
        mean, std, n = _stats([r['metrics'].get(f'ood/{name}_{metric}')
                               for r in group])
        row[f'{name}/{metric}'] = {'mean': mean, 'std': std, 'n': n}
    rows.append(row)
  return rows, [f'{n}/{m}' for n in names for m in OOD_METRICS]


def sort_rows(rows, key):
  """Rows by `key`: text and plain numbers as they are, stats by mean;
  missing values last."""

  def sort_key(row):
    value = row.get(key)
    if isinstance(value, dict):
      value = value['mean']
    return (value is None, value if value is not None else 0)

  return sorted(rows, key=sort_key)


def _cell(stats, percent=False, whole=False):
  if stats['mean'] is None:
    return DASH
  if whole and stats['std'] is None:
    return f'{stats["mean"]:g}'
  scale = 100.0 if percent else 1.0
  digits = 2 if percent else 3
  text = f'{stats["mean"] * scale:.{digits}f}'
  if stats['std'] is not None:
    text += f' ± {stats["std"] * scale:.{digits}f}'
  return text


def markdown(dataset, rows, columns, percent_columns=()):
  """One dataset's table as Markdown."""
  header = ['Method', 'M', 'S'] + [HEADERS.get(c, c) for c in columns] + [
      'seeds']
  lines = [f'### {dataset}', '',
           '| ' + ' | '.join(header) + ' |',
           '|' + ' --- |' * len(header)]
  for row in rows:
    cells = [row['method'], str(row['m']),
             DASH if row['s'] is None else f'{row["s"]:g}']
    cells += [_cell(row[c], c in percent_columns, c in _WHOLE_NUMBERS)
              for c in columns]
    cells.append(str(row['seeds']))
    lines.append('| ' + ' | '.join(cells) + ' |')
  return '\n'.join(lines)


def build_tables(directories, ood=False, sort='method'):
  """{dataset: (rows, columns, percent columns)} of the runs."""
  runs = load_runs(directories)
  tables = {}
  for dataset, groups in group_runs(runs).items():
    if ood:
      rows, columns = ood_rows(groups)
      percent = ()
    else:
      spec = table_columns(dataset)
      rows = table_rows(groups, spec)
      columns = [c[0] for c in spec]
      percent = [c[0] for c in spec if c[3]]
    tables[dataset] = (sort_rows(rows, sort), columns, percent)
  return tables


def write_csv(path, tables):
  text = io.StringIO(newline='')
  writer = csv.writer(text)
  for dataset, (rows, columns, _) in tables.items():
    writer.writerow(['dataset', 'method', 'M', 'S', 'seeds'] + [
        f'{c}_{part}' for c in columns for part in ('mean', 'std')])
    for row in rows:
      writer.writerow([dataset, row['method'], row['m'],
                       '' if row['s'] is None else row['s'], row['seeds']]
                      + [('' if row[c][part] is None else row[c][part])
                         for c in columns for part in ('mean', 'std')])
  files.write_text(path, text.getvalue())


def write_json(path, tables):
  payload = {dataset: [{k: v for k, v in row.items()} for row in rows]
             for dataset, (rows, _, _) in tables.items()}
  files.write_text(path, json.dumps(payload, indent=1, sort_keys=True))


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


def main(argv):
  if len(argv) < 2:
    raise app.UsageError('give one or more run directories (or globs).')
  try:
    tables = build_tables(expand(argv[1:]), FLAGS.ood, FLAGS.sort)
  except ReportError as e:
    sys.exit(f'error: {e}')
  print('\n\n'.join(markdown(d, rows, columns, percent) for d, (
      rows, columns, percent) in tables.items()))
  if FLAGS.csv:
    write_csv(FLAGS.csv, tables)
  if FLAGS.json:
    write_json(FLAGS.json, tables)


def define_flags():
  """The command line's flags (not defined on import: baselines.analysis.sweep
  imports this module's functions only)."""
  flags.DEFINE_string('csv', None, 'Also write the table(s) as CSV here.')
  flags.DEFINE_string('json', None, 'Also write the table(s) as JSON here.')
  flags.DEFINE_enum('sort', 'method', SORT_KEYS,
                    'Column to sort rows by (numeric columns by their mean; '
                    'missing values last).')
  flags.DEFINE_bool('ood', False,
                    'Tabulate OOD detection (AUROC, AUPRC per OOD set) '
                    'instead of Table 1.')


if __name__ == '__main__':
  define_flags()
  app.run(main)
