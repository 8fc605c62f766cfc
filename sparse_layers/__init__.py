"""freetickets' sparse training library: masked layers, distributions, DST,
EDST in `model.fit`, tickets, their ensemble and its compact export.

Import order matters: `keras_alias` selects Keras 2 (tf-keras) before
TensorFlow loads.
"""

from sparse_layers.distributions import layer_densities
from sparse_layers.edst_callback import EdstCallback
from sparse_layers.ensemble import ensemble_model
from sparse_layers.ensemble import load_ensemble
from sparse_layers.hook import SparsityCallback
from sparse_layers.hook import SparsityHook
from sparse_layers.keras_alias import keras
from sparse_layers.layers import dense_gradient_scope
from sparse_layers.layers import masked_layers
from sparse_layers.layers import MaskedConv2D
from sparse_layers.layers import MaskedDense
from sparse_layers.layers import to_masked
from sparse_layers.schedules import ConstantDropFraction
from sparse_layers.schedules import CosineDropFraction
from sparse_layers.sparse_init import sparsify
from sparse_layers.updaters import MaskUpdater
from sparse_layers.updaters import RigLUpdater
from sparse_layers.updaters import SETUpdater
from sparse_layers.updaters import StaticUpdater
