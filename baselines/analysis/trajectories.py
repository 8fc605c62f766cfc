r"""t-SNE of training trajectories in function space (paper Figure 3).

Reads the test-set softmax snapshots a run saved with
--trajectory_interval=N (output_dir/trajectories/<run>/epoch_*.npz), embeds
all snapshots of the given runs together with scikit-learn's t-SNE, and
draws one line per trajectory (an EDST run's single `run`, each DST member
`member_j`), coloured by phase (exploration, refinement_j, member_j), with
each phase's last point (where a ticket is taken) marked.

  python baselines/analysis/trajectories.py --run_dirs=/tmp/edst,/tmp/dst \
      --output=/tmp/trajectories.png
"""

import os
import sys

from absl import app
from absl import flags
import numpy as np
from sklearn import manifold
import tensorflow as tf

from baselines.analysis import plots
from baselines.artifacts import trajectory_points
from baselines.runtime import files

flags.DEFINE_list('run_dirs', [], 'Run directories with trajectories/.')
flags.DEFINE_string('output', None, 'The PNG to write.')
flags.DEFINE_integer('seed', 0, 't-SNE random state.')
flags.DEFINE_float('perplexity', 30.0,
                   't-SNE perplexity (capped below the number of points).')
flags.mark_flag_as_required('output')
FLAGS = flags.FLAGS


class TrajectoryError(ValueError):
  """No snapshots, or snapshots of different test sets."""


def load_trajectories(run_dirs):
  """[(label, [epochs], [phases], [N, K] probs per point)] in epoch order.

  Raises:
    TrajectoryError: naming the directory, if it has no snapshots, or if
      snapshots differ in shape (another test set).
  """
  trajectories = []
  for run_dir in run_dirs:
    runs = sorted(tf.io.gfile.glob(os.path.join(
        run_dir, trajectory_points.TRAJECTORIES_DIR, '*')))
    if not runs:
      raise TrajectoryError(
          f'{run_dir}: no {trajectory_points.TRAJECTORIES_DIR}/ (train with '
          f'--trajectory_interval=N).')
    for run in runs:
      points = sorted(tf.io.gfile.glob(os.path.join(run, 'epoch_*.npz')))
      if not points:
        continue
      epochs, phases, probs = [], [], []
      for path in points:
        snapshot = files.read_npz(path)
        epochs.append(int(snapshot['epoch']))
        phases.append(str(snapshot['phase']))
        probs.append(snapshot['probs'])
      label = f'{os.path.basename(os.path.normpath(run_dir))}/' \
              f'{os.path.basename(run)}'
      trajectories.append((label, epochs, phases, probs))
  shapes = {p.shape for _, _, _, probs in trajectories for p in probs}
  if len(shapes) > 1:
    raise TrajectoryError(f'snapshots of different test sets: shapes '
                          f'{sorted(shapes)}.')
  if sum(len(t[1]) for t in trajectories) < 3:
    raise TrajectoryError('t-SNE needs at least 3 snapshots in all.')
  return trajectories


def embed(trajectories, seed=0, perplexity=30.0):
  """2-D t-SNE coordinates of every snapshot, per trajectory."""
  stacked = np.concatenate([np.stack([p.ravel() for p in probs])
                            for _, _, _, probs in trajectories])
  perplexity = min(perplexity, (len(stacked) - 1) / 3.0)
  points = manifold.TSNE(n_components=2, perplexity=perplexity, init='pca',
                         random_state=seed).fit_transform(stacked)
  result, start = [], 0
  for _, epochs, _, _ in trajectories:
    result.append(points[start:start + len(epochs)])
    start += len(epochs)
  return result


def draw(trajectories, coordinates, path):
  """One line per trajectory, segments coloured by phase; phase ends
  (tickets) marked with stars."""
  fig, axes = plots.figure(7.0, 5.5)
  phases = sorted({p for _, _, ps, _ in trajectories for p in ps},
                  key=lambda p: (p != 'exploration', p))
  colours = {p: plots.pyplot.get_cmap('tab10')(i % 10)
             for i, p in enumerate(phases)}
  styles = ['-', '--', ':', '-.']
  for k, ((label, _, point_phases, _), xy) in enumerate(
      zip(trajectories, coordinates)):
    style = styles[k % len(styles)]
    axes.plot(xy[:, 0], xy[:, 1], style, color='0.7', linewidth=0.8,
              label=f'{label} (line {style})')
    for i in range(len(xy) - 1):
      axes.plot(xy[i:i + 2, 0], xy[i:i + 2, 1], style,
                color=colours[point_phases[i + 1]], linewidth=1.8)
    ends = [i for i in range(len(xy))
            if i == len(xy) - 1 or point_phases[i + 1] != point_phases[i]]
    axes.scatter(xy[:1, 0], xy[:1, 1], marker='o', s=60, color='black',
                 zorder=2)
    axes.scatter(xy[ends, 0], xy[ends, 1], marker='*', s=160,
                 c=[colours[point_phases[i]] for i in ends],
                 edgecolors='black', zorder=3)
  for phase in phases:
    axes.plot([], [], color=colours[phase], linewidth=2, label=phase)
  axes.scatter([], [], marker='o', s=60, color='black', label='start')
  axes.scatter([], [], marker='*', s=160, color='white', edgecolors='black',
               label='end of phase (ticket)')
  axes.set_xlabel('t-SNE dimension 1')
  axes.set_ylabel('t-SNE dimension 2')
  axes.set_title('Training trajectories (test softmax, t-SNE): ' +
                 ', '.join(sorted({t[0].split('/')[0] for t in trajectories})))
  axes.legend(fontsize=7, loc='best')
  return plots.save(fig, path)


def main(argv):
  del argv
  try:
    trajectories = load_trajectories(FLAGS.run_dirs)
  except TrajectoryError as e:
    sys.exit(f'error: {e}')
  coordinates = embed(trajectories, FLAGS.seed, FLAGS.perplexity)
  draw(trajectories, coordinates, FLAGS.output)
  print(f'wrote {FLAGS.output}: {sum(len(c) for c in coordinates)} '
        f'snapshots of {len(trajectories)} trajectories')


if __name__ == '__main__':
  app.run(main)
