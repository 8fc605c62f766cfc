r"""Inference and training FLOPs of a method (paper App. D, Tables 1 and 3).

The per-layer inference FLOPs of a model at a sparsity (`sparse_layers.flops`)
and a method's training FLOPs relative to one dense run of `dense_epochs`
(`method_cards`).

  python -m baselines.analysis.training_flops --model=wrn --depth=28 \
      --width=10 --num_classes=100 --sparsity=0.8 --distribution=erk \
      --method=edst --ensemble_size=3 [--json]
"""

import json
import sys

from absl import app
from absl import flags

from baselines.evaluation import method_cards
from sparse_layers import flops
from sparse_layers import sparse_init


# The data-set family of each --model (its dense reference).
_FAMILY = {'wrn': 'cifar', 'resnet50': 'imagenet'}


def report(model, sparsity, distribution='erk', erk_power_scale=1.0,
           first_layer='include', last_layer='include', method='rigl',
           **train_kwargs):
  """FLOPs report of a model at a sparsity: per layer, totals and ratios.

  Returns:
    dict with keys method, sparsity, distribution, dense_flops,
    sparse_flops, flops_ratio, train_flops_ratio, forward_passes, layers
    (name, shape, density, flops, dense_flops).
  """
  result = flops.model_report(model, sparsity, distribution, erk_power_scale,
                              first_layer, last_layer)
  return {'method': method, **result,
          **method_cards.training_figures(method, result['dense_flops'],
                                          result['sparse_flops'],
                                          **train_kwargs)}


def format_report(result):
  """Human-readable table of `report`'s result."""
  lines = [f'{"layer":<28} {"shape":<20} {"density":>8} {"MFLOPs":>10}']
  for layer in result['layers']:
    lines.append(f'{layer["name"]:<28} {str(tuple(layer["shape"])):<20} '
                 f'{layer["density"]:>8.4f} {layer["flops"] / 1e6:>10.2f}')
  lines += [
      f'dense inference FLOPs:  {result["dense_flops"]:.4e}',
      f'sparse inference FLOPs: {result["sparse_flops"]:.4e}',
      f'inference FLOPs ratio:  {result["flops_ratio"]:.4f}',
      f'training FLOPs ({result["method"]}) vs one dense run of '
      f'D = {result["dense_epochs"]} epochs: '
      f'{result["train_flops_ratio"]:.4f}x',
      f'  (D: {method_cards.DENSE_REFERENCE_WHY})',
      f'forward passes: {result["forward_passes"]}',
  ]
  return '\n'.join(lines)


def define_flags():
  """The command line's flags."""
  flags.DEFINE_enum('model', 'wrn', ['wrn', 'resnet50'], 'Architecture.')
  flags.DEFINE_integer('depth', 28, 'WRN depth.')
  flags.DEFINE_integer('width', 10, 'WRN width multiplier.')
  flags.DEFINE_integer('num_classes', 10, 'Classifier outputs.')
  flags.DEFINE_integer('image_size', None, 'Input size (32 WRN, 224 ResNet).')
  flags.DEFINE_float('sparsity', 0.8, 'Overall sparsity S in [0, 1).')
  flags.DEFINE_enum('distribution', 'erk', ['uniform', 'er', 'erk'],
                    'Layer-wise sparsity distribution.')
  flags.DEFINE_float('erk_power_scale', 1.0, 'ERK exponent.')
  flags.DEFINE_string('first_layer', 'include',
                      "'include', 'dense' or an explicit sparsity.")
  flags.DEFINE_string('last_layer', 'include',
                      "'include', 'dense' or an explicit sparsity.")
  flags.DEFINE_enum('method', 'rigl', list(method_cards.TRAINED),
                    'Training method.')
  flags.DEFINE_integer('ensemble_size', 1, 'M.')
  flags.DEFINE_integer('train_epochs', 250, 'Epochs per run (not EDST).')
  flags.DEFINE_integer('exploration_epochs', 150, 'EDST t_ex.')
  flags.DEFINE_integer('refinement_epochs', 100, 'EDST t_re.')
  flags.DEFINE_integer('dense_epochs', None,
                       'D, the dense reference\'s epochs; default by --model: '
                       + method_cards.DENSE_REFERENCE_WHY + '.')
  flags.DEFINE_integer('update_interval', 1000, 'ΔT in steps.')
  flags.DEFINE_float('ltr_rewind_fraction', 0.05, 'LTR rewind point.')
  flags.DEFINE_float('ltr_prune_begin', 0.05, 'GMP start (fraction).')
  flags.DEFINE_float('ltr_prune_end', 0.75, 'GMP end (fraction).')
  flags.DEFINE_bool('json', False, 'Print JSON instead of a table.')


def main(argv):
  del argv
  f = flags.FLAGS
  try:
    model = flops.build_model(f.model, f.depth, f.width, f.num_classes,
                              f.image_size)
    result = report(
        model, f.sparsity, f.distribution, f.erk_power_scale,
        sparse_init.parse_layer_option(f.first_layer, '--first_layer'),
        sparse_init.parse_layer_option(f.last_layer, '--last_layer'),
        f.method,
        dense_epochs=(f.dense_epochs or
                      method_cards.DENSE_REFERENCE_EPOCHS[_FAMILY[f.model]]),
        train_epochs=f.train_epochs,
        ensemble_size=f.ensemble_size, update_interval=f.update_interval,
        exploration_epochs=f.exploration_epochs,
        refinement_epochs=f.refinement_epochs,
        ltr_rewind_fraction=f.ltr_rewind_fraction,
        ltr_prune_begin=f.ltr_prune_begin, ltr_prune_end=f.ltr_prune_end)
  except ValueError as e:
    sys.exit(f'error: {e}')
  print(json.dumps(result, indent=1) if f.json else format_report(result))


if __name__ == '__main__':
  define_flags()
  app.run(main)
