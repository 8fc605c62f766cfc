"""Runs a binary's main() under tfds.testing.mock_data, in its own process.

  python -m tests.baselines.mock_run baselines.cifar.edst 64 --flag=value ...

Each binary defines its own absl flags, so binaries run in subprocesses;
the exit code and stderr are the user's.
"""

import importlib
import sys

from absl import app

# Keras 2 is chosen before TensorFlow loads, as the binaries do.
from sparse_layers import keras_alias  # pylint: disable=unused-import,g-bad-import-order
import tensorflow_datasets as tfds  # pylint: disable=g-bad-import-order


def main():
  module_name, num_examples = sys.argv[1], int(sys.argv[2])
  module = importlib.import_module(module_name)
  with tfds.testing.mock_data(num_examples=num_examples):
    app.run(module.main, argv=[module_name] + sys.argv[3:])


if __name__ == '__main__':
  main()
