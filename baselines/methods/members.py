r"""The member ensembles: M independent runs, one ticket each.

DST Ensemble (Algorithm 3): member j starts from its own random sparse
network (seed + j) and is trained with RigL (or SET, --growth=random) for
`train_epochs` at LR 0.1, divided by 10 at 50% and 75% of training (UB's
--lr_decay_epochs, scaled to --train_epochs). The Static Sparse Ensemble is
the same without mask updates (Appendix C); the dense ensemble (UB's
deterministic baseline, M = 1 for a single model) trains dense members.
Members train one after another; `--member_index=j` trains only member j
(one job per member on a cluster), and the job that finds all M tickets
complete writes the ensemble report.
"""

import dataclasses

from absl import app
from absl import flags
from absl import logging

from baselines.artifacts import ticket_store
from baselines.evaluation import run_results
from baselines.methods import common_flags
from baselines.methods import experiment
from baselines.methods import flag_roles
from baselines.methods import method as method_lib
from baselines.methods import plans
from baselines.runtime import run_identity
from baselines.training import loop


@flag_roles.defines_flags
def define_flags(ensemble_size):
  """M and the one-member-per-job switch of the member-based binaries."""
  common_flags.define_ensemble_size_flag(ensemble_size)
  flag_roles.neutral(flags.DEFINE_integer(
      'member_index', None, 'Train only member j (0 <= j < ensemble_size).'))


def run_members(method, flag_values, task):
  """Trains this job's members of `method`; the report once all exist."""
  f = flag_values
  members = member_indices(f)
  exp = experiment.from_flags(f, method, task=task)
  updater_name = exp.updater_name() if method.masked else None
  histories = train_members(exp, members, method.masked, updater_name,
                            f.train_epochs, exp.decay_multipliers(),
                            single_model=f.ensemble_size == 1)
  return run_results.report_members(exp, f.ensemble_size, method.masked,
                                    method.name, f.train_epochs, histories)


def train_members(exp, indices, masked, updater_name, epochs, lr_multipliers,
                  init_fn=None, warmup=True, single_model=False):
  """Trains independent members one after another (DST, static, dense).

  `updater_name` ('rigl', 'set', 'static') picks the sparsity hook; None
  trains without one (dense models, LTR's fixed-mask retrains).

  Member j uses seed + j for its weights, masks and data order. Members
  whose ticket is complete are skipped, so a restarted job (or a cluster
  job per `--member_index`) continues where it stopped. With `init_fn`
  (LTR: rewound weights and the pruned mask) no masks are drawn.

  Each member's per-epoch TensorBoard scalars and its hparams go to
  summaries/member_j/, or with `single_model` (M = 1) to summaries/, as
  UB's single-model binaries write them.

  Returns:
    dict member index -> that member's per-epoch history.
  """
  histories = {}
  steps = epochs * exp.steps_per_epoch
  for j in indices:
    path = exp.config.layout.ticket_dir(j)
    if ticket_store.is_complete(path):
      stored = ticket_store.load_info(path).get('run_identity') or {}
      differ = run_identity.differences(stored, exp.identity)
      if differ:
        raise app.UsageError(
            f'{path} is a ticket of another run; use a new --output_dir. '
            f'Its ticket.json differs: {"; ".join(differ)}')
      logging.info('[%s] member %d already has a ticket of this run; '
                   'skipped.', exp.config.method, j)
      continue
    seed = exp.config.seed + j
    config = dataclasses.replace(exp.config, seed=seed)
    if not warmup:
      config.warmup_epochs = 0
    run = loop.Run(
        config, exp.strategy,
        exp.model_fn(masked, seed, draw_masks=init_fn is None),
        plans.member_phases(epochs, lr_multipliers, j), f'member_{j}',
        hook_fn=(exp.hook_fn(updater_name, seed, steps)
                 if masked and updater_name else None),
        init_fn=init_fn,
        summary_dir=exp.config.layout.summaries(
            *(() if single_model else (f'member_{j}',))),
        loss_fn=exp.loss_fn)
    run.train(on_ticket=exp.save_ticket)
    ticket_store.require_complete(
        [path], f'To recompute it, delete {run.run_dir} and rerun with '
        f'--member_index={j}.')
    run_results.write_run_hparams(exp, run, member_index=j, seed=seed)
    histories[str(j)] = run.history
  return histories




def member_indices(flag_values):
  """The members this job trains: --member_index, or all M.

  Raises:
    app.UsageError: if --member_index is not in [0, M).
  """
  f = flag_values
  if f.member_index is None:
    return range(f.ensemble_size)
  if not 0 <= f.member_index < f.ensemble_size:
    raise app.UsageError(f'--member_index must be in [0, {f.ensemble_size}),'
                         f' got {f.member_index}.')
  return [f.member_index]


_QUICK_EPOCHS = dict(train_epochs=3)
DST_ENSEMBLE = method_lib.Method('dst_ensemble', masked=True, masks='dst',
                                 quick_flags=dict(update_interval=16,
                                                  **_QUICK_EPOCHS),
                                 train=run_members)
STATIC = method_lib.Method('static', masked=True, masks='static',
                           quick_flags=dict(update_interval=16,
                                            **_QUICK_EPOCHS),
                           train=run_members)
DENSE = method_lib.Method('dense', masked=False, masks='none',
                          quick_flags=_QUICK_EPOCHS, train=run_members)
