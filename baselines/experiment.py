"""Wiring shared by the CIFAR binaries: flags to objects, tickets, report.

`Experiment.from_flags` is the one place that reads flags; everything it
builds (strategy, data splits, `RunConfig`, model and hook factories) takes
explicit arguments. `report` turns the saved tickets into UB-keyed ensemble,
corrupted and OOD metrics, FLOPs figures, TensorBoard summaries and
`metrics.json`.
"""

import dataclasses
import functools
import logging as pylogging
import math
import os
import sys
from typing import Dict, List, Optional

from absl import app
from absl import logging
import numpy as np
import tensorflow as tf

from baselines import common_flags
from baselines import data
from baselines import evaluation
from baselines import plans
from baselines import tickets
from baselines import train_loop
from sparse_layers import flops
from sparse_layers import hook as hook_lib
from sparse_layers import layers as masked_layers
from sparse_layers import models
from sparse_layers import schedules
from sparse_layers import sparse_init
from sparse_layers import updaters
from sparse_layers.keras_alias import keras

# --quick: a WRN-10-1 on 4096 / 1000 images with ΔT = 16 steps (64 / epoch).
QUICK = dict(depth=10, width_multiplier=1, train_examples=4096,
             test_examples=1000, per_core_batch_size=64, update_interval=16,
             checkpoint_interval=1)


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
  """Wraps a binary's main: a non-finite loss exits non-zero, cleanly."""

  @functools.wraps(main)
  def wrapped(argv):
    try:
      return main(argv)
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
  """Shrinks the run: QUICK settings plus `epoch_flags` (name -> value)."""
  for name, value in {**QUICK, **epoch_flags}.items():
    if name in flag_values:
      setattr(flag_values, name, value)


@dataclasses.dataclass
class Experiment:
  """Everything a binary wires together, built from flags."""
  strategy: tf.distribute.Strategy
  config: train_loop.RunConfig
  flag_values: object
  ood_splits: Dict[str, data.Split]
  corrupted_splits: Dict[tuple, data.Split]
  validation_split: Optional[data.Split]

  @classmethod
  def from_flags(cls, flag_values, method):
    """Validates the data and builds the strategy; no training happens."""
    f = flag_values
    # TF's checkpoint saver logs every write at INFO; keep our progress lines.
    logging.get_absl_logger().addFilter(_DropCheckpointNoise())
    check_writable(f.output_dir)
    if f.deterministic:
      tf.config.experimental.enable_op_determinism()
    num_classes = common_flags.num_classes(f.dataset)
    train, test, validation = load_train_test(f, num_classes)
    ood = load_ood(f) if f.eval_on_ood else {}
    corrupted = {}
    if f.corruptions_interval > 0:
      if f.dataset != 'cifar10':
        raise data.DataError('corrupted evaluation (CIFAR-10-C) needs '
                             '--dataset=cifar10.')
      corrupted = {(c, i): data.take(data.load_tfds(
          f'cifar10_corrupted/{c}_{i}', 'test', f.data_dir, f.download_data),
                                     f.test_examples)
                   for c in data.CORRUPTIONS for i in range(1, 6)}
    strategy = make_strategy(f.tpu, f.use_gpu)
    replicas = strategy.num_replicas_in_sync
    if f.num_cores is not None and f.num_cores != replicas:
      raise ValueError(f'--num_cores={f.num_cores} but the strategy has '
                       f'{replicas} replicas; leave --num_cores unset.')
    if f.use_bfloat16:
      keras.mixed_precision.set_global_policy('mixed_bfloat16')
    batch = f.per_core_batch_size * replicas
    config = train_loop.RunConfig(
        output_dir=f.output_dir, seed=f.seed, global_batch_size=batch,
        base_learning_rate=f.base_learning_rate * batch / 128,
        momentum=1.0 - f.one_minus_momentum, num_bins=f.num_bins,
        checkpoint_interval=f.checkpoint_interval,
        warmup_epochs=f.lr_warmup_epochs, method=method, train_split=train,
        test_split=test, num_classes=num_classes)
    logging.info('%s: %d replicas, global batch %d, %d train / %d test '
                 'examples', method, replicas, batch, train.num_examples,
                 test.num_examples)
    return cls(strategy, config, f, ood, corrupted, validation)

  # --- Factories for train_loop.Run. ---

  def model_fn(self, masked, seed, draw_masks=True):
    """() -> WRN; with `masked` and `draw_masks`, masks drawn from `seed`.

    Models that a checkpoint will overwrite need no masks drawn.
    """
    f = self.flag_values

    def build():
      keras.utils.set_random_seed(seed)
      model = models.wide_resnet((32, 32, 3), f.depth, f.width_multiplier,
                                 self.config.num_classes, l2=f.l2,
                                 masked=masked,
                                 sync_batch_norm=f.sync_batch_norm)
      if masked and draw_masks:
        sparse_init.sparsify(
            model, f.sparsity, f.distribution, f.erk_power_scale,
            common_flags.layer_option(f.first_layer),
            common_flags.layer_option(f.last_layer), seed=seed)
      return model

    return build

  def hook_fn(self, updater_name, seed, total_steps):
    """(model, optimizer, loss_fn) -> SparsityHook with the flags' schedule."""
    f = self.flag_values

    def build(model, optimizer, loss_fn):
      end = total_steps if f.drop_fraction_schedule == 'cosine' else None
      schedule = schedules.make_schedule(f.drop_fraction_schedule,
                                         f.drop_fraction, f.update_interval,
                                         0, end)
      return hook_lib.SparsityHook(model, updaters.make_updater(updater_name,
                                                                seed),
                                   schedule, loss_fn, optimizer,
                                   self.strategy)

    return build

  def updater_name(self):
    return 'rigl' if self.flag_values.growth == 'gradient' else 'set'

  def decay_multipliers(self):
    """UB's step decays as (fraction of training, multiplier) pairs.

    UB gives `lr_decay_epochs` for 200 epochs and scales them to
    `train_epochs`, so each decay sits at epoch / 200 of the run.
    """
    f = self.flag_values
    pairs = [(0.0, 1.0)]
    for i, start in enumerate(f.lr_decay_epochs):
      pairs.append((float(start) / 200.0, f.lr_decay_ratio**(i + 1)))
    return tuple(pairs)

  def save_ticket(self, index, run):
    """`on_ticket` callback of train_loop.Run: writes ticket `index`."""
    probs, labels = evaluation.predict(run.model, self.config.test_split,
                                       self.config.global_batch_size)
    path = tickets.ticket_dir(self.config.output_dir, index)
    info = {'index': index, 'epoch': run.completed_epochs,
            'sparsity': run.sparsity(), 'path': path,
            **evaluation.model_metrics(probs, labels, 'test/',
                                       self.config.num_bins)}
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
    steps = epochs * (self.config.train_split.num_examples //
                      self.config.global_batch_size)
    for j in member_indices:
      if tickets.is_complete(tickets.ticket_dir(self.config.output_dir, j)):
        logging.info('[%s] member %d already has a ticket; skipped.',
                     self.config.method, j)
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
      histories[str(j)] = run.history
    return histories

  def report_members(self, ensemble_size, masked, method, epochs, histories,
                     **flops_kwargs):
    """The ensemble report once all M member tickets exist (else None)."""
    paths = [tickets.ticket_dir(self.config.output_dir, j)
             for j in range(ensemble_size)]
    missing = [j for j, p in enumerate(paths) if not tickets.is_complete(p)]
    if missing:
      logging.info('[%s] members %s not trained yet; no ensemble report.',
                   method, missing)
      return None
    model_fn = self.model_fn(masked, self.config.seed, draw_masks=False)
    with self.strategy.scope():
      model = model_fn()
    tickets.restore_model(paths[0], model)
    flops_figures = self.flops_report(model, method, ensemble_size, epochs,
                                      **flops_kwargs)
    return self.report(paths, model_fn, histories, flops_figures,
                       step=epochs)

  # --- The final report. ---

  def report(self, ticket_paths: List[str], model_fn, history,
             train_flops: Dict, step: int):
    """Ensemble metrics from saved tickets; summaries and metrics.json."""
    infos = [tickets.load_info(p) for p in ticket_paths]
    predictions = [tickets.load_predictions(p) for p in ticket_paths]
    results = self.evaluate_ensemble(
        [probs for probs, _ in predictions], predictions[0][1],
        lambda: self._restore_members(ticket_paths, model_fn))
    payload = self.write_results(
        results, {'tickets': infos, 'flops': train_flops, 'history': history},
        step, train_flops)
    logging.info('[%s] ensemble of %d: test accuracy %.4f, NLL %.4f, ECE '
                 '%.4f; training FLOPs %.3fx a dense model',
                 self.config.method, len(ticket_paths),
                 results['test/accuracy'],
                 results['test/negative_log_likelihood'], results['test/ece'],
                 train_flops.get('train_flops_ratio', float('nan')))
    return payload

  def evaluate_ensemble(self, member_probs, labels, members_fn):
    """Test metrics from predictions; CIFAR-10-C and OOD from the members.

    Args:
      member_probs: [M, N, K] test probabilities.
      labels: [N] test labels.
      members_fn: () -> list of models, called only if corrupted or OOD
        evaluation is on.

    Returns:
      dict of UB-keyed metrics.
    """
    results = evaluation.ensemble_metrics(member_probs, labels,
                                          self.config.num_bins)
    if not (self.corrupted_splits or self.ood_splits):
      return results
    members = members_fn()
    if self.corrupted_splits:
      results.update(evaluation.corrupted_metrics(
          lambda split: self.ensemble_predict(members, split),
          self.corrupted_splits, self.config.num_bins))
    if self.ood_splits:
      ood_probs = {name: self.ensemble_predict(members, split)[0]
                   for name, split in self.ood_splits.items()}
      results.update(evaluation.ood_metrics(np.mean(member_probs, 0),
                                            ood_probs))
    return results

  def write_results(self, results, extra, step, scalars=None):
    """summaries/ensemble scalars + hparams, and metrics.json (atomic)."""
    writer = tf.summary.create_file_writer(
        os.path.join(self.config.output_dir, 'summaries', 'ensemble'))
    with writer.as_default():
      for key, value in results.items():
        tf.summary.scalar(key, value, step=step)
      for key, value in (scalars or {}).items():
        if isinstance(value, (int, float)):
          tf.summary.scalar(f'flops/{key}', value, step=step)
      _write_hparams(self.flag_values)
    payload = {'metrics': results, 'method': self.config.method,
               'flags': self.flag_values.flags_into_string(), **extra}
    train_loop.write_json_atomic(
        os.path.join(self.config.output_dir, 'metrics.json'), payload)
    return payload

  def _restore_members(self, ticket_paths, model_fn):
    members = []
    for path in ticket_paths:
      with self.strategy.scope():
        model = model_fn()
      tickets.restore_model(path, model)
      members.append(model)
    return members

  def ensemble_predict(self, members, split):
    """(mean probabilities, labels) of `members` on a split."""
    predictions = [evaluation.predict(m, split, self.config.global_batch_size)
                   for m in members]
    return np.mean([p for p, _ in predictions], 0), predictions[0][1]

  def flops_report(self, model, method, ensemble_size, train_epochs,
                   **ratio_kwargs):
    """FLOPs of `model` at its current masks, and the method's training cost."""
    f = self.flag_values
    layers = flops.kernel_layers(model)
    masked = {l.name: l for l in masked_layers.masked_layers(model)}
    densities = {name: float(masked[name].mask.numpy().mean())
                 for name, _, _ in layers if name in masked}
    per_layer = flops.layer_flops(layers, densities)
    dense = sum(l.dense_flops for l in per_layer)
    sparse = sum(l.flops for l in per_layer)
    ratio = flops.train_flops_ratio(
        method, dense, sparse, dense_epochs=f.dense_epochs,
        train_epochs=train_epochs, ensemble_size=ensemble_size,
        update_interval=getattr(f, 'update_interval', 1000), **ratio_kwargs)
    return {'dense_flops': dense, 'sparse_flops': sparse,
            'flops_ratio': sparse / dense, 'train_flops_ratio': ratio,
            'forward_passes': flops.forward_passes(method, ensemble_size),
            'dense_epochs': f.dense_epochs}


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
  if f.member_index is not None and not 0 <= f.member_index < f.ensemble_size:
    raise app.UsageError(f'--member_index must be in [0, {f.ensemble_size}),'
                         f' got {f.member_index}.')
  try:
    exp = Experiment.from_flags(f, method)
  except (data.DataError, ValueError) as e:
    raise app.UsageError(str(e)) from e
  members = ([f.member_index] if f.member_index is not None else
             range(f.ensemble_size))
  if masked and updater_name is None:
    updater_name = exp.updater_name()
  histories = exp.train_members(members, masked, updater_name, f.train_epochs,
                                exp.decay_multipliers())
  return exp.report_members(f.ensemble_size, masked, method, f.train_epochs,
                            histories)


def load_train_test(f, num_classes):
  """Train, test and validation splits from TFDS or npz (validated)."""
  if bool(f.train_npz) != bool(f.test_npz):
    raise data.DataError('--train_npz and --test_npz go together.')
  if f.train_npz:
    train = data.load_npz(f.train_npz, num_classes, 'train_npz')
    test = data.load_npz(f.test_npz, num_classes, 'test_npz')
  else:
    train = data.load_tfds(f.dataset, 'train', f.data_dir, f.download_data)
    test = data.load_tfds(f.dataset, 'test', f.data_dir, f.download_data)
  validation = None
  if f.train_proportion < 1.0:
    kept = math.floor(train.num_examples * f.train_proportion)
    train, validation = data.take(train, kept), data.skip(train, kept)
  return (data.take(train, f.train_examples),
          data.take(test, f.test_examples), validation)


def load_ood(f):
  """OOD splits: TFDS names from --ood_dataset, or --ood_npz name=path."""
  if f.ood_npz:
    return {name: data.load_npz(path, None, name) for name, path in
            (item.split('=', 1) for item in f.ood_npz)}
  return {name: data.take(data.load_tfds(name, 'test', f.data_dir,
                                         f.download_data), f.test_examples)
          for name in f.ood_dataset}


def _write_hparams(flag_values):
  """UB writes the run's hyper-parameters at the end (TensorBoard HParams)."""
  from tensorboard.plugins.hparams import api as hp  # pylint: disable=g-import-not-at-top
  simple = {}
  for name in ('sparsity', 'ensemble_size', 'seed', 'per_core_batch_size',
               'base_learning_rate', 'l2', 'depth', 'width_multiplier',
               'dataset', 'distribution', 'update_interval', 'drop_fraction'):
    if name in flag_values:
      simple[name] = flag_values[name].value
  hp.hparams(simple)
