"""EDST Ensemble (Algorithm 1): M free tickets from one sparse run.

One run with DST (RigL by default) through an exploration phase of t_ex
epochs at the (batch-scaled) base LR, then M refinement phases of t_re
epochs, each ending in a ticket (line 18), each but the last followed by a
re-exploration that drops and regrows q of the active weights (lines
19-21). A refinement's LR: 0.01 then 0.001 on CIFAR (Section 3.3); 0.01,
0.001 from epoch 30 and 0.0001 from epoch 60 on ImageNet, where a cosine
schedule of p also restarts at each re-exploration (the authors' code).
The tickets' ensemble report carries the training FLOPs.
"""

import dataclasses

from absl import app
from absl import flags

from baselines.artifacts import ticket_store
from baselines.evaluation import method_cards
from baselines.evaluation import run_results
from baselines.methods import common_flags
from baselines.methods import experiment
from baselines.methods import flag_roles
from baselines.methods import method as method_lib
from baselines.methods import tasks
from baselines.training import loop
from baselines.training import reexploration
from sparse_layers import phases as phases_lib


@flag_roles.defines_flags
def define_flags(ensemble_size, exploration_epochs, refinement_epochs):
  """EDST's M, t_ex, t_re and q (Algorithm 1); --train_epochs unset."""
  common_flags.define_ensemble_size_flag(ensemble_size)
  flags.DEFINE_integer('exploration_epochs', exploration_epochs,
                       't_ex: exploration epochs.')
  flags.DEFINE_integer('refinement_epochs', refinement_epochs,
                       't_re: epochs per refinement.')
  flags.DEFINE_float('reexploration_fraction', 0.8,
                     'q: fraction re-explored after each ticket.')
  flags.DEFINE_bool(
      'parameter_exploration', True,
      '--noparameter_exploration: the paper\'s ablation (Table 5), the '
      'authors\' --fix: the initial masks stay fixed, with no drop and grow '
      'while exploring and no re-exploration; the M tickets differ only in '
      'their weights.')
  flags.register_validator('exploration_epochs', lambda v: v >= 0,
                           '--exploration_epochs must be >= 0.')
  flags.register_validator('refinement_epochs', lambda v: v >= 1,
                           '--refinement_epochs must be >= 1.')
  flags.register_validator('reexploration_fraction',
                           lambda v: 0.0 <= v <= 1.0,
                           '--reexploration_fraction must be in [0, 1].')
  flags.FLAGS.set_default('train_epochs', None)


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
  if not f.parameter_exploration:
    moot = [f'--{name}' for name in method_cards.EXPLORATION_FLAGS
            if f[name].present]
    if moot:
      raise app.UsageError(
          f'{", ".join(moot)}: no effect with --noparameter_exploration, '
          f'which keeps the initial masks fixed; leave them out.')
  total = f.exploration_epochs + f.ensemble_size * f.refinement_epochs
  if f.train_epochs is not None and f.train_epochs != total:
    raise app.UsageError(
        f'--train_epochs={f.train_epochs} must equal --exploration_epochs + '
        f'--ensemble_size * --refinement_epochs = {f.exploration_epochs} + '
        f'{f.ensemble_size} * {f.refinement_epochs} = {total} (or be unset).')
  return total


# A refinement's LR multipliers, by task (`sparse_layers.phases`).
REFINEMENT_LR = {tasks.CIFAR.name: phases_lib.refinement_lr,
                 tasks.IMAGENET.name: phases_lib.imagenet_refinement_lr}
# The authors' ImageNet code restarts a cosine schedule of p at each
# re-exploration.
RESTART_COSINE_AT_REEXPLORATION = {tasks.CIFAR.name: False,
                                   tasks.IMAGENET.name: True}


def run_edst(method, f, task=tasks.CIFAR):
  """Trains and reports an EDST Ensemble from the parsed flags `f`.

  Args:
    method: `EDST`.
    f: parsed flags (`define_flags` and the task's).
    task: the data-set family.
  """
  total = check_edst_flags(f)
  if not f.parameter_exploration:  # Masks drawn once (the static updater).
    method = dataclasses.replace(method, masks='static')
  exp = experiment.from_flags(f, method, task=task)
  if RESTART_COSINE_AT_REEXPLORATION[task.name]:
    exp.sparsity = dataclasses.replace(
        exp.sparsity, cosine_restart_epochs=tuple(
            f.exploration_epochs + j * f.refinement_epochs
            for j in range(1, f.ensemble_size)))
  phases = phases_lib.edst_phases(
      f.exploration_epochs, f.refinement_epochs, f.ensemble_size,
      f.reexploration_fraction if f.parameter_exploration else None,
      REFINEMENT_LR[task.name])
  run = loop.Run(
      exp.config, exp.strategy, exp.model_fn(masked=True, seed=f.seed),
      phases, 'run',
      hook_fn=exp.hook_fn(exp.updater_name(), f.seed,
                          total * exp.steps_per_epoch),
      loss_fn=exp.loss_fn,
      phase_end_callbacks=[reexploration.Reexploration()])
  run.train(on_ticket=exp.save_ticket)
  run_results.write_run_hparams(exp, run)

  paths = [exp.config.layout.ticket_dir(j) for j in range(f.ensemble_size)]
  ticket_store.require_complete(
      paths, 'To recompute them, rerun in a new --output_dir: EDST writes '
      'ticket j at the end of refinement phase j.')
  flops = run_results.flops_report(
      exp, run.model, method.name, f.ensemble_size, total,
      exploration_epochs=f.exploration_epochs,
      refinement_epochs=f.refinement_epochs,
      parameter_exploration=f.parameter_exploration)
  return run_results.report(exp, paths,
                            exp.model_fn(True, f.seed, draw_masks=False),
                            run.history, flops, step=total)


EDST = method_lib.Method(
    'edst', masked=True, masks='dst',
    quick_flags=dict(update_interval=16, exploration_epochs=2,
                     refinement_epochs=2, train_epochs=None),
    train=run_edst)
