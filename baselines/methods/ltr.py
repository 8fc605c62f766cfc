r"""LTR Ensemble: gradual magnitude pruning, rewinding, M retrains.

A dense-start network (masked layers with all-ones masks) is pruned to S by
gradual magnitude pruning (tfmot's cubic PolynomialDecay) during a full run
of `train_epochs`. The weights at `ltr_rewind_fraction` of training (5%)
are kept; then M members start from those weights with the final mask and
retrain (static mask, seeds seed + j) for the rest of the schedule
(Appendix C; Evci et al. 2020b).
"""

import os

from absl import flags
import tensorflow as tf

from baselines.artifacts import ticket_store
from baselines.evaluation import run_results
from baselines.methods import experiment
from baselines.methods import flag_roles
from baselines.methods import members
from baselines.methods import method as method_lib
from baselines.methods import plans
from baselines.training import loop
from sparse_layers import layers as masked_layers
from sparse_layers import phases
from sparse_layers import pruning


@flag_roles.defines_flags
def define_flags(sparsity=0.8):
  """The LTR Ensemble's pruning run (Appendix C)."""
  flags.DEFINE_float('sparsity', sparsity,
                     'Final sparsity S of the pruning run.')
  flags.DEFINE_float('ltr_rewind_fraction', 0.05,
                     'Rewind point, a fraction of training.')
  flags.DEFINE_float('ltr_prune_begin', 0.05, 'Pruning start (fraction).')
  flags.DEFINE_float('ltr_prune_end', 0.75, 'Pruning end (fraction).')
  flags.DEFINE_integer('pruning_frequency', 100, 'Steps between prunings.')
  flags.register_validator('sparsity', lambda v: 0.0 <= v < 1.0,
                           '--sparsity must be in [0, 1).')
  flags.register_validator('ltr_rewind_fraction', lambda v: 0.0 <= v < 1.0,
                           '--ltr_rewind_fraction must be in [0, 1).')
  flags.register_validator('pruning_frequency', lambda v: v >= 1,
                           '--pruning_frequency must be >= 1.')
  flags.register_multi_flags_validator(
      ['ltr_prune_begin', 'ltr_prune_end'],
      lambda v: 0.0 <= v['ltr_prune_begin'] < v['ltr_prune_end'] <= 1.0,
      'need 0 <= --ltr_prune_begin < --ltr_prune_end <= 1.')


def run_ltr(method, f, task):
  """Prunes one run to S, then retrains this job's members from its rewind
  point with its final mask; the report once all M exist."""
  indices = members.member_indices(f)
  exp = experiment.from_flags(f, method, task=task)
  epochs = f.train_epochs
  rewind_epoch = round(f.ltr_rewind_fraction * epochs)
  gmp, stored_rewind = _pruning_run(exp, f, epochs, rewind_epoch)
  final_masks = [l.mask.numpy() for l in masked_layers.masked_layers(gmp.model)]

  def rewind_with_final_mask(model):
    ticket_store.restore_model(stored_rewind, model)
    for layer, mask in zip(masked_layers.masked_layers(model), final_masks):
      layer.set_mask(mask)

  decays = exp.decay_multipliers()
  histories = members.train_members(
      exp, indices, True, None, epochs - rewind_epoch,
      plans.rebased_lr_multipliers(decays, rewind_epoch / epochs),
      init_fn=rewind_with_final_mask, warmup=False)
  histories['gmp'] = gmp.history
  return run_results.report_members(
      exp, f.ensemble_size, True, method.name, epochs, histories,
      ltr_rewind_fraction=rewind_epoch / epochs,
      ltr_prune_begin=f.ltr_prune_begin, ltr_prune_end=f.ltr_prune_end)


def _pruning_run(exp, f, epochs, rewind_epoch):
  """Trains (or resumes) the pruning run, keeping its rewind point.

  Returns:
    (the finished run, the directory its rewind point is read from).
  """
  steps = epochs * exp.steps_per_epoch
  # Written by each process; read from the chief's (a multi-worker restart).
  rewind = exp.config.layout.rewind_dir(written=True)
  stored_rewind = exp.config.layout.rewind_dir()

  def prune_hook(model, optimizer, loss_fn):
    del loss_fn  # Magnitude pruning needs no gradient.
    schedule = pruning.polynomial_decay(
        f.sparsity, round(f.ltr_prune_begin * steps),
        round(f.ltr_prune_end * steps), f.pruning_frequency)
    return pruning.GradualPruningHook(model, schedule, optimizer)

  def save_rewind_point(run):
    if run.completed_epochs == rewind_epoch:
      ticket_store.save_model(rewind, run.model)

  gmp = loop.Run(
      exp.config, exp.strategy, exp.model_fn(True, f.seed, draw_masks=False),
      [phases.Phase('gmp', epochs, exp.decay_multipliers())], 'gmp',
      hook_fn=prune_hook,
      summary_dir=exp.config.layout.summaries('gmp'))
  if rewind_epoch == 0 and not tf.io.gfile.exists(
      os.path.join(stored_rewind, 'model.index')):
    ticket_store.save_model(rewind, gmp.model)
  gmp.train(on_epoch_end=save_rewind_point)
  run_results.write_run_hparams(exp, gmp)
  return gmp, stored_rewind


LTR = method_lib.Method('ltr', masked=True, masks='pruned',
                        quick_flags=dict(train_epochs=4, pruning_frequency=2),
                        train=run_ltr)
