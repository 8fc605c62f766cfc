"""How a binary starts and ends: checks before anything is written, and
`cli_main`, which turns every expected failure into one message and an
exit code.

Before a run writes anything (its output directory, `run.json`, its lock)
the inputs are checked: the data sizes against the global batch
(`check_split_sizes`), the output directory (`check_writable`); a sparsity
that leaves a layer a handful of weights is warned about with the
per-layer counts (`warn_extreme_sparsity`).
"""

import functools
import sys

from absl import app
from absl import logging
import numpy as np

from baselines.data import pipeline
from baselines.runtime import checkpoints
from baselines.runtime import files
from baselines.runtime import preemption
from baselines.runtime import run_identity
from baselines.runtime import run_lock
from baselines.training import loop
from sparse_layers import tickets as ticket_files


def check_writable(output_dir):
  """Raises ValueError unless `output_dir` can be created and written."""
  ticket_files.check_writable(output_dir, '--output_dir')


def check_split_sizes(splits, global_batch_size):
  """Raises DataError unless the test (and validation) splits have examples
  and training has at least one global batch."""
  for name in ('test', 'validation'):
    split = getattr(splits, name)
    if split is not None and split.num_examples < 1:
      raise pipeline.DataError(f'the {name} split ({split.name}) has no '
                               f'examples.')
  train = splits.train
  if train is not None and train.num_examples < global_batch_size:
    raise pipeline.DataError(
        f'the training split ({train.name}, {train.num_examples} examples) '
        f'is smaller than one global batch ({global_batch_size}); lower '
        f'--per_core_batch_size or pass more examples.')


# A masked layer keeping fewer weights than this is warned about at start.
FEW_WEIGHTS = 16


def warn_extreme_sparsity(plan, sparsity):
  """Warns, with the per-layer counts, if a layer keeps < FEW_WEIGHTS.

  Such a sparsity is allowed (the paper's method has no lower bound), but
  a layer of a handful of weights is rarely what the user meant.

  Args:
    plan: `sparse_init.sparsify`'s list of `LayerSparsity`.
    sparsity: the overall sparsity S.

  Returns:
    Whether it warned.
  """
  few = [entry for entry in plan if entry.nonzeros < FEW_WEIGHTS]
  if few:
    logging.warning(
        '--sparsity=%s keeps fewer than %d weights in %d of %d masked '
        'layers; active / total weights per layer: %s', sparsity,
        FEW_WEIGHTS, len(few), len(plan), ', '.join(
            f'{e.name} {e.nonzeros}/{int(np.prod(e.shape))}' for e in plan))
  return bool(few)


# Problems of files and state, not of flags: their message names the file
# and what to do, without absl's "Pass --help".
STATE_ERRORS = (files.FileError, pipeline.DataError,
                run_identity.RunMismatchError, run_lock.RunLockedError,
                checkpoints.CheckpointError, ticket_files.TicketError)


def cli_main(main):
  """Wraps a binary's main: bad input or a non-finite loss exits non-zero
  with its message alone (absl would print every flag's help before a
  UsageError's message); a run that answered a preemption notice (SIGTERM,
  Ctrl-C) exits with its code (143, 130) after its checkpoint. The run's
  lock is released however it ends.
  """

  @functools.wraps(main)
  def wrapped(argv):
    try:
      return main(argv)
    except app.UsageError as e:
      if isinstance(e.__cause__, STATE_ERRORS):
        sys.exit(f'FATAL: {e}')
      sys.exit(f'FATAL: {e}\nPass --help to see the flags.')
    except STATE_ERRORS as e:
      sys.exit(f'FATAL: {e}')
    except preemption.Preempted as e:
      logging.warning('%s', e)
      sys.exit(e.exit_code)
    except KeyboardInterrupt:
      print('interrupted (Ctrl-C) outside training; the last checkpoint and '
            'the tickets written so far are kept.', file=sys.stderr)
      sys.exit(preemption.INTERRUPT_EXIT_CODE)
    except loop.NonFiniteLossError as e:
      logging.error('%s', e)
      sys.exit(f'error: {e}')
    finally:
      run_lock.release_all()

  return wrapped
