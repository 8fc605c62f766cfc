r"""Evaluates ImageNet tickets as an ensemble (as UB's ensemble.py).

Each ticket directory (with ticket.json) is rebuilt from its own model spec
(ResNet depth, width, input size); its image size is adopted, a flag that
contradicts the tickets is an error. The ensemble's UB metrics (and
ImageNet-C with --corruptions_interval > 0, ImageNet-A with
--eval_on_imagenet_a) go to output_dir/summaries and metrics.json.

  python baselines/imagenet/ensemble.py --data_dir=gs://bucket/tfds \
      --checkpoint_dirs=gs://bucket/edst/tickets/ticket_0,gs://bucket/edst/tickets/ticket_1 \
      --output_dir=gs://bucket/edst_ensemble
"""

from absl import app
from absl import flags

from baselines.artifacts import ticket_store
from baselines.evaluation import run_results
from baselines.methods import common_flags
from baselines.methods import ensemble_inputs
from baselines.methods import experiment
from baselines.methods import registry
from baselines.methods import tasks

common_flags.define_imagenet_flags()
common_flags.define_ensemble_flags('ticket directories')
# --help lists every flag the binary uses, not only those defined here.
flags.adopt_module_key_flags(common_flags)
FLAGS = flags.FLAGS

# Flags a ticket's model spec sets (ticket field, flag).
_SPEC_FLAGS = (('depth', 'resnet_depth'),
               ('width_multiplier', 'resnet_base_width'))


def adopt_ticket_flags(f, specs):
  """Sets the ResNet and image-size flags from the tickets' specs.

  Raises:
    ValueError: on a member that is not a ticket, or a flag given on the
      command line that contradicts the tickets.
  """
  not_tickets = [p for p in f.checkpoint_dirs if p not in specs]
  if not_tickets:
    raise ValueError(f'not ticket directories (no ticket.json): '
                     f'{not_tickets}')
  ensemble_inputs.adopt_spec_flags(f, specs, _SPEC_FLAGS)
  sizes = {s.input_shape[0] for s in specs.values()}
  if f['image_size'].present and sizes != {f.image_size}:
    raise ValueError(f'--image_size={f.image_size} contradicts the tickets '
                     f'({sorted(sizes)}); leave it unset.')
  f.image_size = sizes.pop()


@experiment.cli_main
def main(argv):
  del argv
  specs = ensemble_inputs.checkpoint_specs(FLAGS)
  try:
    adopt_ticket_flags(FLAGS, specs)
  except ValueError as e:
    raise app.UsageError(str(e)) from e
  exp = experiment.from_flags(
      FLAGS, registry.ENSEMBLE_EVALUATION, evaluate_only=True,
      task=tasks.IMAGENET,
      ticket_infos={path: ticket_store.load_info(path) for path in specs})
  members = []
  for path in FLAGS.checkpoint_dirs:
    with exp.strategy.scope():
      try:
        members.append(ticket_store.load_model(path))
      except ValueError as e:
        raise app.UsageError(str(e)) from e
  run_results.evaluate_members(exp, members, FLAGS.checkpoint_dirs)


if __name__ == '__main__':
  app.run(main)
