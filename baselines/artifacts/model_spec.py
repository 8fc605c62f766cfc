"""What builds a ticket's network, stored with the ticket and the run.

A `ModelSpec` names the architecture (the original WRN of
`models.wide_resnet`, or the ResNet of `models.resnet`, and its layout
version), depth, width, classes, input shape, whether its layers are masked
and the dataset it was trained on, so a ticket can be rebuilt and evaluated
without the flags of the run that made it (`baselines/cifar/ensemble.py`,
`baselines/imagenet/ensemble.py`).
"""

import dataclasses
from typing import Tuple

from sparse_layers import models

WIDE_RESNET = 'wide_resnet'
RESNET = 'resnet'
LAYOUTS = {WIDE_RESNET: models.WIDE_RESNET_LAYOUT,
           RESNET: models.RESNET_LAYOUT}


@dataclasses.dataclass(frozen=True)
class ModelSpec:
  """A Wide ResNet (`models.wide_resnet`) or ResNet (`models.resnet`).

  width_multiplier: the WRN's k, or the ResNet's base width (64 for
    ResNet-50).
  layout: `LAYOUTS[architecture]` of the code that built it; a ticket of
    another layout cannot be loaded into this code's network.
  preprocessing: the CIFAR input recipe it was trained with
    (`cifar.preprocessing`: 'authors' or 'ub'), which its evaluation must
    use; specs stored without it are 'authors'.
  """
  depth: int
  width_multiplier: int
  num_classes: int
  input_shape: Tuple[int, int, int]
  masked: bool
  dataset: str
  dropout_rate: float = 0.0
  architecture: str = WIDE_RESNET
  layout: str = models.WIDE_RESNET_LAYOUT
  preprocessing: str = 'authors'

  def build(self, l2=0.0, sync_batch_norm=False, inactive_gradient='dense'):
    """The (untrained) Keras model; training-only options as arguments."""
    if self.architecture == RESNET:
      return models.resnet(
          tuple(self.input_shape), self.depth, self.width_multiplier,
          self.num_classes, l2=l2, masked=self.masked,
          sync_batch_norm=sync_batch_norm,
          inactive_gradient=inactive_gradient)
    return models.wide_resnet(
        tuple(self.input_shape), self.depth, self.width_multiplier,
        self.num_classes, l2=l2, masked=self.masked,
        sync_batch_norm=sync_batch_norm, dropout_rate=self.dropout_rate,
        inactive_gradient=inactive_gradient)

  def to_json(self):
    spec = dataclasses.asdict(self)
    spec['input_shape'] = list(self.input_shape)
    return spec

  @classmethod
  def from_json(cls, spec, source='model spec'):
    """The spec stored by `to_json`.

    Raises:
      ValueError: naming `source`, if the spec is incomplete or describes a
        network this code does not build.
    """
    names = {f.name for f in dataclasses.fields(cls)}
    missing = sorted(n for n in names - set(spec)
                     if n not in ('dropout_rate', 'preprocessing'))
    if missing:
      raise ValueError(f'{source}: the model spec lacks {missing}.')
    if spec['architecture'] not in LAYOUTS:
      raise ValueError(f'{source}: architecture {spec["architecture"]!r} is '
                       f'not one of {sorted(LAYOUTS)}.')
    layout = LAYOUTS[spec['architecture']]
    if spec['layout'] != layout:
      raise ValueError(
          f'{source}: built with {spec["architecture"]} layout '
          f'{spec["layout"]!r}; this code builds {layout!r}.')
    values = {k: v for k, v in spec.items() if k in names}
    values['input_shape'] = tuple(values['input_shape'])
    return cls(**values)
