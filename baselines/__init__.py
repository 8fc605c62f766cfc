"""freetickets' baselines: binaries and the code they share.

Importing the package selects Keras 2 (tf-keras) before TensorFlow loads
(`sparse_layers.keras_alias`): a binary's first import is of this package.
"""

from sparse_layers import keras_alias  # pylint: disable=unused-import
