"""Which strategy runs a job, who writes its outputs, and a barrier.

TPUStrategy (`--tpu`), MultiWorkerMirroredStrategy (`TF_CONFIG`),
MirroredStrategy (`--use_gpu`) or the default one. In a multi-worker run
every worker trains and saves, but only the chief (or worker 0) writes the
run's outputs; the others write to a scratch directory removed at exit.
"""

import atexit
import os
import shutil
import tempfile

from absl import logging
import tensorflow as tf


def make_strategy(tpu=None, use_gpu=False):
  """TPUStrategy, MultiWorkerMirrored (TF_CONFIG), Mirrored or default."""
  if tpu:
    resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    return tf.distribute.TPUStrategy(resolver)
  if 'TF_CONFIG' in os.environ:
    return tf.distribute.MultiWorkerMirroredStrategy()
  if use_gpu:
    return tf.distribute.MirroredStrategy()
  return tf.distribute.get_strategy()


def num_workers(strategy):
  """Worker processes of a MultiWorkerMirroredStrategy (else 1: one client
  drives all replicas, a TPU pod's included)."""
  if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
    return 1
  spec = strategy.cluster_resolver.cluster_spec().as_dict()
  return max(1, len(spec.get('worker', [])) + len(spec.get('chief', [])))


def is_chief(strategy):
  """Whether this process writes the run's outputs: always, except in a
  multi-worker run, where only the chief (or worker 0) does."""
  if num_workers(strategy) == 1:
    return True
  resolver = strategy.cluster_resolver
  task_type, task_id = resolver.task_type, resolver.task_id
  if task_type == 'chief':
    return True
  return (task_type == 'worker' and task_id == 0 and
          'chief' not in resolver.cluster_spec().as_dict())


def worker_scratch_dir(strategy):
  """A scratch directory for a non-chief worker's writes, removed at exit.

  Every worker saves (checkpoints read replicated variables with
  collectives); only the chief's copies are kept.
  """
  resolver = strategy.cluster_resolver
  path = tempfile.mkdtemp(
      prefix=f'freetickets_{resolver.task_type}{resolver.task_id}_')
  atexit.register(shutil.rmtree, path, ignore_errors=True)
  logging.info('%s %d of a multi-worker run: the chief writes the outputs; '
               'this worker writes to %s (removed at exit).',
               resolver.task_type, resolver.task_id, path)
  return path


def barrier(strategy):
  """Returns once every worker of a multi-worker run has called it."""
  if num_workers(strategy) > 1:
    strategy.reduce(tf.distribute.ReduceOp.SUM, strategy.run(
        lambda: tf.constant(1)), axis=None)
