r"""Evaluates saved tickets or checkpoints (dense or sparse) as an ensemble.

Like UB's ensemble.py: each member is restored into a WRN of the flags'
depth / width / dataset, predicts the test set, and the ensemble's UB metrics
(ensemble NLL / accuracy / ECE, per-member metrics, diversity; CIFAR-10-C with
--corruptions_interval > 0; OOD with --eval_on_ood) go to
output_dir/summaries and output_dir/metrics.json. A member is a ticket
directory, a checkpoint directory or a checkpoint prefix; masks in a
checkpoint are used, and dense checkpoints load into the dense model.

  python baselines/cifar/ensemble.py --checkpoint_dirs=/tmp/edst/tickets/ticket_0,/tmp/edst/tickets/ticket_1 \
      --output_dir=/tmp/edst_ensemble
"""

from absl import app
from absl import flags
from absl import logging

from baselines import common_flags
from baselines import evaluation
from baselines import experiment
from baselines import reporting
from baselines import tickets

common_flags.define_common_flags()
flags.DEFINE_list('checkpoint_dirs', [],
                  'Members: ticket dirs, checkpoint dirs or prefixes.')
FLAGS = flags.FLAGS


def restore_member(exp, path):
  """A masked model restored from `path`, else a dense one."""
  errors = []
  for masked in (True, False):
    with exp.strategy.scope():
      model = exp.model_fn(masked=masked, seed=0, draw_masks=False)()
    try:
      tickets.restore_model(path, model)
      return model
    except ValueError as e:
      errors.append(str(e))
  raise ValueError(f'cannot restore member {path}: {errors[-1]}')


@experiment.cli_main
def main(argv):
  del argv
  f = FLAGS
  if not f.checkpoint_dirs:
    raise app.UsageError('--checkpoint_dirs needs at least one member.')
  exp = experiment.Experiment.from_flags(f, 'ensemble')
  try:
    members = [restore_member(exp, path) for path in f.checkpoint_dirs]
  except ValueError as e:
    raise app.UsageError(str(e)) from e
  predictions = [evaluation.predict(m, exp.config.test_split,
                                    exp.config.global_batch_size,
                                    exp.config.preprocessing)
                 for m in members]
  results = reporting.evaluate_ensemble(exp, [p for p, _ in predictions],
                                        predictions[0][1], lambda: members)
  reporting.write_results(exp, results, {'members': list(f.checkpoint_dirs)},
                          step=1)
  logging.info('ensemble of %d: test accuracy %.4f, NLL %.4f, ECE %.4f',
               len(members), results['test/accuracy'],
               results['test/negative_log_likelihood'], results['test/ece'])


if __name__ == '__main__':
  app.run(main)
