"""main() of the EDST binaries (CIFAR and ImageNet): Algorithm 1 end to end.

Checks the EDST flags, trains one run through the exploration and M
refinement phases with DST and the re-exploration between them, and writes
the tickets' ensemble report with the training FLOPs.
"""

import dataclasses

from absl import app

from baselines.artifacts import tickets
from baselines.evaluation import run_results
from baselines.methods import experiment
from baselines.methods import tasks
from baselines.training import loop
from baselines.training import reexploration
from sparse_layers import phases as phases_lib


def check_edst_flags(f):
  """Raises app.UsageError on flags EDST does not use or that contradict.

  Returns:
    The total epochs t_ex + M t_re.
  """
  ignored = [f'--{name}' for name in ('lr_decay_epochs', 'lr_decay_ratio')
             if f[name].present]
  if ignored:
    raise app.UsageError(
        f'{" and ".join(ignored)}: EDST does not use LR decays. Its LRs are '
        f'the paper\'s: the (batch-scaled) --base_learning_rate while '
        f'exploring, then the refinement pattern in each refinement (Section '
        f'3.3).')
  total = f.exploration_epochs + f.ensemble_size * f.refinement_epochs
  if f.train_epochs is not None and f.train_epochs != total:
    raise app.UsageError(
        f'--train_epochs={f.train_epochs} must equal --exploration_epochs + '
        f'--ensemble_size * --refinement_epochs = {f.exploration_epochs} + '
        f'{f.ensemble_size} * {f.refinement_epochs} = {total} (or be unset).')
  return total


def run_edst(f, task=tasks.CIFAR, refinement_lr_fn=phases_lib.refinement_lr,
             restart_cosine_at_reexploration=False):
  """Trains and reports an EDST Ensemble from the parsed flags `f`.

  Args:
    f: parsed flags (`common_flags.define_edst_flags` and the task's).
    task: the data-set family.
    refinement_lr_fn: a refinement's LR multipliers (`sparse_layers.phases`).
    restart_cosine_at_reexploration: a cosine schedule of p restarts at
      each re-exploration (the authors' ImageNet code).
  """
  total = check_edst_flags(f)
  exp = experiment.Experiment.from_flags(f, 'edst', task=task)
  if restart_cosine_at_reexploration:
    exp.sparsity = dataclasses.replace(
        exp.sparsity, cosine_restart_epochs=tuple(
            f.exploration_epochs + j * f.refinement_epochs
            for j in range(1, f.ensemble_size)))
  phases = phases_lib.edst_phases(f.exploration_epochs, f.refinement_epochs,
                             f.ensemble_size, f.reexploration_fraction,
                             refinement_lr_fn)
  run = loop.Run(
      exp.config, exp.strategy, exp.model_fn(masked=True, seed=f.seed),
      phases, 'run',
      hook_fn=exp.hook_fn(exp.updater_name(), f.seed,
                          total * exp.steps_per_epoch),
      loss_fn=exp.loss_fn,
      phase_end_callbacks=[reexploration.Reexploration()])
  run.train(on_ticket=exp.save_ticket)

  paths = [tickets.ticket_dir(f.output_dir, j) for j in range(f.ensemble_size)]
  tickets.require_complete(
      paths, 'To recompute them, rerun in a new --output_dir: EDST writes '
      'ticket j at the end of refinement phase j.')
  flops = run_results.flops_report(exp, run.model, 'edst', f.ensemble_size,
                                 total, exploration_epochs=f.exploration_epochs,
                                 refinement_epochs=f.refinement_epochs)
  return run_results.report(exp, paths,
                          exp.model_fn(True, f.seed, draw_masks=False),
                          run.history, flops, step=total)


def edst_main(flag_values, task, refinement_lr_fn,
              restart_cosine_at_reexploration=False):
  """The `main(argv)` of an EDST binary: `run_edst` under `cli_main`."""

  @experiment.cli_main
  def main(argv):
    del argv
    run_edst(flag_values, task, refinement_lr_fn,
             restart_cosine_at_reexploration)

  return main
