r"""Inference and training FLOPs of dense and sparse models (paper App. D).

RigL's convention (Evci et al. 2020 and google-research/rigl): a layer's inference FLOPs are the
multiply-adds of its kernel over all output positions, scaled by its density;
a training step costs 3x the forward pass (forward, input gradient, weight
gradient); a RigL step with update interval ΔT costs on average
`(3 f_S ΔT + 2 f_S + f_D) / (ΔT + 1)` (the dense gradient at update steps).
A method's training FLOPs are given relative to training one dense model for
`dense_epochs` epochs.

Command line:

  python -m sparse_layers.flops --model=wrn --depth=28 --width=10 \
      --num_classes=100 --sparsity=0.8 --distribution=erk --method=edst \
      --ensemble_size=3 [--json]
"""

import dataclasses
import json
import math
import sys

from sparse_layers import sparse_init

METHODS = ('dense', 'static', 'rigl', 'set', 'edst', 'dst_ensemble', 'ltr')


@dataclasses.dataclass(frozen=True)
class LayerFlops:
  name: str
  shape: tuple
  output_positions: int
  density: float
  dense_flops: int
  flops: float


def kernel_layers(model):
  """(name, kernel shape, output positions) of every Conv2D / Dense layer.

  Args:
    model: a built functional Keras model (masked or not).

  Returns:
    list of tuples in layer order.
  """
  found = []

  def visit(layer):
    kernel = getattr(layer, 'kernel', None)
    if kernel is not None and len(kernel.shape) in (2, 4):
      output_shape = layer.output_shape
      positions = math.prod(output_shape[1:-1]) if len(kernel.shape) == 4 else 1
      found.append((layer.name, tuple(kernel.shape), positions))
    for child in getattr(layer, 'layers', ()):
      visit(child)

  for layer in model.layers:
    visit(layer)
  return found


def layer_flops(layers, densities=None):
  """Per-layer inference FLOPs.

  Args:
    layers: (name, kernel shape, output positions) tuples.
    densities: layer name -> density; missing layers are dense.

  Returns:
    list of `LayerFlops`.
  """
  densities = densities or {}
  result = []
  for name, shape, positions in layers:
    dense = math.prod(shape) * positions
    density = densities.get(name, 1.0)
    result.append(LayerFlops(name, shape, positions, density, dense,
                             dense * density))
  return result


def rigl_step_flops(dense_flops, sparse_flops, update_interval):
  """Average FLOPs of a RigL training step (3 f_S, plus f_D every ΔT)."""
  if update_interval < 1:
    raise ValueError(f'update_interval must be >= 1, got {update_interval}.')
  return (3 * sparse_flops * update_interval + 2 * sparse_flops +
          dense_flops) / (update_interval + 1)


def gmp_mean_density_ratio(final_ratio, begin_fraction, end_fraction,
                           num_points=10000):
  """Mean FLOPs ratio over a gradual-magnitude-pruning run (Zhu & Gupta).

  The sparsity follows the cubic schedule s(t) = S (1 - (1 - u)^3), u the
  progress in [begin, end] (tfmot `PolynomialDecay`, power 3); the FLOPs ratio
  is taken to fall linearly with s(t) from 1 to `final_ratio`.

  Args:
    final_ratio: sparse / dense FLOPs at the end of pruning.
    begin_fraction: fraction of training when pruning starts.
    end_fraction: fraction of training when pruning ends.
    num_points: integration points.

  Returns:
    The mean over training of the step FLOPs ratio.
  """
  if not 0.0 <= begin_fraction < end_fraction <= 1.0:
    raise ValueError('need 0 <= ltr_prune_begin < ltr_prune_end <= 1, got '
                     f'{begin_fraction}, {end_fraction}.')
  total = 0.0
  for i in range(num_points):
    t = (i + 0.5) / num_points
    u = min(max((t - begin_fraction) / (end_fraction - begin_fraction), 0.0),
            1.0)
    total += 1.0 - (1.0 - final_ratio) * (1.0 - (1.0 - u)**3)
  return total / num_points


def train_flops_ratio(method, dense_flops, sparse_flops, *, dense_epochs=250,
                      train_epochs=250, ensemble_size=1, update_interval=1000,
                      exploration_epochs=150, refinement_epochs=100,
                      ltr_rewind_fraction=0.05, ltr_prune_begin=0.05,
                      ltr_prune_end=0.75):
  """Training FLOPs of `method` over one dense model's `dense_epochs`.

  Methods: 'dense' (M dense runs), 'static' (M static sparse runs), 'rigl'
  and 'dst_ensemble' (M RigL runs), 'set' (M SET runs, no dense gradient),
  'edst' (one run of t_ex + M t_re epochs of RigL; the M - 1 re-explorations
  add one dense gradient each, negligible and left out), 'ltr' (one GMP run,
  then M sparse retrains from the rewind point).

  Returns:
    float ratio.
  """
  if method not in METHODS:
    raise ValueError(f'method must be one of {METHODS}, got {method!r}.')
  if ensemble_size < 1:
    raise ValueError(f'ensemble_size must be >= 1, got {ensemble_size}.')
  dense_cost = 3.0 * dense_flops * dense_epochs
  rigl = rigl_step_flops(dense_flops, sparse_flops, update_interval)
  m = ensemble_size
  per_epoch = {
      'dense': 3.0 * dense_flops * m * train_epochs,
      'static': 3.0 * sparse_flops * m * train_epochs,
      'set': 3.0 * sparse_flops * m * train_epochs,
      'rigl': rigl * m * train_epochs,
      'dst_ensemble': rigl * m * train_epochs,
      'edst': rigl * (exploration_epochs + m * refinement_epochs),
  }
  if method == 'ltr':
    ratio = sparse_flops / dense_flops
    gmp = gmp_mean_density_ratio(ratio, ltr_prune_begin, ltr_prune_end)
    cost = (3.0 * dense_flops * train_epochs * gmp + 3.0 * sparse_flops * m *
            train_epochs * (1.0 - ltr_rewind_fraction))
    return cost / dense_cost
  return per_epoch[method] / dense_cost


def forward_passes(method, ensemble_size):
  """Complete training runs a method needs (the paper's last column)."""
  if method == 'edst':
    return 1
  if method == 'ltr':
    return ensemble_size + 1
  return ensemble_size


def build_model(name, depth=28, width=10, num_classes=10, image_size=None):
  """The dense Keras model whose layer shapes the FLOPs are computed on."""
  from sparse_layers import models  # pylint: disable=g-import-not-at-top
  if name == 'wrn':
    size = image_size or 32
    return models.wide_resnet((size, size, 3), depth, width, num_classes,
                              masked=False)
  if name == 'resnet50':
    size = image_size or 224
    return models.resnet50((size, size, 3), num_classes, masked=False)
  raise ValueError(f'model must be one of {models.MODELS}, got {name!r}.')


def totals(per_layer, method, **train_kwargs):
  """Dense and sparse totals, their ratio, the method's training ratio and
  forward passes, from `layer_flops` output.

  Returns:
    dict with dense_flops, sparse_flops, flops_ratio, train_flops_ratio and
    forward_passes.
  """
  dense = sum(l.dense_flops for l in per_layer)
  sparse = sum(l.flops for l in per_layer)
  return {
      'dense_flops': dense,
      'sparse_flops': sparse,
      'flops_ratio': sparse / dense,
      'train_flops_ratio': train_flops_ratio(method, dense, sparse,
                                             **train_kwargs),
      'forward_passes': forward_passes(method,
                                       train_kwargs.get('ensemble_size', 1)),
  }


def report(model, sparsity, distribution='erk', erk_power_scale=1.0,
           first_layer='include', last_layer='include', method='rigl',
           **train_kwargs):
  """FLOPs report of a model at a sparsity: per layer, totals and ratios.

  Returns:
    dict with keys dense_flops, sparse_flops, flops_ratio, train_flops_ratio,
    forward_passes, method, sparsity, distribution, layers (name, shape,
    density, flops, dense_flops).
  """
  layers = kernel_layers(model)
  plan = sparse_init.sparsity_plan({n: s for n, s, _ in layers}, sparsity,
                                   distribution, erk_power_scale, first_layer,
                                   last_layer)
  densities = {entry.name: entry.nonzeros / math.prod(entry.shape)
               for entry in plan}
  per_layer = layer_flops(layers, densities)
  return {
      'method': method,
      'sparsity': sparsity,
      'distribution': distribution,
      **totals(per_layer, method, **train_kwargs),
      'layers': [{'name': l.name, 'shape': list(l.shape),
                  'density': l.density, 'flops': l.flops,
                  'dense_flops': l.dense_flops} for l in per_layer],
  }


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
      f'training FLOPs ({result["method"]}) vs one dense run: '
      f'{result["train_flops_ratio"]:.4f}x',
      f'forward passes: {result["forward_passes"]}',
  ]
  return '\n'.join(lines)


def _define_flags():
  from absl import flags  # pylint: disable=g-import-not-at-top
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
  flags.DEFINE_enum('method', 'rigl', list(METHODS), 'Training method.')
  flags.DEFINE_integer('ensemble_size', 1, 'M.')
  flags.DEFINE_integer('train_epochs', 250, 'Epochs per run (not EDST).')
  flags.DEFINE_integer('exploration_epochs', 150, 'EDST t_ex.')
  flags.DEFINE_integer('refinement_epochs', 100, 'EDST t_re.')
  flags.DEFINE_integer('dense_epochs', 250, 'Epochs of the dense reference.')
  flags.DEFINE_integer('update_interval', 1000, 'ΔT in steps.')
  flags.DEFINE_float('ltr_rewind_fraction', 0.05, 'LTR rewind point.')
  flags.DEFINE_float('ltr_prune_begin', 0.05, 'GMP start (fraction).')
  flags.DEFINE_float('ltr_prune_end', 0.75, 'GMP end (fraction).')
  flags.DEFINE_bool('json', False, 'Print JSON instead of a table.')
  return flags.FLAGS


def main(argv, flag_values):
  del argv
  f = flag_values
  try:
    model = build_model(f.model, f.depth, f.width, f.num_classes, f.image_size)
    result = report(
        model, f.sparsity, f.distribution, f.erk_power_scale,
        sparse_init.parse_layer_option(f.first_layer, '--first_layer'),
        sparse_init.parse_layer_option(f.last_layer, '--last_layer'),
        f.method,
        dense_epochs=f.dense_epochs, train_epochs=f.train_epochs,
        ensemble_size=f.ensemble_size, update_interval=f.update_interval,
        exploration_epochs=f.exploration_epochs,
        refinement_epochs=f.refinement_epochs,
        ltr_rewind_fraction=f.ltr_rewind_fraction,
        ltr_prune_begin=f.ltr_prune_begin, ltr_prune_end=f.ltr_prune_end)
  except ValueError as e:
    sys.exit(f'error: {e}')
  print(json.dumps(result, indent=1) if f.json else format_report(result))


if __name__ == '__main__':
  from absl import app  # pylint: disable=g-import-not-at-top
  _FLAGS = _define_flags()
  app.run(lambda argv: main(argv, _FLAGS))
