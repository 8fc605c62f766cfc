"""How each method is reported: its label, whether it is sparse, its cost.

A card per method name (the `method` of `run.json` and `metrics.json`):
the label of its rows in the paper's tables, whether S applies to it, its
training FLOPs and its forward passes (complete training runs, the paper's
last column). The results table and the end-of-run report ask these cards;
the methods themselves (`baselines/methods/`) say how they train.

Training FLOPs follow RigL's convention (`sparse_layers.flops`): a step
costs 3x the forward pass; RigL adds the dense gradient every ΔT steps; a
ratio is relative to training one dense model for D = `dense_epochs`
epochs. The paper normalises every row to the training run of its reference
method, MIMO, which is 1.00x in every table: 250 epochs on CIFAR (Table 1)
and 150 on ImageNet (Table 3; UB's baselines/imagenet/mimo.py trains 150
epochs, and the table's single dense model, 4.8e18 FLOPs, is 150 epochs of
ResNet-50 at 4.1 GFLOPs a forward pass, 3x for training, 1.28M images).
"""

import dataclasses
from typing import Callable, Optional, Tuple

from sparse_layers import flops


# D, the dense reference of training FLOPs, by data-set family.
DENSE_REFERENCE_EPOCHS = {'cifar': 250, 'imagenet': 150}
DENSE_REFERENCE_WHY = ("the paper's reference, MIMO's training run (1.00x in "
                       'every table): 250 epochs on CIFAR, 150 on ImageNet')


def rescaled_ratio(ratio, stored_dense_epochs, dense_epochs):
  """A training FLOPs ratio against `stored_dense_epochs` dense epochs,
  against `dense_epochs` instead."""
  return ratio * stored_dense_epochs / dense_epochs


@dataclasses.dataclass(frozen=True)
class TrainingPlan:
  """The schedule figures a method's training cost depends on."""
  dense_flops: float
  sparse_flops: float
  ensemble_size: int = 1
  train_epochs: int = 250
  update_interval: int = 1000
  exploration_epochs: int = 150
  refinement_epochs: int = 100
  ltr_rewind_fraction: float = 0.05
  ltr_prune_begin: float = 0.05
  ltr_prune_end: float = 0.75
  parameter_exploration: bool = True

  def step(self, rule):
    """FLOPs of one training step: 'dense', 'sparse' (static, SET: no
    dense gradient) or 'rigl' (the dense gradient every ΔT)."""
    if rule == 'dense':
      return 3.0 * self.dense_flops
    if rule == 'sparse':
      return 3.0 * self.sparse_flops
    return flops.rigl_step_flops(self.dense_flops, self.sparse_flops,
                                 self.update_interval)


def _members(rule):
  """M independent runs of `train_epochs` epochs each."""
  return lambda p: p.step(rule) * p.ensemble_size * p.train_epochs


def _edst(p):
  """One RigL run of t_ex + M t_re epochs (Algorithm 1); the M - 1
  re-explorations add one dense gradient each, negligible and left out.
  Without parameter exploration (Table 5) every step is a static sparse
  one."""
  rule = 'rigl' if p.parameter_exploration else 'sparse'
  return p.step(rule) * (p.exploration_epochs +
                         p.ensemble_size * p.refinement_epochs)


def _ltr(p):
  """One gradual-magnitude-pruning run, then M sparse retrains from the
  rewind point (Appendix C)."""
  gmp = flops.gmp_mean_density_ratio(p.sparse_flops / p.dense_flops,
                                     p.ltr_prune_begin, p.ltr_prune_end)
  return (p.step('dense') * p.train_epochs * gmp + p.step('sparse') *
          p.ensemble_size * p.train_epochs * (1.0 - p.ltr_rewind_fraction))


@dataclasses.dataclass(frozen=True)
class MethodCard:
  """label: of its rows; ensemble_label: of its rows with M > 1, if other.
  training_flops: (TrainingPlan) -> FLOPs, None for an evaluation only.
  forward_passes: (M) -> complete training runs.
  same_as_without_exploration: the method this one is when that one's masks
    stay fixed (Table 5 labels it so).
  set_by_ensemble_size: flags whose value follows M for this method (a
    sweep over M lets them differ; Figure 5).
  """
  name: str
  label: str
  sparse: bool
  training_flops: Optional[Callable[[TrainingPlan], float]]
  forward_passes: Callable[[int], int] = lambda m: m
  ensemble_label: Optional[str] = None
  same_as_without_exploration: Optional[str] = None
  set_by_ensemble_size: Tuple[str, ...] = ()


CARDS = {card.name: card for card in (
    MethodCard('dense', 'Dense', False, _members('dense'),
               ensemble_label='Dense Ensemble'),
    MethodCard('static', 'Static Sparse Ensemble', True, _members('sparse'),
               same_as_without_exploration='dst_ensemble'),
    MethodCard('rigl', 'RigL', True, _members('rigl')),
    MethodCard('set', 'SET', True, _members('sparse')),
    MethodCard('dst_ensemble', 'DST Ensemble', True, _members('rigl')),
    # Figure 5 fixes EDST's total t_ex + M t_re (Section 5.5), so t_re
    # follows M (the authors' code: t_re = (epochs - t_ex) / M).
    MethodCard('edst', 'EDST Ensemble', True, _edst, lambda m: 1,
               set_by_ensemble_size=('refinement_epochs',)),
    MethodCard('ltr', 'LTR Ensemble', True, _ltr, lambda m: m + 1),
    MethodCard('ensemble', 'Ensemble (ensemble.py)', True, None),
)}
TRAINED = tuple(name for name, card in CARDS.items() if card.training_flops)


def card(name):
  """The card of method `name`; None for a name without one."""
  return CARDS.get(name)


WITHOUT_EXPLORATION = ' (w/o Parameter Exploration)'
# Flags of parameter exploration, moot when the masks stay fixed.
EXPLORATION_FLAGS = ('reexploration_fraction', 'growth', 'update_interval',
                     'drop_fraction', 'drop_fraction_schedule')


def label(name, ensemble_size=1, parameter_exploration=True,
          ablation=False):
  """The label of a method's rows (its name if it has no card).

  Runs without parameter exploration (`--noparameter_exploration`) carry
  Table 5's suffix; with `ablation` (Table 5's layout) a method that is
  another one with fixed masks is labelled so (Static Sparse Ensemble:
  'DST Ensemble (w/o Parameter Exploration)').
  """
  found = CARDS.get(name)
  if found is None:
    return name
  if ablation and found.same_as_without_exploration:
    return label(found.same_as_without_exploration) + WITHOUT_EXPLORATION
  text = found.label
  if ensemble_size > 1 and found.ensemble_label:
    text = found.ensemble_label
  return text + ('' if parameter_exploration else WITHOUT_EXPLORATION)


def set_by_ensemble_size(name):
  """Flags whose value follows M for method `name` (none without a card)."""
  found = CARDS.get(name)
  return found.set_by_ensemble_size if found else ()


def train_flops_ratio(method, dense_flops, sparse_flops, *, dense_epochs=250,
                      **plan):
  """Training FLOPs of `method` over one dense model's `dense_epochs`.

  `plan`: `TrainingPlan`'s schedule fields (ensemble_size, train_epochs,
  update_interval, exploration_epochs, ...).
  """
  if method not in TRAINED:
    raise ValueError(f'method must be one of {TRAINED}, got {method!r}.')
  training = TrainingPlan(dense_flops, sparse_flops, **plan)
  if training.ensemble_size < 1:
    raise ValueError(f'ensemble_size must be >= 1, got '
                     f'{training.ensemble_size}.')
  return (CARDS[method].training_flops(training) /
          (3.0 * dense_flops * dense_epochs))


def forward_passes(method, ensemble_size):
  """Complete training runs a method needs (the paper's last column)."""
  return CARDS[method].forward_passes(ensemble_size)


def training_figures(method, dense_flops, sparse_flops, *, dense_epochs=250,
                     **plan):
  """The method's training FLOPs ratio against `dense_epochs`, that D, and
  its forward passes (`plan`: as `train_flops_ratio`'s)."""
  return {'train_flops_ratio': train_flops_ratio(
              method, dense_flops, sparse_flops, dense_epochs=dense_epochs,
              **plan),
          'dense_epochs': dense_epochs,
          'forward_passes': forward_passes(method,
                                           plan.get('ensemble_size', 1))}


def totals(per_layer, method, **train_kwargs):
  """Dense and sparse totals, their ratio and `training_figures`, from
  `flops.layer_flops` output."""
  figures = flops.totals(per_layer)
  return {**figures, **training_figures(method, figures['dense_flops'],
                                        figures['sparse_flops'],
                                        **train_kwargs)}
