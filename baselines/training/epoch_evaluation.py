"""Each epoch's test, validation and corrupted metrics, on the device.

The test predictions are computed once per epoch and shared by what keeps
them (a trajectory point, a ticket saved at the phase end); otherwise the
compiled evaluator sums the metrics on the device (`evaluate.Evaluator`).
"""

import time

from baselines.evaluation import evaluate


class EpochEvaluator:
  """Evaluates a run's model after each epoch."""

  def __init__(self, config, strategy, model, progress):
    """`progress` has `completed_epochs` (the run's trainer)."""
    self._config = config
    self._progress = progress
    self._evaluator = evaluate.Evaluator(
        model, strategy, config.global_batch_size, config.preprocessing,
        config.num_bins, config.jit_compile)
    self._test_predictions = None  # (epoch, probs, labels) of the last.

  def test_predictions(self):
    """(probs, labels) of the model on the test split at this epoch."""
    epoch = self._progress.completed_epochs
    if self._test_predictions is None or self._test_predictions[0] != epoch:
      self._test_predictions = (epoch,
                                *self.predict(self._config.test_split))
    return self._test_predictions[1:]

  def predict(self, split):
    """(probs, labels) of the model on `split`."""
    return self._evaluator.predictions(split)

  def keeps_trajectory_point(self):
    """Whether this epoch's test predictions are a trajectory point."""
    interval = self._config.trajectory_interval
    return interval > 0 and self._progress.completed_epochs % interval == 0

  def epoch_metrics(self, ends_in_ticket):
    """The epoch's test (validation, corrupted) metrics.

    The test predictions themselves are computed (and the metrics from
    them) only when they are kept: a trajectory point, or a ticket.
    """
    config = self._config
    results = {}
    start = time.time()
    if self.keeps_trajectory_point() or ends_in_ticket:
      probs, labels = self.test_predictions()
      results.update(evaluate.model_metrics(probs, labels, 'test/',
                                            config.num_bins))
    else:
      results.update(evaluate.prefixed(
          self._evaluator.metrics(config.test_split), 'test/'))
    results['test/ms_per_example'] = (1000.0 * (time.time() - start) /
                                      config.test_split.num_examples)
    interval = config.corruptions_interval
    if (interval > 0 and config.corrupted_splits and
        self._progress.completed_epochs % interval == 0):
      results.update(evaluate.corrupted_metrics(
          self._evaluator.metrics, config.corrupted_splits,
          config.corruption_benchmark))
    if config.validation_split is not None:
      results.update(evaluate.prefixed(
          self._evaluator.metrics(config.validation_split), 'validation/'))
    return results
