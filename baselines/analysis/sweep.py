r"""Effect of sparsity S or ensemble size M (paper Figures 4 and 5).

Reads runs of one method that share everything but --sparsity (or
--ensemble_size) and the seed, and plots against S (or M): the ensemble's
test accuracy, each run's individual tickets (mean with min-max bars),
and, in a second panel, the tickets' mean pairwise KL divergence
(test/diversity/average_kl). Seeds of one S (M) are averaged.

Over M, runs may also differ in the flags M sets for their method
(`method_cards.set_by_ensemble_size`): EDST's --refinement_epochs, since
Figure 5 fixes EDST's total training time t_ex + M t_re (Section 5.5);
runs of one M must agree on them.

  python -m baselines.analysis.sweep /tmp/edst_s* --vary=sparsity \
      --output=/tmp/edst_sparsity.png
"""

import sys

from absl import app
from absl import flags
import numpy as np

from baselines.analysis import finished_runs
from baselines.analysis import plots
from baselines.evaluation import method_cards

flags.DEFINE_enum('vary', 'sparsity', ['sparsity', 'ensemble_size'],
                  'The flag the runs differ in (S or M).')
flags.DEFINE_string('output', None, 'The PNG to write.')
flags.mark_flag_as_required('output')
FLAGS = flags.FLAGS

_SYMBOL = {'sparsity': 'S', 'ensemble_size': 'M'}


def sweep_points(runs, vary):
  """{value of `vary`: dict of ensemble / ticket accuracies, KL}, by value.

  Raises:
    finished_runs.ReportError: if the runs differ in anything but `vary`,
      the flags it sets (over M) and the seed, or runs of one value differ
      in those flags (naming two directories that differ), or have no
      `vary` flag.
  """
  # Runs of other methods are refused below, so the first's card serves.
  follow = (method_cards.set_by_ensemble_size(runs[0]['method'])
            if vary == 'ensemble_size' else ())
  _check_one_configuration(runs, ('seed', vary) + follow, ', '.join(
      f'--{f}' for f in (vary,) + follow) + ' and the seed')
  for value in sorted({r['flags'].get(vary) for r in runs}, key=str):
    _check_one_configuration(
        [r for r in runs if r['flags'].get(vary) == value], ('seed', vary),
        f'the seed at one --{vary} ({value})')
  points = {}
  for run in runs:
    if vary not in run['flags']:
      raise finished_runs.ReportError(f'{run["directory"]}: no --{vary} flag.')
    point = points.setdefault(run['flags'][vary], {
        'ensemble': [], 'tickets': [], 'kl': [],
        'set': {f: run['flags'].get(f) for f in follow}})
    point['ensemble'].append(run['metrics']['test/accuracy'])
    point['tickets'] += [t['test/accuracy'] for t in run.get('tickets', [])]
    if 'test/diversity/average_kl' in run['metrics']:
      point['kl'].append(run['metrics']['test/diversity/average_kl'])
  return dict(sorted(points.items()))


def _check_one_configuration(runs, ignore, allowed):
  """Raises ReportError naming two of `runs` that differ in more than the
  `ignore` flags (`allowed` says which, for the message)."""
  first = runs[0]
  key = finished_runs.configuration(first, ignore)
  other = next((r for r in runs
                if finished_runs.configuration(r, ignore) != key), None)
  if other is not None:
    differ = finished_runs.differing_flags([first, other], ignore)
    raise finished_runs.ReportError(
        f'{first["directory"]} and {other["directory"]} differ in more than '
        f'{allowed}: method or {differ}.')


def draw(points, vary, names, path):
  x = np.array(list(points))
  fig, (top, bottom) = plots.pyplot.subplots(2, 1, figsize=(6.0, 6.5),
                                             sharex=True)
  ensemble = [np.mean(p['ensemble']) for p in points.values()]
  tickets = [p['tickets'] or [np.nan] for p in points.values()]
  mean = np.array([np.mean(t) for t in tickets])
  low = mean - np.array([np.min(t) for t in tickets])
  high = np.array([np.max(t) for t in tickets]) - mean
  top.plot(x, ensemble, 'o-', label='ensemble')
  top.errorbar(x, mean, yerr=[low, high], fmt='s--', capsize=3,
               label='individual tickets (mean, min-max)')
  top.set_ylabel('test accuracy')
  top.legend()
  top.set_title(f'Effect of {_SYMBOL[vary]}: ' + ', '.join(names))
  kl = [np.mean(p['kl']) if p['kl'] else np.nan for p in points.values()]
  bottom.plot(x, kl, 'o-', color='tab:red', label='mean pairwise KL')
  bottom.set_ylabel('KL divergence')
  bottom.set_xlabel(f'{_SYMBOL[vary]} (--{vary})')
  bottom.legend()
  return plots.save(fig, path)


def main(argv):
  if len(argv) < 2:
    raise app.UsageError('give two or more run directories (or globs).')
  try:
    runs = finished_runs.load_runs(finished_runs.expand(argv[1:]))
    if len({r['flags'].get('dataset') for r in runs}) > 1:
      raise finished_runs.ReportError('the runs are of different datasets: ' +
                               ', '.join(f'{r["directory"]}: '
                                         f'{r["flags"].get("dataset")}'
                                         for r in runs))
    points = sweep_points(runs, FLAGS.vary)
  except finished_runs.ReportError as e:
    sys.exit(f'error: {e}')
  names = sorted({method_cards.label(
      r['method'], 1, finished_runs.explores_parameters(r)) for r in runs})
  draw(points, FLAGS.vary, names, FLAGS.output)
  for value, point in points.items():
    tickets = np.mean(point['tickets']) if point['tickets'] else float('nan')
    print(f'{_SYMBOL[FLAGS.vary]} = {value}: ensemble '
          f'{np.mean(point["ensemble"]):.4f}, tickets {tickets:.4f}'
          + ''.join(f', --{k}={v}' for k, v in point['set'].items()))


if __name__ == '__main__':
  app.run(main)
