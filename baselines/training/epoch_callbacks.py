"""What runs after each trained epoch: summaries, the log line, trajectories.

An epoch-end callback is called as `callback(end)` with an `EpochEnd`,
after the epoch's metrics are in the run's history and before ticket
selection and the epoch's checkpoint; `on_train_begin()` (optional) runs
when training starts or resumes.
"""

import dataclasses
import time

from absl import logging
import tensorflow as tf

from baselines.artifacts import trajectory_points
from baselines.training import progress
from sparse_layers import phases as phases_lib


@dataclasses.dataclass(frozen=True)
class EpochEnd:
  """An epoch that has just been trained and evaluated.

  epoch: its number, counted from 1.
  started: its start (`time.time()`).
  last_learning_rate: the LR of its last step.
  """
  run: object  # The `loop.Run`.
  phase: phases_lib.Phase
  epoch: int
  results: dict
  started: float
  last_learning_rate: float


class Summaries:
  """Every metric of the epoch as a TensorBoard scalar at step `epoch`."""

  def __init__(self, writer):
    self.writer = writer

  def __call__(self, end):
    with self.writer.as_default():
      for key, value in end.results.items():
        tf.summary.scalar(key, value, step=end.epoch)


class LayerSparsity:
  """`sparsity/<layer>` (1 - the mask's mean) of every masked layer at an
  optimizer step where the hook may have changed the masks (every ΔT; GMP:
  every pruning step), as tfmot's `PruningSummaries` logs each mask's."""

  def __init__(self, writer, hook):
    self.writer = writer
    self.layers = hook.masked_layers

  def __call__(self, step):
    with self.writer.as_default():
      for layer in self.layers:
        tf.summary.scalar(f'sparsity/{layer.name}', 1.0 - layer.density,
                          step=step)


def layer_sparsity(writer, hook):
  """A `LayerSparsity` of the hook's layers; None without a hook."""
  return None if hook is None else LayerSparsity(writer, hook)


class EpochLog:
  """One log line per epoch: LR, sparsity, loss, accuracies, throughput,
  and the time left (`progress.EtaClock`)."""

  def __init__(self, method, total_epochs, images_per_epoch):
    self._method = method
    self._total_epochs = total_epochs
    self._images_per_epoch = images_per_epoch
    self._clock = progress.EtaClock()

  def on_train_begin(self):
    self._clock = progress.EtaClock()

  def __call__(self, end):
    now = time.time()
    results = end.results
    eta = self._clock.epoch_done(self._total_epochs - end.epoch, now)
    logging.info(
        '[%s] epoch %d/%d %s lr=%s sparsity=%.3f loss=%.3f train_acc=%.3f '
        'test_acc=%.3f test_nll=%.3f%s | %.0f img/s, ETA %s',
        self._method, end.epoch, self._total_epochs, end.phase.name,
        progress.format_learning_rate(results['train/learning_rate'],
                                      end.last_learning_rate),
        results['train/sparsity'],
        results['train/loss'], results['train/accuracy'],
        results['test/accuracy'], results['test/negative_log_likelihood'],
        ''.join(f' {name}={results[key]:.3f}' for name, key in (
            ('val_acc', 'validation/accuracy'),
            ('corrupted_acc', 'test/accuracy_mean_corrupted'))
                if key in results),
        self._images_per_epoch / max(now - end.started, 1e-9),
        progress.format_duration(eta))


class TrajectoryPoints:
  """Saves the test predictions every `interval` epochs (Figure 3)."""

  def __init__(self, output_dir, run_name, interval):
    self._output_dir = output_dir
    self._run_name = run_name
    self._interval = interval

  def __call__(self, end):
    if self._interval > 0 and end.epoch % self._interval == 0:
      probs, _ = end.run.test_predictions()
      trajectory_points.save_trajectory_point(
          self._output_dir, self._run_name, end.epoch, end.phase.name, probs)


def standard_callbacks(config, run_name, writer, total_epochs,
                       steps_per_epoch):
  """Every run's epoch-end callbacks: summaries, log line, trajectories."""
  return [Summaries(writer),
          EpochLog(config.method, total_epochs,
                   steps_per_epoch * config.global_batch_size),
          TrajectoryPoints(config.writes_to, run_name,
                           config.trajectory_interval)]
