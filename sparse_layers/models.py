"""Wide ResNet (the original WRN, as the FreeTickets authors) and ResNet-50.

With `masked=True` every Conv2D and Dense is a `MaskedConv2D` / `MaskedDense`
(all-ones masks until `sparse_init.sparsify`); with `masked=False` the same
architecture uses plain Keras layers (the dense baseline, and the benchmark's
reference).
"""

import functools

from sparse_layers import layers as masked_layers
from sparse_layers.keras_alias import keras

# torch.nn.BatchNorm2d's defaults: running-average momentum 0.1 (Keras keeps
# 1 - 0.1 of the old value) and epsilon 1e-5.
_BN_MOMENTUM = 0.9
_BN_EPSILON = 1e-5

# Names `wide_resnet`'s layout (layer names, shortcut placement), stored
# with tickets: change it whenever the layout changes.
WIDE_RESNET_LAYOUT = 'original_wrn_preact_shortcut_v1'


# The WRN's initialisers, as the authors' (and the original WRN's) PyTorch
# code. A new instance per layer: one unseeded Keras initializer instance
# returns the same values at every call.
def wrn_conv_init():
  """Conv kernels ~ N(0, 2 / (k * k * out_channels)) (fan-out He init)."""
  return keras.initializers.VarianceScaling(
      2.0, mode='fan_out', distribution='untruncated_normal')


def wrn_classifier_init():
  """PyTorch's nn.Linear default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).

  VarianceScaling's uniform limit is sqrt(3 * scale / fan_in).
  """
  return keras.initializers.VarianceScaling(
      1.0 / 3.0, mode='fan_in', distribution='uniform')


def _layer_types(masked, inactive_gradient):
  if masked:
    return (functools.partial(masked_layers.MaskedConv2D,
                              inactive_gradient=inactive_gradient),
            functools.partial(masked_layers.MaskedDense,
                              inactive_gradient=inactive_gradient))
  return keras.layers.Conv2D, keras.layers.Dense


def _regularizer(l2):
  return keras.regularizers.l2(l2) if l2 else None


def _batch_norm(l2, name=None, synchronized=False):
  # synchronized: statistics over the global batch of all replicas.
  return keras.layers.BatchNormalization(
      momentum=_BN_MOMENTUM, epsilon=_BN_EPSILON,
      beta_regularizer=_regularizer(l2), gamma_regularizer=_regularizer(l2),
      synchronized=synchronized, name=name)


def _conv_factory(masked, l2, initializer=lambda: 'he_normal',
                  inactive_gradient='dense'):
  """conv(filters, kernel_size, strides, name): 'same', no bias.

  `initializer()` gives each conv its kernel initializer.
  """
  conv_type = _layer_types(masked, inactive_gradient)[0]

  def conv(filters, kernel_size, strides, name):
    return conv_type(filters, kernel_size, strides=strides, padding='same',
                     use_bias=False, kernel_initializer=initializer(),
                     kernel_regularizer=_regularizer(l2), name=name)

  return conv


def _wrn_block(x, conv, filters, strides, prefix, batch_norm, dropout_rate):
  """A pre-activation basic block; where it changes shape, its shortcut is a
  1x1 projection of relu(bn1(x))."""
  y = batch_norm(f'{prefix}_bn1')(x)
  y = keras.layers.Activation('relu', name=f'{prefix}_relu1')(y)
  if x.shape[-1] != filters or strides != 1:
    shortcut = conv(filters, 1, strides, f'{prefix}_shortcut')(y)
  else:
    shortcut = x
  y = conv(filters, 3, strides, f'{prefix}_conv1')(y)
  y = batch_norm(f'{prefix}_bn2')(y)
  y = keras.layers.Activation('relu')(y)
  if dropout_rate:
    y = keras.layers.Dropout(dropout_rate)(y)
  y = conv(filters, 3, 1, f'{prefix}_conv2')(y)
  return keras.layers.add([shortcut, y])


def wide_resnet(input_shape=(32, 32, 3), depth=28, width_multiplier=10,
                num_classes=10, l2=0.0, masked=True, sync_batch_norm=False,
                dropout_rate=0.0, inactive_gradient='dense'):
  """Wide ResNet-depth-width (Zagoruyko & Komodakis 2016).

  The original WRN, as in the FreeTickets authors' code: pre-activation basic
  blocks (BN-ReLU-Conv3x3, BN-ReLU-[dropout]-Conv3x3); where a block changes
  shape, its 1x1 projection shortcut takes the block's activated input
  relu(bn1(x)), as its first conv does; otherwise the shortcut is x itself.
  Three groups of (depth - 4) / 6 blocks with 16k, 32k and 64k filters; the
  initialisers above; BatchNorm with PyTorch's momentum and epsilon.

  Args:
    input_shape: image shape.
    depth: total depth; (depth - 4) % 6 == 0.
    width_multiplier: k.
    num_classes: classifier outputs (logits).
    l2: L2 regularisation of all parameters (kernels, BN, classifier bias);
      Keras adds 2 * l2 * w to the gradient, so l2 = 2.5e-4 is PyTorch's
      weight decay 5e-4.
    masked: build with masked layers.
    sync_batch_norm: BatchNorm over the global batch (all replicas), so N
      replicas train like one device with the same global batch.
    dropout_rate: dropout between a block's two convs (the authors: 0).
    inactive_gradient: of the masked layers, 'dense' or 'zero' (see
      `layers`).

  Returns:
    A functional `keras.Model` named 'wide_resnet'.
  """
  if depth < 10 or (depth - 4) % 6 != 0:
    raise ValueError(f'depth must be 6n + 4 with n >= 1, got {depth}.')
  if width_multiplier < 1:
    raise ValueError(f'width_multiplier must be >= 1, got {width_multiplier}.')
  if not 0.0 <= dropout_rate < 1.0:
    raise ValueError(f'dropout_rate must be in [0, 1), got {dropout_rate}.')
  conv = _conv_factory(masked, l2, wrn_conv_init, inactive_gradient)
  dense_type = _layer_types(masked, inactive_gradient)[1]
  blocks_per_group = (depth - 4) // 6

  inputs = keras.layers.Input(shape=input_shape)
  x = conv(16, 3, 1, 'conv_init')(inputs)
  for group in range(3):
    filters = 16 * (2**group) * width_multiplier
    for block in range(blocks_per_group):
      strides = 2 if group > 0 and block == 0 else 1
      x = _wrn_block(x, conv, filters, strides,
                     f'group{group + 1}_block{block + 1}',
                     lambda name: _batch_norm(l2, name, sync_batch_norm),
                     dropout_rate)
  x = _batch_norm(l2, 'final_bn', sync_batch_norm)(x)
  x = keras.layers.Activation('relu')(x)
  x = keras.layers.GlobalAveragePooling2D()(x)
  outputs = dense_type(num_classes, kernel_initializer=wrn_classifier_init(),
                       kernel_regularizer=_regularizer(l2),
                       bias_regularizer=_regularizer(l2), name='classifier')(x)
  return keras.Model(inputs, outputs, name='wide_resnet')


# Names `resnet`'s layout, stored with tickets (as WIDE_RESNET_LAYOUT).
RESNET_LAYOUT = 'resnet_v1_5_v1'
# Bottleneck blocks per stage of each depth (depth = 3 * blocks + 2).
RESNET_BLOCKS = {14: (1, 1, 1, 1), 26: (2, 2, 2, 2), 50: (3, 4, 6, 3),
                 101: (3, 4, 23, 3)}


def _bottleneck(x, conv, batch_norm, filters, strides, prefix, project):
  """1x1, 3x3 (strided), 1x1 to 4 * filters; with `project`, a 1x1
  projection shortcut with BatchNorm."""
  shortcut = x
  y = x
  for i, (size, stride) in enumerate(((1, 1), (3, strides), (1, 1))):
    out = filters * 4 if i == 2 else filters
    y = conv(out, size, stride, f'{prefix}_conv{i + 1}')(y)
    y = batch_norm(f'{prefix}_bn{i + 1}')(y)
    if i < 2:
      y = keras.layers.Activation('relu')(y)
  if project:
    shortcut = conv(filters * 4, 1, strides, f'{prefix}_shortcut')(x)
    shortcut = batch_norm(f'{prefix}_shortcut_bn')(shortcut)
  return keras.layers.Activation('relu')(keras.layers.add([shortcut, y]))


def resnet(input_shape=(224, 224, 3), depth=50, base_width=64,
           num_classes=1000, l2=0.0, masked=True, sync_batch_norm=False,
           inactive_gradient='dense'):
  """ResNet v1.5 (He et al. 2016; stride in the 3x3 of bottlenecks).

  The torchvision ResNet of the FreeTickets authors' ImageNet code: a 7x7
  stride-2 conv, 3x3 max pool, four stages of bottlenecks with
  base_width * (1, 2, 4, 8) inner and 4x as many output channels, a 1x1
  projection shortcut (with BatchNorm) at each stage's first block, global
  average pooling and a classifier with bias. ResNet-50 is depth 50 with
  base width 64; the tests use depth 14 and a small width (same code).

  Args:
    input_shape: image shape (small shapes such as 32x32 work for tests).
    depth: one of RESNET_BLOCKS' keys.
    base_width: channels of the first stage's 3x3 convs (64).
    num_classes: classifier outputs (logits).
    l2: L2 regularisation of the conv and classifier kernels and the
      classifier bias, not of BatchNorm (the authors' ImageNet runs: no
      weight decay on BatchNorm); l2 = 5e-5 is PyTorch's weight decay 1e-4.
    masked: build with masked layers.
    sync_batch_norm: BatchNorm over the global batch (all replicas).
    inactive_gradient: of the masked layers, 'dense' or 'zero'.

  Returns:
    A functional `keras.Model` named 'resnet{depth}'.
  """
  if depth not in RESNET_BLOCKS:
    raise ValueError(f'ResNet depth must be one of {sorted(RESNET_BLOCKS)}, '
                     f'got {depth}.')
  if base_width < 1:
    raise ValueError(f'base_width must be >= 1, got {base_width}.')
  conv = _conv_factory(masked, l2, inactive_gradient=inactive_gradient)
  dense_type = _layer_types(masked, inactive_gradient)[1]

  def batch_norm(name):
    return _batch_norm(0.0, name, sync_batch_norm)

  inputs = keras.layers.Input(shape=input_shape)
  x = conv(base_width, 7, 2, 'conv1')(inputs)
  x = keras.layers.Activation('relu')(batch_norm('conv1_bn')(x))
  x = keras.layers.MaxPooling2D(3, strides=2, padding='same')(x)
  for stage, blocks in enumerate(RESNET_BLOCKS[depth]):
    filters = base_width * 2**stage
    for block in range(blocks):
      strides = 2 if stage > 0 and block == 0 else 1
      x = _bottleneck(x, conv, batch_norm, filters, strides,
                      f'stage{stage + 2}_block{block + 1}', block == 0)
  x = keras.layers.GlobalAveragePooling2D()(x)
  outputs = dense_type(num_classes, kernel_initializer='he_normal',
                       kernel_regularizer=_regularizer(l2),
                       bias_regularizer=_regularizer(l2),
                       name='classifier')(x)
  return keras.Model(inputs, outputs, name=f'resnet{depth}')


def resnet50(input_shape=(224, 224, 3), num_classes=1000, l2=0.0,
             masked=True):
  """ResNet-50 v1.5: `resnet` at depth 50, base width 64."""
  return resnet(input_shape, 50, 64, num_classes, l2=l2, masked=masked)


MODELS = ('wrn', 'resnet50')
