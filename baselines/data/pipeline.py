"""Splits of images and labels and their tf.data pipelines (any dataset).

A `Split` is a dataset in a fixed order with its size and what it is
(`identity`); `train_dataset` shuffles, augments and batches one epoch as a
function of (seed, epoch) only, so a run resumed at an epoch boundary sees
the same batches. `DataError` names the file or dataset that is wrong,
before any training starts.
"""

import dataclasses
import socket
from typing import Dict, Optional, Tuple

import numpy as np
import requests
import tensorflow as tf
import tensorflow_datasets as tfds


class DataError(ValueError):
  """Bad or missing data, found before training."""


@dataclasses.dataclass
class Split:
  """Images and labels (int64) of one split, in a fixed order.

  Images are uint8 HWC arrays, or encoded (JPEG / PNG) strings that the
  preprocessing decodes (ImageNet).
  shuffle_buffer: of training's shuffle; None: the whole split (CIFAR).
  source: what the data are, not only where (`identity`): an npz file's
    path, size and sha256; a TFDS builder's name, version and split.
  offset: the split's first example in its source (`skip`).
  classes: the classes its labels come from, if a subset of the model's
    (ImageNet-A's 200): evaluation scores their logits alone.
  """
  name: str
  dataset: tf.data.Dataset  # Of (image, int64 label).
  num_examples: int
  shuffle_buffer: Optional[int] = None
  source: Optional[dict] = None
  offset: int = 0
  classes: Optional[Tuple[int, ...]] = None

  def identity(self):
    """{'source': ..., 'examples': [first, end)}: recorded in run.json, so
    a restart on other data is refused (`run_identity`)."""
    return {'source': self.source,
            'examples': [self.offset, self.offset + self.num_examples]}


@dataclasses.dataclass(frozen=True)
class CorruptionBenchmark:
  """How a corrupted test set is summarised (`evaluate.corrupted_metrics`).

  held_out: corruptions reported apart (test/*_mean_held_out), never in
    the means over corruptions.
  reference_errors: corruption -> a reference model's error averaged over
    severities, which normalises the corruption errors (ImageNet-C's mCE:
    AlexNet's); None: no corruption errors.
  """
  held_out: Tuple[str, ...] = ()
  reference_errors: Optional[Dict[str, float]] = None


# Where TFDS downloads each dataset from (its builders' URLs).
_DOWNLOAD_HOSTS = {'cifar10': 'www.cs.toronto.edu',
                   'cifar100': 'www.cs.toronto.edu'}


def _download_error(name, reason):
  return DataError(
      f'cannot download TFDS dataset {name!r} (--download_data): {reason}. '
      f'Offline, pass local arrays (--train_npz/--test_npz) or a --data_dir '
      f'where it is prepared.')


def _check_reachable(name):
  """Raises DataError at once if `name`'s download host cannot be reached.

  TFDS would retry for minutes and end in a traceback.
  """
  host = _DOWNLOAD_HOSTS.get(name)
  if host is None:
    return
  try:
    socket.create_connection((host, 443), timeout=10).close()
  except OSError as e:
    raise _download_error(name, f'{host} is not reachable ({e})') from e


def load_tfds(name, split, data_dir=None, download=False, decode=True):
  """Loads a TFDS split as (image, label) in file order.

  decode: False keeps images encoded (strings), for the preprocessing to
    decode in parallel (and a shuffle buffer of bytes, not pixels).
  """
  try:
    builder = tfds.builder(name, data_dir=data_dir)
    if download and not builder.is_prepared():
      _check_reachable(name)
      try:
        builder.download_and_prepare()
      except requests.exceptions.RequestException as e:
        # A connection lost after the check, or a host not in the list.
        raise _download_error(name, f'{type(e).__name__}: {e}') from e
    decoders = None if decode else {'image': tfds.decode.SkipDecoding()}
    dataset = builder.as_dataset(split=split, shuffle_files=False,
                                 as_supervised=True, decoders=decoders)
    num_examples = count_examples(dataset)
    source = {'tfds': builder.name, 'version': str(builder.info.version),
              'config': builder.builder_config.name
                        if builder.builder_config else None,
              'split': str(split)}
  except (tfds.core.registered.DatasetNotFoundError,
          AssertionError, FileNotFoundError, KeyError) as e:
    raise DataError(
        f'TFDS dataset {name!r} (split {split!r}) is not in data_dir='
        f'{data_dir or tfds.core.constants.DATA_DIR!r}; run with '
        f'--download_data on a machine with internet, or pass local arrays '
        f'(--train_npz/--test_npz). ({type(e).__name__}: {e})') from e
  dataset = dataset.map(lambda x, y: (x, tf.cast(y, tf.int64)))
  return Split(f'{name}/{split}', dataset, int(num_examples), source=source)


def count_examples(dataset):
  """Examples in a finite dataset: its cardinality, else counted."""
  cardinality = int(dataset.cardinality())
  if cardinality >= 0:
    return cardinality
  return int(dataset.reduce(0, lambda count, _: count + 1))


def take(split: Split, num_examples: Optional[int]):
  """The first `num_examples` of a split (all if None or larger)."""
  if num_examples is None or num_examples >= split.num_examples:
    return split
  return dataclasses.replace(split, dataset=split.dataset.take(num_examples),
                             num_examples=num_examples)


def skip(split: Split, num_examples: int):
  return dataclasses.replace(split, dataset=split.dataset.skip(num_examples),
                             num_examples=split.num_examples - num_examples,
                             offset=split.offset + num_examples)


def train_dataset(split: Split, batch_size, seed, epoch, preprocessing,
                  num_shards=1, shard_index=0):
  """Epoch `epoch` of training: order and augmentation from (seed, epoch).

  `preprocessing` has `train_image(image, seed)` (`Preprocessing`, or
  `imagenet.ImagenetPreprocessing`). With `num_shards` input
  pipelines (hosts), shard i yields batches i, i + num_shards, ... of the
  one-pipeline order, so the examples of each global step and their
  augmentation do not depend on the number of hosts.
  """
  epoch_seed = tf.constant([seed, epoch], tf.int64)
  shuffle_seed = int(np.random.default_rng([seed, epoch]).integers(2**31))
  buffer = min(split.shuffle_buffer or split.num_examples, split.num_examples)
  dataset = split.dataset.shuffle(buffer, seed=shuffle_seed,
                                  reshuffle_each_iteration=False).enumerate()
  if num_shards > 1:
    dataset = dataset.filter(
        lambda index, _: (index // batch_size) % num_shards == shard_index)

  def preprocess(index, example):
    image, label = example
    seed = tf.random.experimental.stateless_fold_in(epoch_seed, index)
    return preprocessing.train_image(image, seed), label

  dataset = dataset.map(preprocess, num_parallel_calls=tf.data.AUTOTUNE)
  return dataset.batch(batch_size, drop_remainder=True).prefetch(
      tf.data.AUTOTUNE)


def eval_dataset(split: Split, batch_size, preprocessing):
  """`preprocessing.eval_image` of each image, in order, last batch kept."""
  dataset = split.dataset.map(lambda x, y: (preprocessing.eval_image(x), y),
                              num_parallel_calls=tf.data.AUTOTUNE)
  return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def padded_eval_dataset(split: Split, batch_size, preprocessing, image_shape,
                        global_batch_size, num_shards=1, shard_index=0):
  """Evaluation batches of static shape: (images, labels, indices).

  Each example keeps its index in the split; the split is padded with
  zero images of index -1 to whole global batches, so every replica gets
  full batches (static shapes for XLA and TPUs) and the padding is left
  out by its index. With `num_shards` input pipelines, shard i yields
  batches i, i + num_shards, ... (as `train_dataset`).
  """
  padded = -(-split.num_examples // global_batch_size) * global_batch_size
  dataset = split.dataset.enumerate().map(
      lambda index, example: (tf.ensure_shape(
          preprocessing.eval_image(example[0]), image_shape), example[1],
                              index),
      num_parallel_calls=tf.data.AUTOTUNE)
  padding = tf.data.Dataset.from_tensors(
      (tf.zeros(image_shape, tf.float32), tf.constant(0, tf.int64),
       tf.constant(-1, tf.int64))).repeat(padded - split.num_examples)
  dataset = dataset.concatenate(padding)
  if num_shards > 1:
    dataset = dataset.enumerate().filter(
        lambda position, _: (position // batch_size) % num_shards ==
        shard_index).map(lambda _, example: example)
  return dataset.batch(batch_size, drop_remainder=True).prefetch(
      tf.data.AUTOTUNE)
