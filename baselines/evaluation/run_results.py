"""The end of a run: ensemble metrics from tickets, summaries, metrics.json.

`report` turns saved tickets into UB-keyed ensemble, corrupted and OOD
metrics, FLOPs figures, TensorBoard summaries (`summaries/ensemble`, with
hparams) and `metrics.json`. Each function takes the `experiment.Experiment`
whose strategy, data and flags the run used.
"""

from typing import Dict, List

from absl import logging
import numpy as np
import tensorflow as tf

from baselines.artifacts import ticket_store
from baselines.evaluation import evaluate
from baselines.evaluation import method_cards
from baselines.runtime import files
from baselines.runtime import strategies
from sparse_layers import ensemble as ensemble_lib
from sparse_layers import flops
from sparse_layers import layers as masked_layers
from sparse_layers.keras_alias import keras


def report_members(exp, ensemble_size, masked, method, epochs, histories,
                   **flops_kwargs):
  """The ensemble report once all M member tickets exist (else None)."""
  strategies.barrier(exp.strategy)  # The chief has written this job's tickets.
  paths = [exp.config.layout.ticket_dir(j) for j in range(ensemble_size)]
  missing = [j for j, p in enumerate(paths) if not ticket_store.is_complete(p)]
  if missing:
    logging.info('[%s] members %s not trained yet; no ensemble report.',
                 method, missing)
    return None
  model_fn = exp.model_fn(masked, exp.config.seed, draw_masks=False)
  with exp.strategy.scope():
    model = model_fn()
  ticket_store.restore_model(paths[0], model)
  flops_figures = flops_report(exp, model, method, ensemble_size, epochs,
                               **flops_kwargs)
  return report(exp, paths, model_fn, histories, flops_figures, step=epochs)


def report(exp, ticket_paths: List[str], model_fn, history,
           train_flops: Dict, step: int):
  """Ensemble metrics from saved tickets; summaries and metrics.json.

  In a multi-worker run every worker reads the chief's tickets, once all
  have reached this point (the chief has written them).
  """
  strategies.barrier(exp.strategy)
  infos = [ticket_store.load_info(p) for p in ticket_paths]
  member_probs, labels = ticket_store.load_member_predictions(ticket_paths)
  results = evaluate_ensemble(
      exp, member_probs, labels,
      lambda: _restore_members(exp, ticket_paths, model_fn))
  table = ticket_table(infos, results)
  payload = write_results(
      exp, results,
      {'tickets': infos, 'flops': train_flops, 'history': history,
       'ticket_table': table}, step, train_flops)
  logging.info('[%s] tickets and their ensemble:\n%s', exp.config.method,
               format_table(table))
  logging.info('[%s] ensemble of %d: test accuracy %.4f, NLL %.4f, ECE '
               '%.4f; training FLOPs %.3fx a dense model',
               exp.config.method, len(ticket_paths),
               results['test/accuracy'],
               results['test/negative_log_likelihood'], results['test/ece'],
               train_flops.get('train_flops_ratio', float('nan')))
  return payload


TABLE_COLUMNS = (('accuracy', 'test/accuracy'),
                 ('nll', 'test/negative_log_likelihood'),
                 ('ece', 'test/ece'))


def ticket_table(infos, results):
  """Rows of each ticket and of their ensemble: accuracy, NLL, ECE, sparsity.

  The ensemble's sparsity is the tickets' mean (each forward pass is one
  ticket's).
  """
  rows = []
  for info in infos:
    row = {'name': f'ticket_{info["index"]}', 'sparsity': info['sparsity']}
    row.update({name: info[key] for name, key in TABLE_COLUMNS})
    rows.append(row)
  ensemble = {'name': f'ensemble of {len(infos)}',
              'sparsity': float(np.mean([i['sparsity'] for i in infos]))}
  ensemble.update({name: results[key] for name, key in TABLE_COLUMNS})
  return rows + [ensemble]


def format_table(rows):
  """A fixed-width text table of `ticket_table` rows."""
  names = ('accuracy', 'nll', 'ece', 'sparsity')
  width = max(len(r['name']) for r in rows)
  lines = [f'{"":{width}}  ' + '  '.join(f'{n:>8}' for n in names)]
  for r in rows:
    lines.append(f'{r["name"]:{width}}  ' +
                 '  '.join(f'{r[n]:8.4f}' for n in names))
  return '\n'.join(lines)


def evaluate_ensemble(exp, member_probs, labels, members_fn):
  """Test metrics from predictions; corrupted, OOD and extra test sets
  (ImageNet-A: `imagenet_a/accuracy`, ...) from the members, through the
  ensemble's mean on the device (`evaluate.Evaluator`).

  Args:
    exp: the run's `experiment.Experiment`.
    member_probs: [M, N, K] test probabilities.
    labels: [N] test labels.
    members_fn: () -> list of models, called only if corrupted, OOD or
      extra test sets are evaluated.

  Returns:
    dict of UB-keyed metrics.
  """
  results = evaluate.ensemble_metrics(member_probs, labels,
                                      exp.config.num_bins)
  if not (exp.corrupted_splits or exp.ood_splits or exp.extra_test_splits):
    return results
  members = members_fn()
  evaluator = ensemble_evaluator(exp, members)
  for name, split in exp.extra_test_splits.items():
    scorer = (evaluator if split.classes is None else
              ensemble_evaluator(exp, members, split.classes))
    results.update(evaluate.prefixed(scorer.metrics(split), f'{name}/'))
  if exp.corrupted_splits:
    results.update(evaluate.corrupted_metrics(
        evaluator.metrics, exp.corrupted_splits,
        exp.config.corruption_benchmark))
  if exp.ood_splits:
    ood_probs = {name: evaluator.predictions(split)[0]
                 for name, split in exp.ood_splits.items()}
    results.update(evaluate.ood_metrics(np.mean(member_probs, 0),
                                        ood_probs))
  return results


def evaluate_members(exp, members, member_names):
  """ensemble.py's report: the restored `members` evaluated as an ensemble,
  written like a run's (summaries/ensemble, metrics.json)."""
  predictions = [member_evaluator(exp, m).predictions(exp.config.test_split)
                 for m in members]
  results = evaluate_ensemble(exp, [p for p, _ in predictions],
                              predictions[0][1], lambda: members)
  write_results(exp, results, {'members': list(member_names)}, step=1)
  logging.info('ensemble of %d: test accuracy %.4f, NLL %.4f, ECE %.4f',
               len(members), results['test/accuracy'],
               results['test/negative_log_likelihood'], results['test/ece'])
  return results


def write_results(exp, results, extra, step, scalars=None):
  """summaries/ensemble scalars + hparams, and metrics.json (atomic)."""
  writer = tf.summary.create_file_writer(
      exp.config.layout.summaries('ensemble'))
  with writer.as_default():
    for key, value in results.items():
      tf.summary.scalar(key, value, step=step)
    for key, value in (scalars or {}).items():
      if isinstance(value, (int, float)):
        tf.summary.scalar(f'flops/{key}', value, step=step)
    write_hparams(exp, results)
  payload = {'metrics': results, 'method': exp.config.method,
             'flags': exp.project_flags,
             'result_flags': sorted(exp.identity['flags']), **extra}
  files.write_json_atomic(exp.config.layout.metrics_file(), payload)
  return payload


def _restore_members(exp, ticket_paths, model_fn):
  members = []
  for path in ticket_paths:
    with exp.strategy.scope():
      model = model_fn()
    ticket_store.restore_model(path, model)
    members.append(model)
  return members


def member_evaluator(exp, model):
  """An `evaluate.Evaluator` of one member under the run's strategy."""
  return evaluate.Evaluator(model, exp.strategy,
                            exp.config.global_batch_size,
                            exp.config.preprocessing, exp.config.num_bins,
                            exp.config.jit_compile)


def ensemble_evaluator(exp, members, classes=None):
  """An `evaluate.Evaluator` of the members' mean probabilities; with
  `classes`, each member's softmax is over those classes' logits alone."""
  with exp.strategy.scope():
    model = ensemble_lib.ensemble_model(
        [keras.Model(m.inputs, m.outputs if classes is None else
                     evaluate.KeepClasses(classes)(m.outputs[0]),
                     name=f'member_{i}')
         for i, m in enumerate(members)])
  return evaluate.Evaluator(model, exp.strategy,
                            exp.config.global_batch_size,
                            exp.config.preprocessing, exp.config.num_bins,
                            exp.config.jit_compile,
                            outputs_probabilities=True)


def flops_report(exp, model, method, ensemble_size, train_epochs,
                 **ratio_kwargs):
  """FLOPs of `model` at its current masks, and the method's training cost."""
  layers = flops.kernel_layers(model)
  masked = {l.name: l for l in masked_layers.masked_layers(model)}
  densities = {name: float(masked[name].mask.numpy().mean())
               for name, _, _ in layers if name in masked}
  return method_cards.totals(
      flops.layer_flops(layers, densities), method,
      dense_epochs=exp.dense_epochs, train_epochs=train_epochs,
      ensemble_size=ensemble_size,
      update_interval=exp.update_interval_steps, **ratio_kwargs)


def write_run_hparams(exp, run, **extra):
  """`write_hparams` into a trained run's own summary directory, so that
  TensorBoard's HParams tab links its per-epoch curves."""
  epochs = [h for h in run.history if 'test/accuracy' in h]
  with run.writer.as_default():
    write_hparams(exp, epochs[-1] if epochs else None, **extra)


# Metrics shown against the hyper-parameters in TensorBoard's HParams tab.
HPARAM_METRICS = ('test/accuracy', 'test/negative_log_likelihood', 'test/ece')


def hparams(exp, **extra):
  """The run's hyper-parameters: the method, global batch and every flag
  that can change the result (the run's identity), as TensorBoard HParams
  values (lists joined by commas; unset flags left out).
  """
  values = {'method': exp.config.method,
            'global_batch_size': exp.config.global_batch_size}
  for name, value in exp.identity['flags'].items():
    if value is not None:
      values[name] = (','.join(map(str, value)) if isinstance(value, list)
                      else value)
  values.update(extra)
  return values


def write_hparams(exp, results=None, **extra):
  """UB writes the run's hyper-parameters (TensorBoard HParams) at the end.

  Into the default summary writer: an hparams config (every hparam, and
  `HPARAM_METRICS` found in `results`) and this run's values. Members call
  it with `member_index` in their own summary directory.
  """
  from tensorboard.plugins.hparams import api as hp  # pylint: disable=g-import-not-at-top
  values = hparams(exp, **extra)
  metrics = [hp.Metric(key) for key in HPARAM_METRICS
             if results is None or key in results]
  hp.hparams_config(hparams=[hp.HParam(name) for name in values],
                    metrics=metrics)
  hp.hparams(values)
