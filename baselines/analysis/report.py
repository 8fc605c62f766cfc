r"""Results tables from run directories, in the layout of the paper's Table 1.

  # Markdown on stdout; CSV and JSON files, sorted by accuracy; OOD tables.
  python -m baselines.analysis.report /tmp/runs/*
  python -m baselines.analysis.report RUN ... --csv=t.csv --json=t.json \
      --sort=acc
  python -m baselines.analysis.report RUN ... --ood  # AUROC / AUPRC per set
  python -m baselines.analysis.report RUN ... --diversity  # Table 5

Each run directory holds the `metrics.json` a binary wrote. Runs whose
method and result-changing flags are equal but for `--seed` form one row:
mean ± sample standard deviation (numpy's std, ddof=1) over their seeds,
with the number of seeds. A directory named twice (a repeated argument,
overlapping globs, a symlink) counts once; two directories of the same
method, result flags and seed are refused, naming both (a copied run would
fake a second seed). Runs of different datasets go into different
tables. A metric a run lacks shows as a dash, never as 0. Markdown shows
accuracies in percent, as the paper; CSV and JSON hold the raw means and
stds. Training FLOPs are relative to one dense run of D epochs: a table's
runs must share their stored D, or `--dense_epochs=D` rescales them.
"""

import csv
import io
import json
import sys

from absl import app
from absl import flags
import numpy as np

from baselines.analysis import finished_runs
from baselines.evaluation import method_cards
from baselines.runtime import files

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
# Table 5: the members' function diversity.
DIVERSITY_COLUMNS = (
    ('d_dis', 'metrics', 'test/diversity/disagreement', False),
    ('d_kl', 'metrics', 'test/diversity/average_kl', False),
)
# Table 3 (ImageNet) adds ImageNet-A after the corrupted columns.
IMAGENET_A_COLUMNS = (
    ('aacc', 'metrics', 'imagenet_a/accuracy', True),
    ('anll', 'metrics', 'imagenet_a/negative_log_likelihood', False),
    ('aece', 'metrics', 'imagenet_a/ece', False),
)
SORT_KEYS = ('method', 'm', 's', 'seeds') + tuple(
    c[0] for c in COLUMNS + IMAGENET_A_COLUMNS + DIVERSITY_COLUMNS)
HEADERS = {'acc': 'Acc (%)', 'nll': 'NLL', 'ece': 'ECE', 'cacc': 'cAcc (%)',
           'cnll': 'cNLL', 'cece': 'cECE', 'aacc': 'aAcc (%)',
           'anll': 'aNLL', 'aece': 'aECE', 'd_dis': 'd_dis (↑)',
           'd_kl': 'd_KL (↑)',
           'flops': 'Training FLOPs (× dense)',
           'passes': '# Forward passes'}
_WHOLE_NUMBERS = ('passes',)
OOD_METRICS = ('auroc', 'auprc')
DASH = '—'

# What `build_tables` raises on runs it cannot read or put in one table.
ReportError = finished_runs.ReportError


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
    groups.setdefault(finished_runs.configuration(run), []).append(run)
  return {d: list(groups.values()) for d, groups in sorted(by_dataset.items())}


def _stats(values):
  """(mean, std or None, n) of the present values; None mean if none."""
  values = [float(v) for v in values if v is not None]
  if not values:
    return None, None, 0
  std = float(np.std(values, ddof=1)) if len(values) > 1 else None
  return float(np.mean(values)), std, len(values)


def _differing_flags(groups):
  """Flags (but M, S, seed and those the label shows) whose values differ
  between rows of a method."""
  by_method = {}
  for group in groups:
    by_method.setdefault(group[0]['method'], []).append(group[0])
  shown = ('seed', 'sparsity', 'ensemble_size', 'parameter_exploration')
  names = set()
  for runs in by_method.values():
    # Exploration flags are compared between runs that explore only.
    names.update(finished_runs.differing_flags(
        runs, shown + method_cards.EXPLORATION_FLAGS))
    names.update(finished_runs.differing_flags(
        [r for r in runs if finished_runs.explores_parameters(r)],
        shown))
  return sorted(names)


def _method_label(run, differing, ablation=False):
  """The card's label (Table 5's with `ablation`), then differing flags."""
  flag_values = run['flags']
  name = method_cards.label(
      run['method'], flag_values.get('ensemble_size', 1),
      finished_runs.explores_parameters(run), ablation)
  extra = [f'{k}={flag_values[k]}' for k in differing if k in flag_values]
  return name + (f' ({", ".join(extra)})' if extra else '')


def _row_header(group, differing, ablation=False):
  """A row's label, M, S (None for dense: a dash, as in the paper), seed
  count, directories and D (of its training FLOPs, if known)."""
  first = group[0]
  return {'method': _method_label(first, differing, ablation),
          'm': first['flags'].get('ensemble_size', 1),
          's': (first['flags'].get('sparsity')
                if _is_sparse(first['method']) else None),
          'seeds': len(group),
          'directories': [r['directory'] for r in group],
          'dense_epochs': (first.get('flops') or {}).get('dense_epochs')}


def _is_sparse(method):
  card = method_cards.card(method)
  return card is None or card.sparse


def table_columns(dataset):
  """Table 1's columns; Table 3's (with ImageNet-A) for imagenet2012."""
  if dataset != 'imagenet2012':
    return COLUMNS
  return COLUMNS[:6] + IMAGENET_A_COLUMNS + COLUMNS[6:]


def table_rows(groups, columns=COLUMNS, ablation=False):
  """Rows of one dataset's Table 1 (or, with `ablation`, Table 5's labels):
  label, M, S, seeds, {column: stats}."""
  differing = _differing_flags(groups)
  rows = []
  for group in groups:
    row = _row_header(group, differing, ablation)
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
  """One dataset's table as Markdown (the FLOPs header names D)."""
  references = {row.get('dense_epochs') for row in rows}
  headers = dict(HEADERS)
  if len(references) == 1 and None not in references:
    headers['flops'] = f'Training FLOPs (× dense, D = {references.pop()})'
  header = ['Method', 'M', 'S'] + [headers.get(c, c) for c in columns] + [
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


def with_dense_reference(runs, dense_epochs=None):
  """`runs` (of one table) with one dense reference D for training FLOPs.

  With `dense_epochs`, each stored ratio is rescaled to it (ratio × stored D
  / D). Without, the runs must share one stored D: ratios against
  different dense references are never averaged or set side by side.

  Raises:
    ReportError: naming the directories of each D, or a run whose D is
      unknown when rescaling.
  """
  by_reference = {}
  for run in runs:
    stored = (run.get('flops') or {}).get('dense_epochs')
    by_reference.setdefault(stored, []).append(run['directory'])
  if dense_epochs is None:
    if len(set(by_reference) - {None}) > 1:
      raise ReportError(
          'training FLOPs of these runs are relative to different dense '
          'references: ' + '; '.join(
              f'D = {d}: {", ".join(dirs)}'
              for d, dirs in sorted(by_reference.items()) if d is not None)
          + '. Pass --dense_epochs=D to rescale them to one D.')
    return runs
  if None in by_reference:
    raise ReportError(f'{by_reference[None][0]}: its metrics.json does not '
                      f'say which dense reference its training FLOPs are '
                      f'relative to; leave out --dense_epochs.')
  for run in runs:
    flops = run['flops']
    run['flops'] = {**flops, 'dense_epochs': dense_epochs,
                    'train_flops_ratio': method_cards.rescaled_ratio(
                        flops['train_flops_ratio'], flops['dense_epochs'],
                        dense_epochs)}
  return runs


def build_tables(directories, ood=False, sort='method', dense_epochs=None,
                 diversity=False):
  """{dataset: (rows, columns, percent columns)} of the runs: Table 1 (3 on
  ImageNet), OOD (Tables 6, 7) or `diversity` (Table 5); training FLOPs
  against one dense reference per table (`with_dense_reference`)."""
  runs = finished_runs.load_runs(directories)
  tables = {}
  for dataset, groups in group_runs(runs).items():
    with_dense_reference([run for group in groups for run in group],
                         dense_epochs)
    if ood:
      rows, columns = ood_rows(groups)
      percent = ()
    elif diversity:
      rows = table_rows(groups, DIVERSITY_COLUMNS, ablation=True)
      columns, percent = [c[0] for c in DIVERSITY_COLUMNS], ()
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


def main(argv):
  if len(argv) < 2:
    raise app.UsageError('give one or more run directories (or globs).')
  try:
    if FLAGS.ood and FLAGS.diversity:
      raise ReportError('--ood and --diversity are two tables; pick one.')
    tables = build_tables(finished_runs.expand(argv[1:]), FLAGS.ood,
                          FLAGS.sort, FLAGS.dense_epochs, FLAGS.diversity)
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
  flags.DEFINE_integer(
      'dense_epochs', None,
      'Rescale every training FLOPs ratio to one dense run of D epochs '
      '(ratio × the run\'s D / D); default: each run\'s own D, which must '
      'then be the same for all runs of a table.')
  flags.DEFINE_bool('ood', False,
                    'Tabulate OOD detection (AUROC, AUPRC per OOD set) '
                    'instead of Table 1.')
  flags.DEFINE_bool('diversity', False,
                    "Tabulate Table 5 instead of Table 1: the members' "
                    'prediction disagreement d_dis and mean pairwise KL '
                    'd_KL; the Static Sparse Ensemble is labelled, as '
                    'there, DST Ensemble (w/o Parameter Exploration).')


if __name__ == '__main__':
  define_flags()
  app.run(main)
