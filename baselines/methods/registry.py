"""The methods by name, and the `main` every training binary runs.

A binary defines its flags, then `main = registry.main('edst', FLAGS,
tasks.CIFAR)`: --quick (CIFAR) shrinks the run, then the method trains,
under `startup.cli_main` (clear errors, exit codes, the output lock).
"""

from baselines.methods import edst
from baselines.methods import experiment
from baselines.methods import ltr
from baselines.methods import members
from baselines.methods import method as method_lib
from baselines.methods import startup
from baselines.methods import tasks

METHODS = {method.name: method for method in (
    edst.EDST, members.DST_ENSEMBLE, members.STATIC, members.DENSE, ltr.LTR)}

# ensemble.py: evaluates saved members; it trains nothing.
ENSEMBLE_EVALUATION = method_lib.Method('ensemble', masked=False,
                                        masks='none', quick_flags={},
                                        train=None)


def get(name):
  """The method registered as `name`."""
  if name not in METHODS:
    raise KeyError(f'no method {name!r}; the methods are {sorted(METHODS)}.')
  return METHODS[name]


def main(name, flag_values, task=tasks.CIFAR):
  """The `main(argv)` of a binary that trains method `name` on `task`."""
  method = get(name)

  @startup.cli_main
  def main_fn(argv):
    del argv
    if task.has_quick_mode and flag_values.quick:
      experiment.apply_quick_mode(flag_values, method.quick_flags)
    method.train(method, flag_values, task)

  return main_fn
