"""Resuming from the newest checkpoint that can be read.

A run keeps its last two epoch checkpoints (`loop.Run`) and, after a
preemption notice, one of the partial epoch. A checkpoint whose files were
truncated or damaged (TensorFlow checks every tensor's CRC32C when it reads
it) is skipped with a warning naming it, and the run resumes from the next
older one; if none can be read, the run stops and says so.
"""

import os
import re

from absl import logging
import tensorflow as tf

PREEMPTED_DIR = 'preempted'
CHECKPOINTS_DIR = 'checkpoints'
_NUMBER = re.compile(r'-(\d+)\.index$')


class CheckpointError(ValueError):
  """No checkpoint of a run can be read."""


def _prefixes(directory):
  """Checkpoint prefixes in `directory`, newest (highest number) first.

  Found by their index files, so a damaged `checkpoint` state file does not
  hide them.
  """
  found = []
  for index in tf.io.gfile.glob(os.path.join(directory, '*.index')):
    match = _NUMBER.search(index)
    if match:
      found.append((int(match.group(1)), index[:-len('.index')]))
  return [prefix for _, prefix in sorted(found, reverse=True)]


def candidates(run_dir):
  """A run's checkpoints, newest first: the preemption checkpoint (newer
  than every epoch checkpoint: an epoch save deletes it), then the epoch
  checkpoints."""
  return (_prefixes(os.path.join(run_dir, PREEMPTED_DIR)) +
          _prefixes(os.path.join(run_dir, CHECKPOINTS_DIR)))


def _short(error):
  """The first line of an error, without TF's op-wrapper prefix."""
  text = getattr(error, 'message', None) or str(error)
  text = re.sub(r'\{\{function_node [^}]*\}\}\s*', '', text).strip()
  return text.splitlines()[0][:300] if text else repr(error)


def restore_newest_intact(checkpoint, run_dir):
  """Restores `checkpoint` from the newest intact checkpoint of `run_dir`.

  Returns:
    The prefix restored, or None if the run has no checkpoint.

  Raises:
    CheckpointError: naming the checkpoints, if none can be read.
  """
  unreadable = []
  for prefix in candidates(run_dir):
    try:
      checkpoint.restore(prefix).assert_existing_objects_matched()
    except (tf.errors.OpError, ValueError, AssertionError) as e:
      logging.warning('%s cannot be read (%s: %s); trying the previous '
                      'checkpoint.', prefix, type(e).__name__, _short(e))
      unreadable.append(prefix)
      continue
    if unreadable:
      logging.warning('%s: resumed from %s, the newest checkpoint that can '
                      'be read; %d newer one(s) were damaged: %s.', run_dir,
                      prefix, len(unreadable), ', '.join(unreadable))
    return prefix
  if unreadable:
    raise CheckpointError(
        f'{run_dir}: none of its {len(unreadable)} checkpoint(s) can be read '
        f'({", ".join(unreadable)}); they were left as they are. Restore them from '
        f'a backup, or start over in a new --output_dir.')
  return None
