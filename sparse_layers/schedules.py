"""Schedules over optimizer steps: DST's drop fraction, a plan's LR.

Drop fraction (when DST updates the masks and by how much):

An update fires after optimizer step t when `begin_step < t <= end_step` and
`(t - begin_step) % update_interval == 0` (Algorithm 2, line 6: t mod ΔT = 0).
The drop fraction p_t is constant, or cosine-annealed
`p_t = p_0 / 2 * (1 + cos(pi * (t - begin) / (end - begin)))` (RigL, Eq. 1 of
Evci et al. 2020).

Learning rate: `plan_learning_rate` turns a plan of `phases.Phase`s (EDST's
exploration and refinements, Section 3.3) into one piecewise-constant
schedule over the optimizer's step, with UB's linear warm-up.
"""

import math

import tensorflow as tf

from sparse_layers.keras_alias import keras


def check_fraction(value, name):
  """Raises ValueError unless 0 <= value <= 1."""
  if not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
    raise ValueError(f'{name} must be in [0, 1], got {value!r}.')


class DropFractionSchedule:
  """Base schedule: update steps every ΔT in (begin, end], fraction p_t."""

  def __init__(self, drop_fraction, update_interval, begin_step=0,
               end_step=None):
    check_fraction(drop_fraction, 'drop_fraction')
    if not isinstance(update_interval, int) or update_interval < 1:
      raise ValueError(f'update_interval (ΔT) must be an integer >= 1, got '
                       f'{update_interval!r}.')
    if not isinstance(begin_step, int) or begin_step < 0:
      raise ValueError(f'begin_step must be an integer >= 0, got '
                       f'{begin_step!r}.')
    if end_step is not None and (not isinstance(end_step, int) or
                                 end_step <= begin_step):
      raise ValueError(f'end_step must be an integer > begin_step '
                       f'({begin_step}) or None, got {end_step!r}.')
    self.initial_drop_fraction = float(drop_fraction)
    self.update_interval = update_interval
    self.begin_step = begin_step
    self.end_step = end_step

  def is_update_step(self, step):
    """A boolean tensor: does an update follow optimizer step `step`?"""
    step = tf.cast(step, tf.int64)
    since_begin = step - self.begin_step
    due = tf.logical_and(since_begin > 0,
                         tf.equal(since_begin % self.update_interval, 0))
    if self.end_step is not None:
      due = tf.logical_and(due, step <= self.end_step)
    return due

  def next_update_step(self, step):
    """The first update step after `step` (Python ints; `is_update_step`'s
    next True), or None if none follows."""
    candidate = max(step, self.begin_step) + 1
    candidate += -(candidate - self.begin_step) % self.update_interval
    if self.end_step is not None and candidate > self.end_step:
      return None
    return candidate

  def drop_fraction(self, step):
    """The drop fraction p_t at `step`, a float32 tensor."""
    raise NotImplementedError

  def get_config(self):
    return {'drop_fraction': self.initial_drop_fraction,
            'update_interval': self.update_interval,
            'begin_step': self.begin_step, 'end_step': self.end_step}

  @classmethod
  def from_config(cls, config):
    return cls(**config)


class ConstantDropFraction(DropFractionSchedule):
  """p_t = p (FreeTickets CIFAR: ΔT = 1000, p = 0.5)."""

  def drop_fraction(self, step):
    del step  # Constant.
    return tf.constant(self.initial_drop_fraction, tf.float32)


class CosineDropFraction(DropFractionSchedule):
  """p_t = p_0 / 2 (1 + cos(pi (t - begin) / (end - begin))) (ImageNet)."""

  def __init__(self, drop_fraction, update_interval, begin_step=0,
               end_step=None):
    if end_step is None:
      raise ValueError('CosineDropFraction needs end_step (the step at which '
                       'the drop fraction reaches 0).')
    super().__init__(drop_fraction, update_interval, begin_step, end_step)

  def drop_fraction(self, step):
    progress = (tf.cast(step, tf.float32) - self.begin_step) / float(
        self.end_step - self.begin_step)
    progress = tf.clip_by_value(progress, 0.0, 1.0)
    return self.initial_drop_fraction / 2.0 * (1.0 + tf.cos(math.pi * progress))


class CosineRestartsDropFraction(DropFractionSchedule):
  """A cosine of p from p_0 to 0 between consecutive restarts.

  Segments [begin, r_1], [r_1, r_2], ..., [r_k, end]: within each,
  p_t = p_0 / 2 (1 + cos(pi (t - start) / (stop - start))). The FreeTickets
  authors' ImageNet EDST restarts the cosine at each re-exploration.
  """

  def __init__(self, drop_fraction, update_interval, restart_steps,
               begin_step=0, end_step=None):
    if end_step is None:
      raise ValueError('CosineRestartsDropFraction needs end_step.')
    super().__init__(drop_fraction, update_interval, begin_step, end_step)
    restarts = [int(r) for r in restart_steps]
    if restarts != sorted(set(restarts)) or any(
        not begin_step < r < end_step for r in restarts):
      raise ValueError(f'restart_steps must be increasing and inside '
                       f'({begin_step}, {end_step}), got {restart_steps!r}.')
    self.restart_steps = restarts

  def drop_fraction(self, step):
    step = tf.cast(step, tf.float32)
    edges = tf.constant([self.begin_step] + self.restart_steps +
                        [self.end_step], tf.float32)
    # The segment holding step: its last edge <= step (the end belongs to
    # the last segment).
    index = tf.minimum(
        tf.searchsorted(edges, tf.reshape(step, [1]), side='right')[0] - 1,
        len(self.restart_steps))
    index = tf.maximum(index, 0)
    start, stop = tf.gather(edges, index), tf.gather(edges, index + 1)
    progress = tf.clip_by_value((step - start) / (stop - start), 0.0, 1.0)
    return self.initial_drop_fraction / 2.0 * (1.0 + tf.cos(math.pi * progress))

  def get_config(self):
    return {**super().get_config(), 'restart_steps': self.restart_steps}


SCHEDULES = {'constant': ConstantDropFraction, 'cosine': CosineDropFraction}


def make_schedule(name, drop_fraction, update_interval, begin_step=0,
                  end_step=None):
  """Builds a schedule by name ('constant' or 'cosine')."""
  if name not in SCHEDULES:
    raise ValueError(f'drop fraction schedule must be one of '
                     f'{sorted(SCHEDULES)}, got {name!r}.')
  return SCHEDULES[name](drop_fraction, update_interval, begin_step, end_step)


class PhaseLearningRate(keras.optimizers.schedules.LearningRateSchedule):
  """Piecewise-constant LR over global steps with a linear warm-up (UB)."""

  def __init__(self, base_learning_rate, boundaries, multipliers,
               warmup_steps=0):
    super().__init__()
    if len(multipliers) != len(boundaries) + 1:
      raise ValueError('need one more multiplier than boundaries.')
    self.base_learning_rate = float(base_learning_rate)
    self.boundaries = [int(b) for b in boundaries]
    self.multipliers = [float(m) for m in multipliers]
    self.warmup_steps = int(warmup_steps)

  def __call__(self, step):
    step = tf.cast(step, tf.float32)
    index = tf.searchsorted(tf.constant(self.boundaries, tf.float32),
                            tf.reshape(step, [1]), side='right')[0]
    lr = self.base_learning_rate * tf.gather(
        tf.constant(self.multipliers, tf.float32), index)
    if self.warmup_steps:
      lr *= tf.minimum(1.0, step / self.warmup_steps)
    return lr

  def get_config(self):
    return {'base_learning_rate': self.base_learning_rate,
            'boundaries': self.boundaries, 'multipliers': self.multipliers,
            'warmup_steps': self.warmup_steps}


def plan_learning_rate(phases, steps_per_epoch, base_learning_rate,
                       warmup_epochs=0):
  """The `PhaseLearningRate` of a whole plan (phase LRs at their steps)."""
  boundaries, multipliers = [], []
  epoch = 0
  for phase in phases:
    for fraction, multiplier in phase.lr_multipliers:
      step = round((epoch + fraction * phase.epochs) * steps_per_epoch)
      if multipliers:
        boundaries.append(step)
      multipliers.append(multiplier)
    epoch += phase.epochs
  return PhaseLearningRate(base_learning_rate, boundaries, multipliers,
                           round(warmup_epochs * steps_per_epoch))
