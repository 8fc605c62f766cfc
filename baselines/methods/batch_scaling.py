"""The global batch, and the LR and ΔT scaled to it (UB's linear scaling).

The paper trains at a global batch of 128 with LR 0.1 and ΔT = 1000 steps;
on more replicas the global batch grows, and the LR and ΔT are given for
128 and scaled to it.
"""

GLOBAL_BATCH_SIZE = 128  # The paper's batch; ΔT and the base LR refer to it.
# The default never trains with fewer images per replica (BatchNorm's batch).
MIN_PER_REPLICA_BATCH = 16


def global_batch_size(per_core_batch_size, replicas):
  """The global batch: per_core x replicas, or the default.

  The default is GLOBAL_BATCH_SIZE (the paper's 128) while it gives each
  replica at least MIN_PER_REPLICA_BATCH images (up to 8 replicas), else
  MIN_PER_REPLICA_BATCH per replica (a pod slice: 512 on 32 cores).

  Raises:
    ValueError: if the paper's batch cannot be split evenly over the
      replicas (3, 5, 6 or 7 of them).
  """
  if per_core_batch_size is not None:
    return per_core_batch_size * replicas
  if GLOBAL_BATCH_SIZE < MIN_PER_REPLICA_BATCH * replicas:
    return MIN_PER_REPLICA_BATCH * replicas
  if GLOBAL_BATCH_SIZE % replicas:
    raise ValueError(f'the default global batch {GLOBAL_BATCH_SIZE} cannot '
                     f'be split over {replicas} replicas; set '
                     f'--per_core_batch_size.')
  return GLOBAL_BATCH_SIZE


def scaled_learning_rate(base_learning_rate, global_batch):
  """UB's linear scaling: the base LR is for a global batch of 128."""
  return base_learning_rate * global_batch / GLOBAL_BATCH_SIZE


def scaled_update_interval(update_interval, global_batch):
  """ΔT in steps at `global_batch`, for ΔT given at a batch of 128."""
  return max(1, round(update_interval * GLOBAL_BATCH_SIZE / global_batch))
