"""Typed configs built once from a binary's flags; library code takes these.

`SparsityConfig` holds how a sparse network is initialised and how DST
changes its masks; `ModelOptions` the training-only options of the network.
`from_flags` is the only code here that reads flags (by UB's and the
paper's flag names, `common_flags`).
"""

import dataclasses
from typing import Tuple, Union

from baselines.methods import batch_scaling
from sparse_layers import sparse_init

LayerOption = Union[str, float]


@dataclasses.dataclass(frozen=True)
class SparsityConfig:
  """Sparse initialisation and DST updates (paper Sections 3.1-3.2).

  sparsity: S. distribution, erk_power_scale, first_layer, last_layer: the
    layer-wise densities (`sparse_init.sparsify`).
  updater: 'rigl', 'set' or 'static' (`updaters.make_updater`).
  update_interval_steps: ΔT in optimizer steps at the run's global batch.
  drop_fraction, drop_fraction_schedule: p and its schedule ('constant' or
    'cosine').
  cosine_restart_epochs: epochs at which a cosine schedule of p restarts
    from p (the authors' ImageNet EDST restarts it at each
    re-exploration); empty: one cosine over the whole run.
  regrow_at_zero, update_dense_layers, inactive_gradient: see
    `common_flags.define_sparsity_flags`.
  """
  sparsity: float
  distribution: str = 'erk'
  erk_power_scale: float = 1.0
  first_layer: LayerOption = 'include'
  last_layer: LayerOption = 'include'
  updater: str = 'rigl'
  update_interval_steps: int = 1000
  drop_fraction: float = 0.5
  drop_fraction_schedule: str = 'constant'
  cosine_restart_epochs: Tuple[int, ...] = ()
  regrow_at_zero: bool = True
  update_dense_layers: bool = True
  inactive_gradient: str = 'dense'
  update_interval: int = 1000  # ΔT as given, at a global batch of 128.

  @classmethod
  def from_flags(cls, flag_values, global_batch_size, masks):
    """The config of a method's sparsity flags; None for a dense one.

    Args:
      flag_values: parsed flags.
      global_batch_size: ΔT is scaled to it.
      masks: how the method's masks come about (`method.MASKS`): 'none'
        (dense: no sparsity flags), 'pruned' (LTR: --sparsity only),
        'static' (the sparsity flags, the static updater) or 'dst' (the
        sparsity flags; the updater follows --growth: gradient RigL,
        random SET).
    """
    f = flag_values
    if masks == 'none':
      return None
    if masks == 'pruned':
      return cls(sparsity=f.sparsity, updater='static')
    return cls(
        sparsity=f.sparsity, distribution=f.distribution,
        erk_power_scale=f.erk_power_scale,
        first_layer=sparse_init.parse_layer_option(f.first_layer,
                                                   '--first_layer'),
        last_layer=sparse_init.parse_layer_option(f.last_layer,
                                                  '--last_layer'),
        updater=('static' if masks == 'static' else
                 'rigl' if f.growth == 'gradient' else 'set'),
        update_interval_steps=batch_scaling.scaled_update_interval(
            f.update_interval, global_batch_size),
        update_interval=f.update_interval,
        drop_fraction=f.drop_fraction,
        drop_fraction_schedule=f.drop_fraction_schedule,
        regrow_at_zero=f.regrow_at_zero,
        update_dense_layers=f.update_dense_layers,
        inactive_gradient=f.inactive_gradient)


@dataclasses.dataclass(frozen=True)
class ModelOptions:
  """Training-only options of the network (not stored with tickets).

  l2: Keras L2 coefficient (2 * l2 * w is added to the gradient).
  sync_batch_norm: BatchNorm statistics over the global batch.
  """
  l2: float = 0.0
  sync_batch_norm: bool = False
