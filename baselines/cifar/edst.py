r"""EDST Ensemble (FreeTickets, Algorithm 1): M free tickets from one run.

A sparse Wide ResNet is trained with DST (RigL by default) through an
exploration phase at LR 0.1 (t_ex epochs), then M refinement phases of t_re
epochs at LR 0.01 / 0.001; each refinement ends in a ticket, and each but the
last is followed by a re-exploration that drops and regrows q of the active
weights.

  # Table 1, CIFAR-10 row "EDST Ensemble (M = 3) (S = 0.8)": 450 epochs.
  python baselines/cifar/edst.py --sparsity=0.8 --ensemble_size=3 \
      --output_dir=/tmp/edst --download_data
  # Row "(M = 7) (S = 0.9)": 850 epochs.
  python baselines/cifar/edst.py --sparsity=0.9 --ensemble_size=7
  # The whole pipeline on a WRN-10-1 and 4096 images, a minute on a CPU.
  python baselines/cifar/edst.py --quick --download_data --output_dir=/tmp/q
"""

from absl import app
from absl import flags

from baselines import common_flags
from baselines import experiment
from baselines import plans
from baselines import reporting
from baselines import tickets
from baselines import train_loop

common_flags.define_common_flags()
common_flags.define_sparsity_flags(sparsity=0.8)
common_flags.define_ensemble_size_flag(3)
flags.DEFINE_integer('exploration_epochs', 150, 't_ex: exploration epochs.')
flags.DEFINE_integer('refinement_epochs', 100, 't_re: epochs per refinement.')
flags.DEFINE_float('reexploration_fraction', 0.8,
                   'q: fraction re-explored after each ticket.')
flags.register_validator('exploration_epochs', lambda v: v >= 0,
                         '--exploration_epochs must be >= 0.')
flags.register_validator('refinement_epochs', lambda v: v >= 1,
                         '--refinement_epochs must be >= 1.')
flags.register_validator('reexploration_fraction', lambda v: 0.0 <= v <= 1.0,
                         '--reexploration_fraction must be in [0, 1].')
# --help lists every flag the binary uses, not only those defined here.
flags.adopt_module_key_flags(common_flags)
FLAGS = flags.FLAGS
FLAGS.set_default('train_epochs', None)


@experiment.cli_main
def main(argv):
  del argv
  f = FLAGS
  if f.quick:
    experiment.apply_quick_mode(f, dict(exploration_epochs=2,
                                        refinement_epochs=2,
                                        train_epochs=None))
  ignored = [f'--{name}' for name in ('lr_decay_epochs', 'lr_decay_ratio')
             if f[name].present]
  if ignored:
    raise app.UsageError(
        f'{" and ".join(ignored)}: EDST does not use LR decays. Its LRs are '
        f'the paper\'s: the (batch-scaled) --base_learning_rate while '
        f'exploring, 0.1x and then 0.01x of it in each refinement (Section '
        f'3.3).')
  total = f.exploration_epochs + f.ensemble_size * f.refinement_epochs
  if f.train_epochs is not None and f.train_epochs != total:
    raise app.UsageError(
        f'--train_epochs={f.train_epochs} must equal --exploration_epochs + '
        f'--ensemble_size * --refinement_epochs = {f.exploration_epochs} + '
        f'{f.ensemble_size} * {f.refinement_epochs} = {total} (or be unset).')
  exp = experiment.Experiment.from_flags(f, 'edst')

  phases = plans.edst_phases(f.exploration_epochs, f.refinement_epochs,
                             f.ensemble_size, f.reexploration_fraction)
  model_fn = exp.model_fn(masked=True, seed=f.seed)
  run = train_loop.Run(
      exp.config, exp.strategy, model_fn, phases, 'run',
      hook_fn=exp.hook_fn(exp.updater_name(), f.seed,
                          total * exp.steps_per_epoch))
  run.train(on_ticket=exp.save_ticket)

  paths = [tickets.ticket_dir(f.output_dir, j) for j in range(f.ensemble_size)]
  flops = reporting.flops_report(exp, run.model, 'edst', f.ensemble_size,
                                 total, exploration_epochs=f.exploration_epochs,
                                 refinement_epochs=f.refinement_epochs)
  reporting.report(exp, paths, exp.model_fn(True, f.seed, draw_masks=False),
                   run.history, flops, step=total)


if __name__ == '__main__':
  app.run(main)
