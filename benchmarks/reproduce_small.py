r"""Small-scale reproduction: our binaries beside the authors' figures.

The protocol of the side-by-side study: a CIFAR-10 subset of 800
training and 200 test images per class, drawn with a fixed seed from the
real data set; the first 2000 images of the CIFAR-100 sample as OOD data; a
WRN-10-2 with batch 128, seeds 0, 1 and 2:
  - dense: 10 epochs (LR / 10 at 50% and 75%);
  - EDST: S = 0.8, M = 3, t_ex = 6, t_re = 4, ΔT = 50, p = 0.5, q = 0.8;
  - DST Ensemble: M = 3 members of 10 epochs, S = 0.8, ΔT = 50.
Each run is one of our binaries in its own process (log in its output
directory). A finished run (its metrics.json written) is skipped and an
unfinished one resumes from its checkpoint, so the script can be stopped
and started again. The table (mean ± std over seeds, with the authors'
figures beside ours) goes to `WORK_DIR/runs/TAG/table.md` and stdout.

  nohup python -m benchmarks.reproduce_small \
      --data_root=../shared/data --work_dir=/tmp/reproduce_small \
      > /tmp/reproduce_small.log 2>&1 &

`--extra_flags` passes flags to every binary (e.g.
`--extra_flags=--inactive_gradient=zero --tag=rigl_momentum` measures an
alternative); a tag's runs always use the flags it was started with.
"""

import json
import os
import platform
import subprocess
import sys
import time

from absl import app
from absl import flags
from absl import logging
import numpy as np

flags.DEFINE_string('data_root', '../shared/data',
                    'Folder with cifar10/cifar10_{train,test}.npz and '
                    'cifar100_sample/cifar100_sample10k.npz.')
flags.DEFINE_string('work_dir', '/tmp/reproduce_small',
                    'Data subsets, runs and the table go here.')
flags.DEFINE_string('tag', 'default', 'Name of this set of runs.')
flags.DEFINE_list('methods', ['dense', 'edst', 'dst'], 'Methods to run.')
flags.DEFINE_list('seeds', ['0', '1', '2'], 'Seeds.')
flags.DEFINE_list('extra_flags', [], 'Flags passed to every binary.')
flags.DEFINE_integer('parallel', 1, 'Runs at a time.')
FLAGS = flags.FLAGS

DATA_SEED = 20261126
TRAIN_PER_CLASS, TEST_PER_CLASS, OOD_EXAMPLES = 800, 200, 2000

COMMON = ['--depth=10', '--width_multiplier=2', '--checkpoint_interval=1',
          '--eval_on_ood']
METHODS = {
    'dense': ('baselines.cifar.deterministic', ['--train_epochs=10']),
    'edst': ('baselines.cifar.edst', [
        '--sparsity=0.8', '--ensemble_size=3', '--exploration_epochs=6',
        '--refinement_epochs=4', '--update_interval=50',
        '--drop_fraction=0.5', '--reexploration_fraction=0.8']),
    'dst': ('baselines.cifar.dst_ensemble', [
        '--sparsity=0.8', '--ensemble_size=3', '--train_epochs=10',
        '--update_interval=50']),
}
# The authors' code (VITA-Group/FreeTickets: their Masking and training
# loops, end-of-phase tickets, no validation split) on this protocol, mean
# over seeds 0-2 (docs/reproduction.md).
AUTHORS = {
    'dense': dict(acc=0.598, nll=1.103, ece=0.030, ood_auroc=0.664),
    'edst': dict(acc=0.585, nll=1.147, ece=0.044, members_acc=0.580,
                 disagreement=0.129, ood_auroc=0.657),
    'dst': dict(acc=0.552, nll=1.226, ece=0.052, members_acc=0.543,
                disagreement=0.205, ood_auroc=0.643),
}
# The study's tolerance: each mean this close to the authors'.
TOLERANCE = dict(acc=0.015, nll=0.04, disagreement=0.02)
COLUMNS = (('acc', 'ens. acc'), ('nll', 'ens. NLL'), ('ece', 'ens. ECE'),
           ('members_acc', "members' acc"), ('disagreement', 'disagreement'),
           ('ood_auroc', 'OOD AUROC'))


def make_data(data_root, directory):
  """Writes train / test / ood npz files of the protocol; returns paths."""
  paths = {name: os.path.join(directory, f'{name}.npz')
           for name in ('train', 'test', 'ood')}
  if all(os.path.exists(p) for p in paths.values()):
    return paths
  os.makedirs(directory, exist_ok=True)
  rng = np.random.default_rng(DATA_SEED)
  for split, per_class in (('train', TRAIN_PER_CLASS),
                           ('test', TEST_PER_CLASS)):
    with np.load(os.path.join(data_root, 'cifar10',
                              f'cifar10_{split}.npz')) as arrays:
      x, y = arrays['x'], arrays['y']
    idx = np.concatenate([rng.choice(np.flatnonzero(y == c), per_class,
                                     replace=False) for c in range(10)])
    rng.shuffle(idx)
    np.savez(paths[split], x=x[idx], y=y[idx])
  with np.load(os.path.join(data_root, 'cifar100_sample',
                            'cifar100_sample10k.npz')) as arrays:
    np.savez(paths['ood'], x=arrays['x'][:OOD_EXAMPLES],
             y=arrays['y'][:OOD_EXAMPLES])
  return paths


def run_command(method, seed, data_paths, output_dir, extra_flags):
  module, method_flags = METHODS[method]
  return [sys.executable, '-m', module, *COMMON, *method_flags,
          f'--seed={seed}', f'--train_npz={data_paths["train"]}',
          f'--test_npz={data_paths["test"]}',
          f'--ood_npz=cifar100={data_paths["ood"]}',
          f'--output_dir={output_dir}', *extra_flags]


def summarize(metrics):
  """The table's columns from one run's metrics.json."""
  m = metrics['metrics']
  members = [v for k, v in m.items() if k.startswith('test/accuracy_member_')]
  row = dict(acc=m['test/accuracy'], nll=m['test/negative_log_likelihood'],
             ece=m['test/ece'], ood_auroc=m.get('ood/cifar100_auroc'))
  if len(members) > 1:
    row['members_acc'] = float(np.mean(members))
    row['disagreement'] = m['test/diversity/disagreement']
  return row


def table(rows_by_method, wall_times):
  """Markdown: ours (mean ± std over seeds) beside the authors' means."""
  lines = ['| method | seeds | ' + ' | '.join(
      f'{title} (ours / authors)' for _, title in COLUMNS) + ' | within |',
           '| --- ' * (len(COLUMNS) + 3) + '|']
  for method, rows in rows_by_method.items():
    cells, ok = [], True
    for key, _ in COLUMNS:
      values = [r[key] for r in rows if r.get(key) is not None]
      theirs = AUTHORS[method].get(key)
      if not values:
        cells.append('—')
        continue
      mean = float(np.mean(values))
      cell = f'{mean:.3f} ± {float(np.std(values)):.3f}'
      if theirs is not None:
        cell += f' / {theirs:.3f}'
        if key in TOLERANCE and abs(mean - theirs) > TOLERANCE[key]:
          ok = False
          cell += ' ✗'
      cells.append(cell)
    lines.append(f'| {method} | {len(rows)} | ' + ' | '.join(cells) +
                 f' | {"yes" if ok else "no"} |')
  total = sum(wall_times.values())
  lines.append('')
  lines.append(f'Within: accuracy within {TOLERANCE["acc"]}, NLL within '
               f'{TOLERANCE["nll"]} and disagreement within '
               f'{TOLERANCE["disagreement"]} of the authors\' means. Wall '
               f'time of the runs: {total / 60:.1f} min on '
               f'{platform.processor() or platform.machine()}, '
               f'{os.cpu_count()} cores.')
  return '\n'.join(lines)


def check_study_flags(tag_dir, extra_flags):
  """A tag keeps the flags it started with: never mix two studies."""
  path = os.path.join(tag_dir, 'study.json')
  wanted = {'extra_flags': list(extra_flags), 'common': COMMON,
            'methods': {k: v[1] for k, v in METHODS.items()}}
  if os.path.exists(path):
    with open(path) as f:
      found = json.load(f)
    if found != wanted:
      raise app.UsageError(
          f'{tag_dir} holds runs with other flags ({found["extra_flags"]}); '
          f'use another --tag.')
  else:
    os.makedirs(tag_dir, exist_ok=True)
    with open(path, 'w') as f:
      json.dump(wanted, f, indent=1)


def main(argv):
  del argv
  unknown = sorted(set(FLAGS.methods) - set(METHODS))
  if unknown:
    raise app.UsageError(f'unknown --methods {unknown}; choose from '
                         f'{sorted(METHODS)}.')
  data_paths = make_data(FLAGS.data_root, os.path.join(FLAGS.work_dir,
                                                       'data'))
  tag_dir = os.path.join(FLAGS.work_dir, 'runs', FLAGS.tag)
  check_study_flags(tag_dir, FLAGS.extra_flags)
  jobs = [(method, int(seed)) for method in FLAGS.methods
          for seed in FLAGS.seeds]
  wall_path = os.path.join(tag_dir, 'wall_times.json')
  wall_times = {}
  if os.path.exists(wall_path):
    with open(wall_path) as f:
      wall_times = json.load(f)
  pending = [j for j in jobs if not os.path.exists(
      os.path.join(tag_dir, f'{j[0]}_seed{j[1]}', 'metrics.json'))]
  logging.info('%d of %d runs to do (%s)', len(pending), len(jobs), tag_dir)
  running = {}
  start, finished_here = time.time(), 0
  done = len(jobs) - len(pending)
  while pending or running:
    while pending and len(running) < FLAGS.parallel:
      method, seed = pending.pop(0)
      name = f'{method}_seed{seed}'
      out = os.path.join(tag_dir, name)
      os.makedirs(out, exist_ok=True)
      log = open(os.path.join(out, 'log.txt'), 'a')  # pylint: disable=consider-using-with
      process = subprocess.Popen(  # pylint: disable=consider-using-with
          run_command(method, seed, data_paths, out, FLAGS.extra_flags),
          stdout=log, stderr=subprocess.STDOUT)
      running[name] = (process, log, time.time())
      logging.info('started %s (log %s)', name, log.name)
    time.sleep(5)
    for name, (process, log, begun) in list(running.items()):
      if process.poll() is None:
        continue
      log.close()
      del running[name]
      # Every attempt counts, a failed one too (a rerun resumes from it).
      wall_times[name] = wall_times.get(name, 0.0) + time.time() - begun
      with open(wall_path, 'w') as f:
        json.dump(wall_times, f, indent=1)
      if process.returncode:
        raise RuntimeError(f'{name} failed (exit {process.returncode}); see '
                           f'{log.name}')
      done += 1
      finished_here += 1
      left = len(pending) + len(running)
      eta = (time.time() - start) / finished_here * left
      logging.info('finished %s in %.1f min (%d/%d done; ETA %.0f min)',
                   name, (time.time() - begun) / 60, done, len(jobs),
                   eta / 60)
  _write_table(tag_dir, jobs, wall_times)


def _write_table(tag_dir, jobs, wall_times):
  """The study's table (table.md beside the runs, and on stdout)."""
  rows = {}
  for method, seed in jobs:
    with open(os.path.join(tag_dir, f'{method}_seed{seed}',
                           'metrics.json')) as f:
      rows.setdefault(method, []).append(summarize(json.load(f)))
  text = table(rows, {k: v for k, v in wall_times.items()
                      if k.split('_seed')[0] in FLAGS.methods})
  with open(os.path.join(tag_dir, 'table.md'), 'w') as f:
    f.write(text + '\n')
  print(text)


if __name__ == '__main__':
  app.run(main)
