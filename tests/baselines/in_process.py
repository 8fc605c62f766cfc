"""Runs several absl binaries one after another in one process.

Each binary defines its flags when imported, so a second binary in the
same process would define them again. `run_binary` imports a binary afresh,
parses its argv as absl's `app.run` would, runs its main, and then deletes
the flags it defined and the module, so the next binary starts clean. One
process pays TensorFlow's start-up once for many runs (bad-input cases,
the ram:// pipeline, whose files live in the process).
"""

import contextlib
import importlib
import io
import sys
import traceback

from absl import flags

# Keras 2 is chosen before TensorFlow loads, as the binaries do.
from sparse_layers import keras_alias  # pylint: disable=unused-import,g-bad-import-order
from sparse_layers.keras_alias import keras  # pylint: disable=g-bad-import-order

FLAGS = flags.FLAGS


def run_binary(module_name, argv, define=None, main=None):
  """Runs `module_name`'s main with `argv` in this process.

  Args:
    module_name: e.g. 'baselines.cifar.edst'.
    argv: argv[0] and the flags and arguments.
    define: define(module) after the import (tools that define their flags
      in `__main__` only).
    main: main(remaining argv) to call instead of `module.main`.

  Raises:
    Whatever the binary raises: SystemExit with its message for an error
    it reports, `flags.Error` for a flag absl refuses.
  """
  before = set(FLAGS)
  sys.modules.pop(module_name, None)
  try:
    module = importlib.import_module(module_name)
    if define:
      define(module)
    remaining = FLAGS(argv)  # As absl's app.run gives main the rest.
    (main or module.main)(remaining)
  finally:
    for name in set(FLAGS) - before:
      delattr(FLAGS, name)
    sys.modules.pop(module_name, None)
    keras.mixed_precision.set_global_policy('float32')


def outcome(module_name, argv, context=contextlib.nullcontext, define=None,
            main=None):
  """(exit code, the message a user would read, traceback or None) of one
  run: absl's message for a refused flag, the binary's for its own error.
  `define` and `main` as `run_binary`'s."""
  stderr = io.StringIO()
  try:
    with context(), contextlib.redirect_stderr(stderr):
      run_binary(module_name, argv, define, main)
  except flags.Error as e:
    return 1, f'FATAL Flags parsing error: {e}', None
  except SystemExit as e:
    code = e.code if isinstance(e.code, int) else 1
    message = '' if isinstance(e.code, int) else str(e.code)
    return code, stderr.getvalue() + message, None
  except Exception:  # pylint: disable=broad-except
    return 1, stderr.getvalue(), traceback.format_exc()
  return 0, stderr.getvalue(), None
