"""Which flags are the project's, and which of them can change a result.

Declared where each flag is defined (`common_flags`): its `define_*`
functions are `defines_flags`, and a flag that cannot change a run's result
is defined through `neutral`. `result_flags` are a run's identity
(`run.json`); `project_flags` are listed in its `metrics.json`.
"""

import functools
import json

from absl import flags

FLAGS = flags.FLAGS

# A neutral flag says where a run executes, how often it checkpoints, what is
# evaluated besides the test set, which member this job trains or what FLOPs
# are compared with.
CHANGES_RESULT = {}  # Flag name -> whether it can change a run's result.


def defines_flags(define):
  """Declares the flags `define` defines as the project's (`neutral`
  marks those that cannot change a result)."""

  @functools.wraps(define)
  def wrapper(*args, **kwargs):
    before = set(FLAGS)
    define(*args, **kwargs)
    for name in set(FLAGS) - before:
      CHANGES_RESULT.setdefault(FLAGS[name].name, True)

  return wrapper


def neutral(holder):
  """Declares a flag that cannot change a run's result."""
  CHANGES_RESULT[holder.name] = False
  return holder


def project_flags(flag_values):
  """{name: value} of this binary's declared flags, sorted, as JSON types
  (metrics.json lists them)."""
  values = {name: flag_values[name].value for name in CHANGES_RESULT
            if name in flag_values}
  return json.loads(json.dumps(dict(sorted(values.items()))))


def result_flags(flag_values):
  """{name: value} of this binary's flags that can change its result (the
  run's identity)."""
  return {name: value for name, value in project_flags(flag_values).items()
          if CHANGES_RESULT[name]}
