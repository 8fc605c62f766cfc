r"""Evaluates saved tickets or checkpoints (dense or sparse) as an ensemble.

Like UB's ensemble.py: each member predicts the test set, and the ensemble's
UB metrics (ensemble NLL / accuracy / ECE, Gibbs cross entropy, per-member
metrics, diversity; corrupted data with --corruptions_interval > 0; OOD with
--eval_on_ood) go to output_dir/summaries and output_dir/metrics.json.

A ticket directory (with ticket.json) is rebuilt from its own model spec
(architecture, depth, width, classes, input shape, dataset): no model flags
and no training data are needed, and the test set is that of the tickets'
dataset. Tickets of different datasets or input shapes are refused, and so
is a test set other than the one a ticket recorded (its file's size and
sha256, or its TFDS name, version and split). A plain
checkpoint directory or prefix is built from --depth / --width_multiplier /
--dataset; masks in a checkpoint are used, and dense checkpoints load into
the dense model.

  python baselines/cifar/ensemble.py --checkpoint_dirs=/tmp/edst/tickets/ticket_0,/tmp/edst/tickets/ticket_1 \
      --output_dir=/tmp/edst_ensemble
  # UB's form: one member per subdirectory.
  python baselines/cifar/ensemble.py --checkpoint_dir=/tmp/edst/tickets \
      --output_dir=/tmp/edst_ensemble
"""

from absl import app
from absl import flags
from absl import logging

from baselines.artifacts import ticket_store
from baselines.evaluation import run_results
from baselines.methods import common_flags
from baselines.methods import ensemble_inputs
from baselines.methods import experiment
from baselines.methods import registry

common_flags.define_common_flags()
common_flags.define_ensemble_flags('ticket dirs, checkpoint dirs or prefixes')
# --help lists every flag the binary uses, not only those defined here.
flags.adopt_module_key_flags(common_flags)
FLAGS = flags.FLAGS

# Flags a ticket's model spec replaces (ticket field, flag).
_SPEC_FLAGS = (('depth', 'depth'), ('width_multiplier', 'width_multiplier'),
               ('dataset', 'dataset'),
               ('preprocessing', 'cifar_preprocessing'))


def restore_member(exp, path, spec=None):
  """The member at `path`: from its ticket's spec, else from the flags
  (masked if the checkpoint has masks, else dense)."""
  errors = []
  candidates = ([spec] if spec else
                [exp.task.model_spec(exp.task_options, masked)
                 for masked in (True, False)])
  for candidate in candidates:
    with exp.strategy.scope():
      model = candidate.build()
    try:
      ticket_store.restore_model(path, model)
      return model
    except ValueError as e:
      errors.append(str(e))
  raise ValueError(f'cannot restore member {path}: {errors[-1]}')


@experiment.cli_main
def main(argv):
  del argv
  f = FLAGS
  specs = ensemble_inputs.checkpoint_specs(f)
  # Sets --dataset (and, for plain checkpoints, the model flags).
  try:
    adopted = ensemble_inputs.adopt_spec_flags(f, specs, _SPEC_FLAGS)
    for name, value in adopted.items():
      logging.info('--%s=%s from the tickets.', name, value)
  except ValueError as e:
    raise app.UsageError(str(e)) from e
  exp = experiment.from_flags(
      f, registry.ENSEMBLE_EVALUATION, evaluate_only=True,
      ticket_infos={path: ticket_store.load_info(path) for path in specs})
  try:
    members = [restore_member(exp, path, specs.get(path))
               for path in f.checkpoint_dirs]
  except ValueError as e:
    raise app.UsageError(str(e)) from e
  run_results.evaluate_members(exp, members, f.checkpoint_dirs)


if __name__ == '__main__':
  app.run(main)
