"""Sparse initialisation of a model's masked layers (Algorithm 1, line 1).

`sparsify` maps the first-layer / classifier options and per-layer overrides
to fixed densities, solves the distribution (`distributions.layer_densities`)
and draws a random mask with an exact non-zero count per layer.
"""

import dataclasses
from typing import Mapping, Optional, Union

from sparse_layers import distributions
from sparse_layers import layers as masked

# 'include': the layer takes part in the distribution; 'dense': density 1;
# a float: that explicit sparsity.
LayerOption = Union[str, float]


@dataclasses.dataclass(frozen=True)
class LayerSparsity:
  """What `sparsify` gave one layer."""
  name: str
  shape: tuple
  density: float
  nonzeros: int


def _fixed_density(option, what):
  if option == 'include':
    return None
  if option == 'dense':
    return 1.0
  if isinstance(option, (int, float)) and not isinstance(option, bool):
    distributions.check_sparsity(option, name=f'{what} sparsity')
    return 1.0 - option
  raise ValueError(f"{what} must be 'include', 'dense' or a sparsity in "
                   f'[0, 1), got {option!r}.')


def parse_layer_option(value, name):
  """'include' / 'dense' / a float sparsity, from a string (flags).

  Raises:
    ValueError: naming `name`, for anything else.
  """
  if value in ('include', 'dense'):
    return value
  try:
    sparsity = float(value)
  except ValueError:
    sparsity = None
  if sparsity is None or not 0.0 <= sparsity < 1.0:
    raise ValueError(f"{name} must be 'include', 'dense' or a sparsity in "
                     f'[0, 1), got {value!r}.')
  return sparsity


def fixed_densities(layer_names, first_layer='include', last_layer='include',
                    overrides=None):
  """Densities set by the layer options, by layer name.

  Args:
    layer_names: masked layer names in model order.
    first_layer: option for the first masked layer.
    last_layer: option for the last masked layer (the classifier).
    overrides: layer name -> explicit sparsity; wins over the two options.

  Returns:
    dict layer name -> density.
  """
  fixed = {}
  if layer_names:
    for name, option, what in ((layer_names[0], first_layer, 'first_layer'),
                               (layer_names[-1], last_layer, 'last_layer')):
      density = _fixed_density(option, what)
      if density is not None:
        fixed[name] = density
  for name, sparsity in (overrides or {}).items():
    if name not in layer_names:
      raise ValueError(f'override names unknown layer {name!r}; masked layers '
                       f'are {list(layer_names)}.')
    distributions.check_sparsity(sparsity, name=f'override sparsity of {name}')
    fixed[name] = 1.0 - sparsity
  return fixed


def sparsity_plan(shapes, sparsity, distribution='erk', erk_power_scale=1.0,
                  first_layer: LayerOption = 'include',
                  last_layer: LayerOption = 'include',
                  overrides: Optional[Mapping[str, float]] = None):
  """Densities and exact non-zero counts for kernels `shapes` (ordered).

  Returns:
    list of `LayerSparsity`, in the order of `shapes`.
  """
  fixed = fixed_densities(list(shapes), first_layer, last_layer, overrides)
  densities = distributions.layer_densities(shapes, sparsity, distribution,
                                            erk_power_scale, fixed)
  counts = distributions.nonzero_counts(shapes, densities, sparsity)
  return [LayerSparsity(name, tuple(shape), densities[name], counts[name])
          for name, shape in shapes.items()]


def sparsify(model, sparsity, distribution='erk', erk_power_scale=1.0,
             first_layer: LayerOption = 'include',
             last_layer: LayerOption = 'include',
             overrides: Optional[Mapping[str, float]] = None, seed=0):
  """Draws random sparse masks for every masked layer of `model`.

  Layer i's mask is reproducible from (seed, i); its kernel is zeroed where the
  mask is 0. Call it before building the optimizer's slots or right after.

  Args:
    model: a built model with `MaskedConv2D` / `MaskedDense` layers.
    sparsity: overall sparsity in [0, 1) over the masked layers.
    distribution: 'uniform', 'er' or 'erk'.
    erk_power_scale: ERK exponent.
    first_layer: 'include', 'dense' or an explicit sparsity.
    last_layer: the same for the classifier.
    overrides: layer name -> explicit sparsity.
    seed: int seed.

  Returns:
    list of `LayerSparsity`, one per masked layer.
  """
  layers = masked.masked_layers(model)
  if not layers:
    raise ValueError('the model has no MaskedConv2D / MaskedDense layers.')
  shapes = {layer.name: tuple(layer.kernel.shape) for layer in layers}
  plan = sparsity_plan(shapes, sparsity, distribution, erk_power_scale,
                       first_layer, last_layer, overrides)
  for index, (layer, entry) in enumerate(zip(layers, plan)):
    layer.set_mask(
        distributions.random_mask(entry.shape, entry.nonzeros, [seed, index]))
  return plan
