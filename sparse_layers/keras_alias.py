"""The project's one Keras: Keras 2 from the tf-keras package.

tensorflow-model-optimization only works with Keras 2, and importing it turns
`TF_USE_LEGACY_KERAS` on. We make that choice here, once, before TensorFlow is
imported anywhere in the process, so that `tf.keras`, tfmot and our own code
all see the same Keras. Every module imports `keras` from here; no module
imports `keras` (Keras 3) or uses `tf.keras` directly.
"""

import os

os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')

import tf_keras as keras  # pylint: disable=g-import-not-at-top,unused-import
