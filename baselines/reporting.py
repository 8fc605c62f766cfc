"""The end of a run: ensemble metrics from tickets, summaries, metrics.json.

`report` turns saved tickets into UB-keyed ensemble, corrupted and OOD
metrics, FLOPs figures, TensorBoard summaries (`summaries/ensemble`, with
hparams) and `metrics.json`. Each function takes the `experiment.Experiment`
whose strategy, data and flags the run used.
"""

import os
from typing import Dict, List

from absl import logging
import numpy as np
import tensorflow as tf

from baselines import evaluation
from baselines import files
from baselines import tickets
from sparse_layers import flops
from sparse_layers import layers as masked_layers


def report_members(exp, ensemble_size, masked, method, epochs, histories,
                   **flops_kwargs):
  """The ensemble report once all M member tickets exist (else None)."""
  paths = [tickets.ticket_dir(exp.config.output_dir, j)
           for j in range(ensemble_size)]
  missing = [j for j, p in enumerate(paths) if not tickets.is_complete(p)]
  if missing:
    logging.info('[%s] members %s not trained yet; no ensemble report.',
                 method, missing)
    return None
  model_fn = exp.model_fn(masked, exp.config.seed, draw_masks=False)
  with exp.strategy.scope():
    model = model_fn()
  tickets.restore_model(paths[0], model)
  flops_figures = flops_report(exp, model, method, ensemble_size, epochs,
                               **flops_kwargs)
  return report(exp, paths, model_fn, histories, flops_figures, step=epochs)


def report(exp, ticket_paths: List[str], model_fn, history,
           train_flops: Dict, step: int):
  """Ensemble metrics from saved tickets; summaries and metrics.json."""
  infos = [tickets.load_info(p) for p in ticket_paths]
  predictions = [tickets.load_predictions(p) for p in ticket_paths]
  results = evaluate_ensemble(
      exp, [probs for probs, _ in predictions], predictions[0][1],
      lambda: _restore_members(exp, ticket_paths, model_fn))
  payload = write_results(
      exp, results,
      {'tickets': infos, 'flops': train_flops, 'history': history}, step,
      train_flops)
  logging.info('[%s] ensemble of %d: test accuracy %.4f, NLL %.4f, ECE '
               '%.4f; training FLOPs %.3fx a dense model',
               exp.config.method, len(ticket_paths),
               results['test/accuracy'],
               results['test/negative_log_likelihood'], results['test/ece'],
               train_flops.get('train_flops_ratio', float('nan')))
  return payload


def evaluate_ensemble(exp, member_probs, labels, members_fn):
  """Test metrics from predictions; CIFAR-10-C and OOD from the members.

  Args:
    exp: the run's `experiment.Experiment`.
    member_probs: [M, N, K] test probabilities.
    labels: [N] test labels.
    members_fn: () -> list of models, called only if corrupted or OOD
      evaluation is on.

  Returns:
    dict of UB-keyed metrics.
  """
  results = evaluation.ensemble_metrics(member_probs, labels,
                                        exp.config.num_bins)
  if not (exp.corrupted_splits or exp.ood_splits):
    return results
  members = members_fn()
  if exp.corrupted_splits:
    results.update(evaluation.corrupted_metrics(
        lambda split: ensemble_predict(exp, members, split),
        exp.corrupted_splits, exp.config.num_bins))
  if exp.ood_splits:
    ood_probs = {name: ensemble_predict(exp, members, split)[0]
                 for name, split in exp.ood_splits.items()}
    results.update(evaluation.ood_metrics(np.mean(member_probs, 0),
                                          ood_probs))
  return results


def write_results(exp, results, extra, step, scalars=None):
  """summaries/ensemble scalars + hparams, and metrics.json (atomic)."""
  writer = tf.summary.create_file_writer(
      os.path.join(exp.config.output_dir, 'summaries', 'ensemble'))
  with writer.as_default():
    for key, value in results.items():
      tf.summary.scalar(key, value, step=step)
    for key, value in (scalars or {}).items():
      if isinstance(value, (int, float)):
        tf.summary.scalar(f'flops/{key}', value, step=step)
    _write_hparams(exp)
  payload = {'metrics': results, 'method': exp.config.method,
             'flags': exp.flag_values.flags_into_string(), **extra}
  files.write_json_atomic(
      os.path.join(exp.config.output_dir, 'metrics.json'), payload)
  return payload


def _restore_members(exp, ticket_paths, model_fn):
  members = []
  for path in ticket_paths:
    with exp.strategy.scope():
      model = model_fn()
    tickets.restore_model(path, model)
    members.append(model)
  return members


def ensemble_predict(exp, members, split):
  """(mean probabilities, labels) of `members` on a split."""
  predictions = [evaluation.predict(m, split, exp.config.global_batch_size,
                                    exp.config.preprocessing)
                 for m in members]
  return np.mean([p for p, _ in predictions], 0), predictions[0][1]


def flops_report(exp, model, method, ensemble_size, train_epochs,
                 **ratio_kwargs):
  """FLOPs of `model` at its current masks, and the method's training cost."""
  f = exp.flag_values
  layers = flops.kernel_layers(model)
  masked = {l.name: l for l in masked_layers.masked_layers(model)}
  densities = {name: float(masked[name].mask.numpy().mean())
               for name, _, _ in layers if name in masked}
  figures = flops.totals(
      flops.layer_flops(layers, densities), method,
      dense_epochs=f.dense_epochs, train_epochs=train_epochs,
      ensemble_size=ensemble_size,
      update_interval=(exp.update_interval_steps if 'update_interval' in f
                       else 1000), **ratio_kwargs)
  return {**figures, 'dense_epochs': f.dense_epochs}


def _write_hparams(exp):
  """UB writes the run's hyper-parameters at the end (TensorBoard HParams).

  Unset flags (None) are left out; the global batch is written as used.
  """
  from tensorboard.plugins.hparams import api as hp  # pylint: disable=g-import-not-at-top
  flag_values = exp.flag_values
  simple = {'global_batch_size': exp.config.global_batch_size}
  for name in ('sparsity', 'ensemble_size', 'seed', 'per_core_batch_size',
               'base_learning_rate', 'l2', 'depth', 'width_multiplier',
               'dataset', 'distribution', 'update_interval', 'drop_fraction',
               'inactive_gradient', 'ticket_selection'):
    if name in flag_values and flag_values[name].value is not None:
      simple[name] = flag_values[name].value
  hp.hparams(simple)
