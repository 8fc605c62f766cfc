"""Wiring shared by the methods: flags to typed values, once; tickets.

`from_flags` checks every input, claims the output directory and builds an
`Experiment` through a `tasks` family (CIFAR or ImageNet): strategy, data
splits, `RunConfig`, `configs.SparsityConfig`, the model spec, the run's
identity. Its model and hook factories then use those values, and
`save_ticket` writes a run's tickets. The methods (`edst`, `members`,
`ltr`) drive the runs; `evaluation/run_results.py` writes their report.
"""

import dataclasses
import logging as pylogging
import os
from typing import Dict, Optional

from absl import app
from absl import logging
import tensorflow as tf

from baselines.artifacts import ticket_store
from baselines.data import pipeline
from baselines.evaluation import evaluate
from baselines.methods import batch_scaling
from baselines.methods import configs
from baselines.methods import flag_roles
from baselines.methods import plans
from baselines.methods import startup
from baselines.methods import tasks
from baselines.runtime import devices
from baselines.runtime import run_identity
from baselines.runtime import run_lock
from baselines.runtime import strategies
from baselines.training import loop
from sparse_layers import export
from sparse_layers import hook as hook_lib
from sparse_layers import schedules
from sparse_layers import sparse_init
from sparse_layers import updaters
from sparse_layers.keras_alias import keras

# --quick: a WRN-10-1 on 4096 / 1000 images with ΔT = 16 steps (32 / epoch at
# the default batch of 128).
QUICK = dict(depth=10, width_multiplier=1, train_examples=4096,
             test_examples=1000, checkpoint_interval=1)


class _DropCheckpointNoise(pylogging.Filter):

  def filter(self, record):
    return 'Sharding callback duration' not in record.getMessage()


def accelerator_options(flag_values, strategy):
  """{'use_bfloat16', 'jit_compile'}: the flags, or their defaults.

  `--use_bfloat16` unset (ImageNet) and `--jit_compile` unset are on with
  --tpu, off elsewhere.

  Raises:
    ValueError: for --jit_compile where TensorFlow cannot compile the
      replicas' steps (MirroredStrategy or multi-worker over CPUs).
  """
  f = flag_values
  on_tpu = bool(f.tpu)
  options = {'use_bfloat16': on_tpu if f.use_bfloat16 is None
             else f.use_bfloat16,
             'jit_compile': on_tpu if f.jit_compile is None
             else f.jit_compile}
  if options['jit_compile'] and not devices.can_jit_compile(strategy):
    raise ValueError(
        '--jit_compile: TensorFlow cannot compile the steps of '
        f'{type(strategy).__name__} replicas on CPU devices (an XLA step '
        'reads one device\'s variables only); use one device, GPUs or TPUs, '
        'or leave --jit_compile off.')
  return options


def apply_quick_mode(flag_values, epoch_flags):
  """Shrinks the run: QUICK settings plus `epoch_flags` (name -> value).

  Fills in only the flags the user did not give on the command line
  (`--quick --depth=16` trains depth 16), and logs what it set.

  Returns:
    The flags it set, name -> value.
  """
  set_here, kept = {}, []
  for name, value in {**QUICK, **epoch_flags}.items():
    if name not in flag_values:
      continue
    if flag_values[name].present:
      kept.append(f'--{name}={flag_values[name].value}')
      continue
    setattr(flag_values, name, value)
    set_here[name] = value
  message = '--quick set ' + (', '.join(
      f'--{k}={v}' for k, v in set_here.items()) or 'nothing')
  if kept:
    message += '; kept your ' + ', '.join(kept)
  logging.info(message)
  return set_here


# The binaries wrap their main in it.
cli_main = startup.cli_main


def claim_output_dir(output_dir, strategy, identity, ticket_infos):
  """Checks `output_dir` and the tickets against `identity`, then (the
  chief) takes its lock and records run.json; nothing is written before
  every check has passed.

  Returns:
    None for the chief, else the worker's scratch directory it writes to.
  """
  run_identity.check(output_dir, identity)
  run_identity.check_ticket_data(ticket_infos, identity['data'])
  write_dir = (None if strategies.is_chief(strategy) else
               strategies.worker_scratch_dir(strategy))
  startup.check_writable(write_dir or output_dir)
  if write_dir is None:
    run_lock.acquire(output_dir)
  run_identity.record(write_dir or output_dir, identity)
  return write_dir


def log_start(effective, config, splits, steps_per_loop):
  """Logs the values a run starts with (`run.json`'s `effective`)."""
  train, validation = splits.train, splits.validation
  logging.info(
      '%s: %d replicas, global batch %d (%d per replica), base LR %.4g, '
      'ΔT %s steps, bfloat16 %s, XLA %s, steps per loop %s; %s train / '
      '%s%d test examples', config.method, effective['replicas'],
      config.global_batch_size, effective['per_replica_batch_size'],
      config.base_learning_rate, effective['update_interval_steps'] or '-',
      'on' if effective['use_bfloat16'] else 'off',
      'on' if effective['jit_compile'] else 'off',
      steps_per_loop or 'auto (at most 30 s)',
      train.num_examples if train else 'no',
      f'{validation.num_examples} validation / ' if validation else '',
      splits.test.num_examples)


@dataclasses.dataclass
class Experiment:
  """Everything a binary wires together, built from flags once.

  project_flags: {name: value} of the binary's declared flags, listed in
    `metrics.json` (`identity['flags']` are those that change the result).
  """
  strategy: tf.distribute.Strategy
  config: loop.RunConfig
  project_flags: dict
  ood_splits: Dict[str, pipeline.Split]
  corrupted_splits: Dict[tuple, pipeline.Split]
  identity: Optional[dict] = None
  task: object = tasks.CIFAR
  task_options: object = None  # The task's `CifarOptions` or ...Options.
  model_spec: Optional[object] = None
  model_options: configs.ModelOptions = configs.ModelOptions()
  sparsity: Optional[configs.SparsityConfig] = None
  extra_test_splits: Dict[str, pipeline.Split] = dataclasses.field(
      default_factory=dict)
  loss_fn: Optional[object] = None
  dense_epochs: int = 250
  lr_decay_epochs: tuple = ()
  lr_decay_ratio: float = 0.1
  train_epochs: Optional[int] = None
  sparsity_checked: bool = False

  @property
  def steps_per_epoch(self):
    """Optimizer steps per epoch (train examples // global batch)."""
    return (self.config.train_split.num_examples //
            self.config.global_batch_size)

  @property
  def update_interval_steps(self):
    """ΔT in optimizer steps, scaled to the global batch (1000 if the
    method has no DST updates)."""
    if self.sparsity is None:
      return 1000
    return self.sparsity.update_interval_steps

  # --- Factories for loop.Run. ---

  def model_fn(self, masked, seed, draw_masks=True):
    """() -> the network; with `masked` and `draw_masks`, masks drawn from
    `seed` (`sparsity`'s S and distribution).

    Models that a checkpoint will overwrite need no masks drawn.
    """
    spec = dataclasses.replace(self.model_spec, masked=masked)
    sparsity = self.sparsity
    options = self.model_options

    def build():
      keras.utils.set_random_seed(seed)
      # Binaries without mask updates (LTR's pruning) have no
      # --inactive_gradient; the layers' default serves them.
      model = spec.build(l2=options.l2,
                         sync_batch_norm=options.sync_batch_norm,
                         inactive_gradient=(sparsity.inactive_gradient
                                            if sparsity else 'dense'))
      if masked and draw_masks:
        plan = sparse_init.sparsify(
            model, sparsity.sparsity, sparsity.distribution,
            sparsity.erk_power_scale, sparsity.first_layer,
            sparsity.last_layer, seed=seed)
        if not self.sparsity_checked:  # Once, not once per member.
          self.sparsity_checked = True
          startup.warn_extreme_sparsity(plan, sparsity.sparsity)
      return model

    return build

  def hook_fn(self, updater_name, seed, total_steps):
    """(model, optimizer, loss_fn) -> SparsityHook of the sparsity config."""
    s = self.sparsity
    interval = s.update_interval_steps

    def build(model, optimizer, loss_fn):
      if s.drop_fraction_schedule == 'cosine' and s.cosine_restart_epochs:
        schedule = schedules.CosineRestartsDropFraction(
            s.drop_fraction, interval,
            [e * self.steps_per_epoch for e in s.cosine_restart_epochs],
            0, total_steps)
      else:
        end = total_steps if s.drop_fraction_schedule == 'cosine' else None
        schedule = schedules.make_schedule(s.drop_fraction_schedule,
                                           s.drop_fraction, interval, 0, end)
      updater = updaters.make_updater(
          updater_name, seed, regrow_at_zero=s.regrow_at_zero,
          update_dense_layers=s.update_dense_layers)
      logging.info('[%s] %s updates every %d steps (ΔT = %d at a batch of '
                   '128), p = %s (%s)', self.config.method, updater_name,
                   interval, s.update_interval, s.drop_fraction,
                   s.drop_fraction_schedule)
      return hook_lib.SparsityHook(model, updater, schedule, loss_fn,
                                   optimizer, self.strategy,
                                   jit_compile=self.config.jit_compile and
                                   not devices.is_tpu(self.strategy))

    return build

  def updater_name(self):
    return self.sparsity.updater

  def decay_multipliers(self):
    """UB's step decays as (fraction of training, multiplier) pairs.

    UB gives `lr_decay_epochs` for 200 epochs on CIFAR (90 on ImageNet,
    the task's `decay_reference_epochs`) and scales them to whole epochs of
    `train_epochs`: epoch * train_epochs // 200 (the authors' int(epochs /
    2) and int(epochs * 3 / 4) for CIFAR's defaults).
    """
    return plans.decay_multipliers(self.lr_decay_epochs, self.lr_decay_ratio,
                                   self.train_epochs,
                                   self.task.decay_reference_epochs)

  def save_ticket(self, index, run, path):
    """`on_ticket` callback of loop.Run: writes ticket `index`.

    Its ticket.json describes it: the model spec that rebuilds it, the
    method, sparsity, test metrics and the run's identity.
    """
    probs, labels = run.test_predictions()
    info = {'index': index, 'epoch': run.completed_epochs,
            'method': self.config.method,
            'model': self.identity['model'],
            'sparsity': run.sparsity(),
            'path': os.path.relpath(
                self.config.layout.ticket_dir(index),
                self.config.output_dir),
            'run_identity': self.identity,
            # What sparse_layers.export's SavedModel applies to uint8 images.
            export.PREPROCESSING_KEY: {
                'mean': [float(v) for v in self.config.preprocessing.mean],
                'std': [float(v) for v in self.config.preprocessing.std]},
            **evaluate.model_metrics(probs, labels, 'test/',
                                     self.config.num_bins)}
    if run.history and 'validation/accuracy' in run.history[-1]:
      info['validation/accuracy'] = run.history[-1]['validation/accuracy']
    ticket_store.save(path, run.model, probs, labels, info)
    logging.info('[%s] saved ticket %d at epoch %d: test accuracy %.4f, '
                 'sparsity %.4f', self.config.method, index, info['epoch'],
                 info['test/accuracy'], info['sparsity'])


def from_flags(flag_values, method, evaluate_only=False, task=tasks.CIFAR,
               ticket_infos=None):
  """The `Experiment` of a binary's flags; no training happens.

  Every input is checked before anything is written: the data (readable,
  non-empty, at least one global batch to train on), the flags, the
  output directory's earlier run (`run_identity`) and, for an
  evaluation, the tickets' recorded test data. Then it takes the output
  directory's lock (`run_lock`) and records `run.json`.

  Args:
    flag_values: the parsed flags.
    method: the `method.Method` (its name goes to logs and the run
      identity; its network is masked or not; its masks say which
      sparsity flags apply).
    evaluate_only: load only the test (OOD, corrupted) data, no training
      data (ensemble.py); its members bring their own model specs.
    task: the data-set family (`tasks.CIFAR` or `tasks.IMAGENET`).
    ticket_infos: {ticket path: ticket.json} of the members an evaluation
      (ensemble.py) combines; their test data must be this run's.

  Raises:
    app.UsageError: on bad data or settings, or an output directory of
      another run (the binary exits non-zero with the message, before
      any training and before anything is written there).
  """
  try:
    return _from_flags(flag_values, method, evaluate_only, task,
                       ticket_infos or {})
  except (pipeline.DataError, ValueError) as e:
    raise app.UsageError(str(e)) from e

def _from_flags(flag_values, method, evaluate_only, task, ticket_infos):
  f = flag_values
  # TF's checkpoint saver logs every write at INFO; keep our progress lines.
  logging.get_absl_logger().addFilter(_DropCheckpointNoise())
  if f.deterministic:
    tf.config.experimental.enable_op_determinism()
  # First: MultiWorkerMirroredStrategy configures collective ops, which
  # must precede every TF op (the data checks run some).
  strategy = strategies.make_strategy(f.tpu, f.use_gpu)
  options = task.options(f)
  splits = task.load(options, evaluate_only)
  replicas = strategy.num_replicas_in_sync
  if f.num_cores is not None and f.num_cores != replicas:
    raise ValueError(f'--num_cores={f.num_cores} but the strategy has '
                     f'{replicas} replicas; leave --num_cores unset.')
  accelerator = accelerator_options(f, strategy)
  if accelerator['use_bfloat16']:
    keras.mixed_precision.set_global_policy('mixed_bfloat16')
  batch = batch_scaling.global_batch_size(f.per_core_batch_size, replicas)
  startup.check_split_sizes(splits, batch)
  sparsity = configs.SparsityConfig.from_flags(f, batch, method.masks)
  spec = None if evaluate_only else task.model_spec(options, method.masked)
  identity = run_identity.make_identity(
      method.name, flag_roles.result_flags(f), batch, spec,
      splits.identity())
  identity['effective'] = dict(
      replicas=replicas, per_replica_batch_size=batch // replicas,
      learning_rate=batch_scaling.scaled_learning_rate(
          f.base_learning_rate, batch),
      update_interval_steps=sparsity.update_interval_steps
      if sparsity and sparsity.updater != 'static' else None,
      **accelerator)
  write_dir = claim_output_dir(f.output_dir, strategy, identity, ticket_infos)
  config = _run_config(f, method, task, options, splits, batch,
                       identity['effective'], write_dir)
  log_start(identity['effective'], config, splits, f.steps_per_loop)
  return Experiment(
      strategy, config, flag_roles.project_flags(f), splits.ood,
      splits.corrupted, identity, task=task, task_options=options,
      model_spec=spec, model_options=task.model_options(options),
      sparsity=sparsity, extra_test_splits=splits.extra_test,
      loss_fn=task.loss_fn(options),
      dense_epochs=f.dense_epochs, lr_decay_epochs=tuple(f.lr_decay_epochs),
      lr_decay_ratio=f.lr_decay_ratio, train_epochs=f.train_epochs)


def _run_config(f, method, task, options, splits, batch, effective,
                write_dir):
  """The loop's `RunConfig`: the flags' values for one run."""
  return loop.RunConfig(
      output_dir=f.output_dir, seed=f.seed, global_batch_size=batch,
      base_learning_rate=effective['learning_rate'],
      momentum=1.0 - f.one_minus_momentum, nesterov=f.nesterov,
      momentum_style=f.momentum_style,
      num_bins=f.num_bins, checkpoint_interval=f.checkpoint_interval,
      warmup_epochs=f.lr_warmup_epochs, method=method.name,
      train_split=splits.train, validation_split=splits.validation,
      test_split=splits.test, num_classes=task.num_classes(options),
      preprocessing=task.preprocessing(options),
      ticket_selection=f.ticket_selection,
      corrupted_splits=splits.corrupted,
      corruption_benchmark=splits.corruption_benchmark,
      corruptions_interval=f.corruptions_interval,
      trajectory_interval=f.trajectory_interval, write_dir=write_dir,
      jit_compile=effective['jit_compile'],
      steps_per_loop=f.steps_per_loop)
