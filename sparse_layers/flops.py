r"""Inference and training FLOPs of dense and sparse models (paper App. D).

RigL's convention (Evci et al. 2020 and google-research/rigl): a layer's
inference FLOPs are the multiply-adds of its kernel over all output
positions, scaled by its density; a training step costs 3x the forward pass
(forward, input gradient, weight gradient); a RigL step with update
interval ΔT costs on average `(3 f_S ΔT + 2 f_S + f_D) / (ΔT + 1)` (the
dense gradient at update steps).
Training FLOPs of whole methods (EDST, the ensembles) are composed from
these in `baselines/evaluation/method_cards.py`; their command line is
`python -m baselines.analysis.training_flops`.
"""

import dataclasses
import math

from sparse_layers import sparse_init

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


def totals(per_layer):
  """Dense and sparse inference totals and their ratio, from `layer_flops`.

  Returns:
    dict with dense_flops, sparse_flops and flops_ratio.
  """
  dense = sum(l.dense_flops for l in per_layer)
  sparse = sum(l.flops for l in per_layer)
  return {'dense_flops': dense, 'sparse_flops': sparse,
          'flops_ratio': sparse / dense}


def model_report(model, sparsity, distribution='erk', erk_power_scale=1.0,
                 first_layer='include', last_layer='include'):
  """Inference FLOPs of a model at a sparsity: per layer, totals, ratio.

  Returns:
    dict with keys sparsity, distribution, dense_flops, sparse_flops,
    flops_ratio, layers (name, shape, density, flops, dense_flops).
  """
  layers = kernel_layers(model)
  plan = sparse_init.sparsity_plan({n: s for n, s, _ in layers}, sparsity,
                                   distribution, erk_power_scale, first_layer,
                                   last_layer)
  densities = {entry.name: entry.nonzeros / math.prod(entry.shape)
               for entry in plan}
  per_layer = layer_flops(layers, densities)
  return {
      'sparsity': sparsity,
      'distribution': distribution,
      **totals(per_layer),
      'layers': [{'name': l.name, 'shape': list(l.shape),
                  'density': l.density, 'flops': l.flops,
                  'dense_flops': l.dense_flops} for l in per_layer],
  }
