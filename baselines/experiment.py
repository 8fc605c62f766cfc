"""Wiring shared by the CIFAR binaries: flags to objects, members, tickets.

`Experiment.from_flags` is the one place that reads flags; everything it
builds (strategy, data splits, `RunConfig`, model and hook factories) takes
explicit arguments. `train_members` / `run_members` drive the member-based
methods; `reporting` writes the end-of-run report.
"""

import dataclasses
import functools
import logging as pylogging
import math
import os
import sys
from typing import Dict, Optional

from absl import app
from absl import logging
import tensorflow as tf

from baselines import common_flags
from baselines import data
from baselines import evaluation
from baselines import model_spec as model_spec_lib
from baselines import plans
from baselines import preemption
from baselines import reporting
from baselines import run_identity
from baselines import tickets
from baselines import train_loop
from sparse_layers import hook as hook_lib
from sparse_layers import schedules
from sparse_layers import sparse_init
from sparse_layers import updaters
from sparse_layers.keras_alias import keras

# --quick: a WRN-10-1 on 4096 / 1000 images with ΔT = 16 steps (32 / epoch at
# the default batch of 128).
QUICK = dict(depth=10, width_multiplier=1, train_examples=4096,
             test_examples=1000, update_interval=16, checkpoint_interval=1)


class _DropCheckpointNoise(pylogging.Filter):

  def filter(self, record):
    return 'Sharding callback duration' not in record.getMessage()


def check_writable(output_dir):
  """Raises ValueError unless `output_dir` can be created and written."""
  probe = os.path.join(output_dir, '.write_test')
  try:
    tf.io.gfile.makedirs(output_dir)
    with tf.io.gfile.GFile(probe, 'w') as f:
      f.write('ok')
    tf.io.gfile.remove(probe)
  except (tf.errors.OpError, OSError) as e:
    raise ValueError(f'--output_dir={output_dir} is not writable: '
                     f'{type(e).__name__}: {e}') from e


def cli_main(main):
  """Wraps a binary's main: bad input or a non-finite loss exits non-zero
  with its message alone (absl would print every flag's help before a
  UsageError's message); a run that answered a preemption notice exits with
  `preemption.EXIT_CODE` after its checkpoint.
  """

  @functools.wraps(main)
  def wrapped(argv):
    try:
      return main(argv)
    except app.UsageError as e:
      sys.exit(f'FATAL: {e}\nPass --help to see the flags.')
    except preemption.Preempted as e:
      logging.warning('%s', e)
      sys.exit(preemption.EXIT_CODE)
    except train_loop.NonFiniteLossError as e:
      logging.error('%s', e)
      sys.exit(f'error: {e}')

  return wrapped


def make_strategy(tpu=None, use_gpu=False):
  """TPUStrategy, MultiWorkerMirrored (TF_CONFIG), Mirrored or default."""
  if tpu:
    resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    return tf.distribute.TPUStrategy(resolver)
  if 'TF_CONFIG' in os.environ:
    return tf.distribute.MultiWorkerMirroredStrategy()
  if use_gpu:
    return tf.distribute.MirroredStrategy()
  return tf.distribute.get_strategy()


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


@dataclasses.dataclass
class Experiment:
  """Everything a binary wires together, built from flags."""
  strategy: tf.distribute.Strategy
  config: train_loop.RunConfig
  flag_values: object
  ood_splits: Dict[str, data.Split]
  corrupted_splits: Dict[tuple, data.Split]
  identity: Optional[dict] = None

  @classmethod
  def from_flags(cls, flag_values, method, masked=True, evaluate_only=False):
    """Validates the data and the output directory; no training happens.

    Args:
      flag_values: the parsed flags.
      method: the method's name (FLOPs, logs, run identity).
      masked: whether the method trains masked (sparse) networks.
      evaluate_only: load only the test (OOD, corrupted) data, no training
        data (ensemble.py); its members bring their own model specs.

    Raises:
      app.UsageError: on bad data or settings, or an output directory of
        another run (the binary exits non-zero with the message, before
        any training and before anything is written there).
    """
    try:
      return cls._from_flags(flag_values, method, masked, evaluate_only)
    except (data.DataError, ValueError) as e:
      raise app.UsageError(str(e)) from e

  @classmethod
  def _from_flags(cls, flag_values, method, masked, evaluate_only):
    f = flag_values
    # TF's checkpoint saver logs every write at INFO; keep our progress lines.
    logging.get_absl_logger().addFilter(_DropCheckpointNoise())
    if f.deterministic:
      tf.config.experimental.enable_op_determinism()
    num_classes = common_flags.num_classes(f.dataset)
    if evaluate_only:
      train, validation, test = None, None, load_test(f, num_classes)
    else:
      train, validation, test = load_train_test(f, num_classes)
    ood = load_ood(f, test.num_examples) if f.eval_on_ood else {}
    corrupted = {}
    if f.corruptions_interval > 0:
      corrupted = {key: data.take(split, f.test_examples)
                   for key, split in data.load_corrupted(
                       f.dataset, num_classes, f.data_dir, f.download_data,
                       f.cifar100_c_path, f.corrupted_npz_dir).items()}
    strategy = make_strategy(f.tpu, f.use_gpu)
    replicas = strategy.num_replicas_in_sync
    if f.num_cores is not None and f.num_cores != replicas:
      raise ValueError(f'--num_cores={f.num_cores} but the strategy has '
                       f'{replicas} replicas; leave --num_cores unset.')
    if f.use_bfloat16:
      keras.mixed_precision.set_global_policy('mixed_bfloat16')
    batch = common_flags.global_batch_size(f.per_core_batch_size, replicas)
    identity = run_identity.make_identity(
        method, f, batch,
        None if evaluate_only else model_spec_from_flags(f, masked))
    run_identity.check(f.output_dir, identity)
    check_writable(f.output_dir)
    run_identity.record(f.output_dir, identity)
    config = train_loop.RunConfig(
        output_dir=f.output_dir, seed=f.seed, global_batch_size=batch,
        base_learning_rate=common_flags.scaled_learning_rate(
            f.base_learning_rate, batch),
        momentum=1.0 - f.one_minus_momentum, nesterov=f.nesterov,
        momentum_style=f.momentum_style,
        num_bins=f.num_bins, checkpoint_interval=f.checkpoint_interval,
        warmup_epochs=f.lr_warmup_epochs, method=method, train_split=train,
        validation_split=validation, test_split=test,
        num_classes=num_classes,
        preprocessing=data.PREPROCESSING[f.dataset],
        ticket_selection=f.ticket_selection, corrupted_splits=corrupted,
        corruptions_interval=f.corruptions_interval,
        trajectory_interval=f.trajectory_interval)
    logging.info('%s: %d replicas, global batch %d, base LR %.4g, %s train / '
                 '%s%d test examples', method, replicas, batch,
                 config.base_learning_rate,
                 train.num_examples if train else 'no',
                 f'{validation.num_examples} validation / ' if validation
                 else '', test.num_examples)
    return cls(strategy, config, f, ood, corrupted, identity)

  @property
  def steps_per_epoch(self):
    """Optimizer steps per epoch (train examples // global batch)."""
    return (self.config.train_split.num_examples //
            self.config.global_batch_size)

  @property
  def update_interval_steps(self):
    """ΔT in optimizer steps: --update_interval scaled to the global batch."""
    return common_flags.scaled_update_interval(
        self.flag_values.update_interval, self.config.global_batch_size)

  # --- Factories for train_loop.Run. ---

  def model_fn(self, masked, seed, draw_masks=True):
    """() -> WRN; with `masked` and `draw_masks`, masks drawn from `seed`.

    Models that a checkpoint will overwrite need no masks drawn.
    """
    f = self.flag_values

    def build():
      keras.utils.set_random_seed(seed)
      # Binaries without mask updates (LTR's pruning) have no
      # --inactive_gradient; the layers' default serves them.
      inactive_gradient = (f.inactive_gradient if 'inactive_gradient' in f
                           else 'dense')
      model = model_spec_from_flags(f, masked).build(
          l2=f.l2, sync_batch_norm=f.sync_batch_norm,
          inactive_gradient=inactive_gradient)
      if masked and draw_masks:
        sparse_init.sparsify(
            model, f.sparsity, f.distribution, f.erk_power_scale,
            sparse_init.parse_layer_option(f.first_layer, '--first_layer'),
            sparse_init.parse_layer_option(f.last_layer, '--last_layer'),
            seed=seed)
      return model

    return build

  def hook_fn(self, updater_name, seed, total_steps):
    """(model, optimizer, loss_fn) -> SparsityHook with the flags' schedule."""
    f = self.flag_values

    def build(model, optimizer, loss_fn):
      end = total_steps if f.drop_fraction_schedule == 'cosine' else None
      schedule = schedules.make_schedule(f.drop_fraction_schedule,
                                         f.drop_fraction,
                                         self.update_interval_steps, 0, end)
      updater = updaters.make_updater(
          updater_name, seed, regrow_at_zero=f.regrow_at_zero,
          update_dense_layers=f.update_dense_layers)
      logging.info('[%s] %s updates every %d steps (ΔT = %d at a batch of '
                   '128), p = %s (%s)', self.config.method, updater_name,
                   self.update_interval_steps, f.update_interval,
                   f.drop_fraction, f.drop_fraction_schedule)
      return hook_lib.SparsityHook(model, updater, schedule, loss_fn,
                                   optimizer, self.strategy)

    return build

  def updater_name(self):
    return 'rigl' if self.flag_values.growth == 'gradient' else 'set'

  def decay_multipliers(self):
    """UB's step decays as (fraction of training, multiplier) pairs.

    UB gives `lr_decay_epochs` for 200 epochs and scales them to whole
    epochs of `train_epochs`: epoch * train_epochs // 200 (the authors'
    int(epochs / 2) and int(epochs * 3 / 4) for the defaults).
    """
    return plans.decay_multipliers(self.flag_values.lr_decay_epochs,
                                   self.flag_values.lr_decay_ratio,
                                   self.flag_values.train_epochs)

  def save_ticket(self, index, run, path):
    """`on_ticket` callback of train_loop.Run: writes ticket `index`.

    Its ticket.json describes it: the model spec that rebuilds it, the
    method, sparsity, test metrics and the run's identity.
    """
    probs, labels = run.test_predictions()
    info = {'index': index, 'epoch': run.completed_epochs,
            'method': self.config.method,
            'model': self.identity['model'],
            'sparsity': run.sparsity(),
            'path': os.path.relpath(
                tickets.ticket_dir(self.config.output_dir, index),
                self.config.output_dir),
            'run_identity': self.identity,
            **evaluation.model_metrics(probs, labels, 'test/',
                                       self.config.num_bins)}
    if run.history and 'validation/accuracy' in run.history[-1]:
      info['validation/accuracy'] = run.history[-1]['validation/accuracy']
    tickets.save(path, run.model, probs, labels, info)
    logging.info('[%s] saved ticket %d at epoch %d: test accuracy %.4f, '
                 'sparsity %.4f', self.config.method, index, info['epoch'],
                 info['test/accuracy'], info['sparsity'])

  def train_members(self, member_indices, masked, updater_name, epochs,
                    lr_multipliers, init_fn=None, warmup=True):
    """Trains independent members one after another (DST, static, dense).

    `updater_name` ('rigl', 'set', 'static') picks the sparsity hook; None
    trains without one (dense models, LTR's fixed-mask retrains).

    Member j uses seed + j for its weights, masks and data order. Members
    whose ticket is complete are skipped, so a restarted job (or a cluster
    job per `--member_index`) continues where it stopped. With `init_fn`
    (LTR: rewound weights and the pruned mask) no masks are drawn.

    Returns:
      dict member index -> that member's per-epoch history.
    """
    histories = {}
    steps = epochs * self.steps_per_epoch
    for j in member_indices:
      path = tickets.ticket_dir(self.config.output_dir, j)
      if tickets.is_complete(path):
        stored = tickets.load_info(path).get('run_identity') or {}
        differ = run_identity.differences(stored, self.identity)
        if differ:
          raise app.UsageError(
              f'{path} is a ticket of another run; use a new --output_dir. '
              f'Its ticket.json differs: {"; ".join(differ)}')
        logging.info('[%s] member %d already has a ticket of this run; '
                     'skipped.', self.config.method, j)
        continue
      seed = self.config.seed + j
      config = dataclasses.replace(self.config, seed=seed)
      if not warmup:
        config.warmup_epochs = 0
      run = train_loop.Run(
          config, self.strategy,
          self.model_fn(masked, seed, draw_masks=init_fn is None),
          plans.member_phases(epochs, lr_multipliers, j), f'member_{j}',
          hook_fn=(self.hook_fn(updater_name, seed, steps)
                   if masked and updater_name else None),
          init_fn=init_fn,
          summary_dir=os.path.join(self.config.output_dir, 'summaries',
                                   f'member_{j}'))
      run.train(on_ticket=self.save_ticket)
      with run.writer.as_default():
        last = run.history[-1] if run.history else None
        reporting.write_hparams(self, last, member_index=j, seed=seed)
      histories[str(j)] = run.history
    return histories


def model_spec_from_flags(flag_values, masked):
  """The `model_spec.ModelSpec` of the WRN the flags describe."""
  f = flag_values
  return model_spec_lib.ModelSpec(
      depth=f.depth, width_multiplier=f.width_multiplier,
      num_classes=common_flags.num_classes(f.dataset),
      input_shape=data.IMAGE_SHAPE, masked=masked, dataset=f.dataset,
      dropout_rate=f.dropout_rate)


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


def run_members(flag_values, method, updater_name, masked):
  """main() of the member-based binaries (DST, static sparse, dense).

  Args:
    flag_values: the parsed flags.
    method: FLOPs method and log name ('dst_ensemble', 'static', 'dense').
    updater_name: 'static', or None for --growth (RigL / SET).
    masked: sparse (masked) or dense model.
  """
  f = flag_values
  if f.quick:
    apply_quick_mode(f, dict(train_epochs=3))
  members = member_indices(f)
  exp = Experiment.from_flags(f, method, masked)
  if masked and updater_name is None:
    updater_name = exp.updater_name()
  histories = exp.train_members(members, masked, updater_name, f.train_epochs,
                                exp.decay_multipliers())
  return reporting.report_members(exp, f.ensemble_size, masked, method,
                                  f.train_epochs, histories)


def load_train_test(f, num_classes):
  """Train, validation (or None) and test splits from TFDS or npz.

  With --train_proportion < 1 the last part of train is held out (UB's
  validation split). The splits are validated.
  """
  if bool(f.train_npz) != bool(f.test_npz):
    raise data.DataError('--train_npz and --test_npz go together.')
  if f.train_npz:
    train = data.load_npz(f.train_npz, num_classes, 'train_npz')
  else:
    train = data.load_tfds(f.dataset, 'train', f.data_dir, f.download_data)
  test = load_test(f, num_classes)
  validation = None
  if f.train_proportion < 1.0:
    kept = math.floor(train.num_examples * f.train_proportion)
    validation = data.skip(train, kept)
    train = data.take(train, kept)
  return data.take(train, f.train_examples), validation, test


def load_test(f, num_classes):
  """The test split (its first --test_examples) from --test_npz or TFDS."""
  if f.test_npz:
    test = data.load_npz(f.test_npz, num_classes, 'test_npz')
  else:
    test = data.load_tfds(f.dataset, 'test', f.data_dir, f.download_data)
  return data.take(test, f.test_examples)


def load_ood(f, num_test_examples):
  """OOD splits: TFDS names from --ood_dataset, or --ood_npz name=path.

  `gaussian_noise` in --ood_dataset is generated on either route
  (`data.gaussian_noise`, as many images as the test split).
  """
  if f.ood_npz:
    ood = {name: data.load_npz(path, None, name) for name, path in
           (item.split('=', 1) for item in f.ood_npz)}
  else:
    ood = {name: data.take(data.load_tfds(name, 'test', f.data_dir,
                                          f.download_data), f.test_examples)
           for name in f.ood_dataset if name != data.GAUSSIAN_NOISE}
  if data.GAUSSIAN_NOISE in f.ood_dataset:
    ood[data.GAUSSIAN_NOISE] = data.gaussian_noise(
        num_test_examples, data.PREPROCESSING[f.dataset])
  return ood
