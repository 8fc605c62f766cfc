"""Mask updaters: drop by magnitude, grow by gradient (RigL) or at random (SET).

`MaskUpdater.update` is a template method (Eqs. 1 and 2 of the paper, Algorithm
2 lines 8-9). Per layer, with n active weights and drop fraction p:
  1. drop the k = floor(p * n) active weights of smallest magnitude (Eq. 1);
  2. grow k connections with the largest grow score among those inactive after
     the drop (Eq. 2), the ones just dropped included;
  3. every grown weight starts at 0 (Eq. 2; the authors' code zeroes every
     dropped weight before growing), so exactly k weights per layer restart.
     With `regrow_at_zero=False` a connection dropped and regrown in the same
     update keeps its value instead (RigL's TF code).
Layers at density 1 (those ERK leaves dense) take part too, as in the
authors' code: their k smallest weights restart at 0 and the mask stays all
ones (`update_dense_layers=False` leaves them alone).
Optimizer slots (momentum) follow the layer's `inactive_gradient`: with
'zero' (RigL) the slots of every restarted or dropped weight are zeroed; with
'dense' (the authors) they are left as they are, so a regrown weight keeps the
momentum it accumulated while inactive.
Subclasses give only the grow score. Ties are broken by a stateless random
permutation seeded by (seed, step, layer), so every replica and every resumed
run makes the same choice.

Everything compiles under XLA (`tf.function(jit_compile=True)`; TPUs compile
it anyway): shapes are static (a layer's k largest scores are those of rank
below k after one full sort, RigL's approach, rather than a `top_k` of
dynamic size), the tie-breaking permutation is the sort order of stateless
random integers (Philox, asked for by name: TF's and XLA's default
algorithms differ), and counts are exact integers without float64
(`counts.floor_count`). Call `update` in replica context with gradients
that are already summed over replicas (`SparsityHook` does): each replica
then computes the same masks from the same values and assigns its own copy,
so nothing leaves the device. Outside any strategy (eager code, one
device) it works as well.
"""

import tensorflow as tf

from sparse_layers import counts

_NEG_INF = float('-inf')


def optimizer_slots(optimizer, variable):
  """The optimizer's slot variables (momentum, ...) for `variable`.

  Supports tf-keras' current optimizers (slots are lists indexed through
  `_index_dict`) and the legacy ones (`get_slot`). An optimizer that has not
  built its slots yet has none.

  Args:
    optimizer: a tf-keras optimizer, or None.
    variable: a model variable.

  Returns:
    list of tf.Variable of the variable's shape.
  """
  if optimizer is None:
    return []
  if hasattr(optimizer, 'get_slot_names'):  # tf_keras.optimizers.legacy.
    return [optimizer.get_slot(variable, name)
            for name in optimizer.get_slot_names()
            if optimizer.get_slot(variable, name) is not None]
  index_dict = getattr(optimizer, '_index_dict', None)
  if not index_dict:
    return []
  index = index_dict.get(optimizer._var_key(variable))  # pylint: disable=protected-access
  if index is None:
    return []
  slots = []
  for value in vars(optimizer).values():
    if (isinstance(value, list) and len(value) == len(index_dict) and
        all(isinstance(v, tf.Variable) for v in value) and
        value[index].shape == variable.shape and
        value[index] is not variable):
      slots.append(value[index])
  return slots


def random_permutation(size, seed):
  """A seeded permutation of range(size), XLA-compilable.

  The descending sort order of stateless Philox integers (equal draws keep
  index order), identical for a given seed on every device and run, compiled
  by XLA or not.
  """
  keys = tf.random.stateless_uniform([size], seed=seed, minval=0,
                                     maxval=2**31 - 1, dtype=tf.int32,
                                     alg='philox')
  return tf.math.top_k(keys, k=size, sorted=True).indices


def top_k_mask(scores, k, permutation):
  """A 0/1 float32 vector with ones at the k largest `scores` (1-D).

  Every entry is ranked by one full sort, and those of rank below k (a
  tensor) are chosen, so shapes stay static under XLA. Ties go to the entry
  that comes first in `permutation` (a seeded random permutation breaks them
  at random; `tf.range` keeps the lowest index).
  """
  size = scores.shape[0]
  order = tf.math.top_k(tf.gather(scores, permutation), k=size,
                        sorted=True).indices
  ranks = tf.scatter_nd(tf.gather(permutation, order)[:, tf.newaxis],
                        tf.range(size), [size])
  return tf.cast(ranks < tf.cast(k, tf.int32), tf.float32)


class MaskUpdater:
  """Base updater: magnitude drop, subclass-defined grow score."""

  needs_gradient = False

  def __init__(self, seed=0, regrow_at_zero=True, update_dense_layers=True):
    """Creates the updater.

    Args:
      seed: seeds tie-breaking (and SET's random growth) with the step.
      regrow_at_zero: a connection dropped and regrown in the same update
        restarts at 0 (paper, authors); False keeps its value (RigL's TF code).
      update_dense_layers: layers at density 1 also restart their smallest
        weights at 0 (authors); False skips them.
    """
    self.seed = int(seed)
    self.regrow_at_zero = bool(regrow_at_zero)
    self.update_dense_layers = bool(update_dense_layers)

  def grow_scores(self, kernel, gradient, seed):
    """Scores of all connections, shape of flat `kernel`; larger grows first."""
    raise NotImplementedError

  def update(self, layers, drop_fraction, step, gradients=None,
             optimizer=None):
    """Drops and regrows `drop_fraction` of each layer's active weights.

    Args:
      layers: the masked layers.
      drop_fraction: scalar in [0, 1] (tensor or float).
      step: the optimizer step (int tensor), seeds the random choices.
      gradients: dense kernel gradients in `layers` order, summed over
        replicas, if needed.
      optimizer: whose slots for dropped weights are zeroed.

    Returns:
      int32 tensor: the weights restarted at 0, summed over layers (each
      updated layer restarts exactly floor(p * n) of its n active weights;
      with regrow_at_zero=False, only the grown ones that were inactive).
    """
    if self.needs_gradient and gradients is None:
      raise ValueError(f'{type(self).__name__} needs dense gradients.')
    step_seed = tf.stack([tf.constant(self.seed, tf.int64),
                          tf.cast(step, tf.int64)])
    grown = tf.constant(0, tf.int32)
    for index, layer in enumerate(layers):
      gradient = None if gradients is None else gradients[index]
      seed = tf.random.experimental.stateless_fold_in(step_seed, index,
                                                      alg='philox')
      slots = (optimizer_slots(optimizer, layer.kernel)
               if layer.inactive_gradient == 'zero' else [])
      grown += self._update_layer(layer, drop_fraction, seed, gradient, slots)
    return grown

  def _update_layer(self, layer, drop_fraction, seed, gradient, slots):
    shape = layer.mask.shape
    size = shape.num_elements()
    mask = tf.reshape(tf.convert_to_tensor(layer.mask), [size])
    kernel = tf.reshape(tf.cast(tf.convert_to_tensor(layer.kernel),
                                tf.float32), [size])
    if gradient is not None:
      gradient = tf.reshape(tf.cast(gradient, tf.float32), [size])
    num_active = tf.math.count_nonzero(mask, dtype=tf.int32)
    num_drop = counts.floor_count(drop_fraction, num_active)
    if not self.update_dense_layers:
      num_drop = tf.where(num_active == size, 0, num_drop)
    permutation = random_permutation(size, seed)
    neg_inf = tf.fill([size], _NEG_INF)

    drop_scores = tf.where(mask > 0, tf.abs(kernel), neg_inf)
    kept = top_k_mask(drop_scores, num_active - num_drop, permutation)
    grow_seed = tf.random.experimental.stateless_fold_in(seed, 1, alg='philox')
    grow_scores = tf.where(kept > 0, neg_inf,
                           self.grow_scores(kernel, gradient, grow_seed))
    new_mask = kept + top_k_mask(grow_scores, num_drop, permutation)

    # Weights that keep their value: the kept ones (and, without
    # regrow_at_zero, those dropped and regrown at once).
    survivors = kept if self.regrow_at_zero else mask * new_mask
    keep = tf.reshape(survivors, shape)
    layer.mask.assign(tf.cast(tf.reshape(new_mask, shape), layer.mask.dtype))
    layer.kernel.assign(layer.kernel * tf.cast(keep, layer.kernel.dtype))
    for slot in slots:
      slot.assign(slot * tf.cast(keep, slot.dtype))
    return tf.math.count_nonzero(new_mask * (1.0 - survivors), dtype=tf.int32)


class RigLUpdater(MaskUpdater):
  """RigL: grow where the dense gradient is largest in magnitude (Eq. 2)."""

  needs_gradient = True

  def grow_scores(self, kernel, gradient, seed):
    del kernel, seed  # Ties are broken by the shared permutation.
    return tf.abs(gradient)


class SETUpdater(MaskUpdater):
  """SET (Mocanu et al. 2018): grow at uniformly random positions."""

  def grow_scores(self, kernel, gradient, seed):
    del gradient
    # Philox integers below 2**24 (exact float32s): XLA and TF's kernels
    # draw the same ones, but not the same floats or default algorithm, so
    # the scores are the same compiled or not (ties go to the permutation).
    return tf.cast(tf.random.stateless_uniform(
        tf.shape(kernel), seed=seed, minval=0, maxval=2**24,
        dtype=tf.int32, alg='philox'), tf.float32)


class StaticUpdater(MaskUpdater):
  """Static sparse training: masks never change."""

  def update(self, layers, drop_fraction, step, gradients=None,
             optimizer=None):
    del layers, drop_fraction, step, gradients, optimizer
    return tf.constant(0, tf.int32)


UPDATERS = {'rigl': RigLUpdater, 'set': SETUpdater, 'static': StaticUpdater}


def make_updater(name, seed=0, **kwargs):
  """Builds an updater by name: 'rigl' (gradient grow), 'set', 'static'.

  `kwargs` go to the `MaskUpdater` constructor (regrow_at_zero,
  update_dense_layers).
  """
  if name not in UPDATERS:
    raise ValueError(f'growth rule must be one of {sorted(UPDATERS)}, got '
                     f'{name!r}.')
  return UPDATERS[name](seed=seed, **kwargs)
