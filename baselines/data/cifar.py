"""CIFAR data: TFDS or local npz arrays, the FreeTickets authors' preprocessing.

Training: pad by 4 pixels, random 32x32 crop, random horizontal flip; then
every image (train, test, OOD) is normalised with the training dataset's
`Preprocessing`. Both follow the authors' data loaders: CIFAR-10 pads by
reflection and uses mean (0.4914, 0.4822, 0.4465), std (0.2023, 0.1994,
0.2010); CIFAR-100 pads with zeros (torchvision's RandomCrop(32, padding=4))
and uses CIFAR-100's own mean and std. The order and the augmentation of
epoch e are a function of (seed, e) only, so a run resumed at an epoch
boundary sees the same batches. Errors in the data (a missing TFDS directory
without download, an npz of the wrong shape, dtype or label range) raise
`DataError` with the file or dataset named, before any training starts.
"""

import dataclasses
import os

import numpy as np
import tensorflow as tf

from baselines.data import pipeline
from baselines.runtime import files

NUM_CLASSES = {'cifar10': 10, 'cifar100': 100}
CORRUPTIONS = ('gaussian_noise', 'shot_noise', 'impulse_noise', 'defocus_blur',
               'frosted_glass_blur', 'motion_blur', 'zoom_blur', 'snow',
               'frost', 'fog', 'brightness', 'contrast', 'elastic', 'pixelate',
               'jpeg_compression')
# UB's CIFAR-100-C corruptions (uncertainty_baselines/datasets/
# cifar100_corrupted.py): 17 types, `glass_blur` for CIFAR-10's
# `frosted_glass_blur`.
CIFAR100_CORRUPTIONS = ('brightness', 'contrast', 'defocus_blur',
                        'elastic_transform', 'fog', 'frost', 'glass_blur',
                        'gaussian_blur', 'gaussian_noise', 'impulse_noise',
                        'jpeg_compression', 'pixelate', 'saturate',
                        'shot_noise', 'spatter', 'speckle_noise', 'zoom_blur')
CORRUPTIONS_OF = {'cifar10': CORRUPTIONS, 'cifar100': CIFAR100_CORRUPTIONS}
SEVERITIES = (1, 2, 3, 4, 5)
IMAGE_SHAPE = (32, 32, 3)

_PAD = 4  # Pixels of padding before the training crop.


@dataclasses.dataclass(frozen=True)
class Preprocessing:
  """Normalisation and training-crop padding of one training dataset.

  padding: 'REFLECT' or 'CONSTANT' (zeros), as `tf.pad`'s mode.
  """
  mean: tuple
  std: tuple
  padding: str

  def normalize(self, image):
    image = tf.cast(image, tf.float32) / 255.0
    return (image - self.mean) / self.std

  def augment(self, image, seed):
    """Pad by 4, random 32x32 crop, random horizontal flip (stateless)."""
    image = tf.pad(image, [[_PAD, _PAD], [_PAD, _PAD], [0, 0]],
                   mode=self.padding)
    image = tf.image.stateless_random_crop(image, IMAGE_SHAPE, seed=seed)
    flip_seed = tf.random.experimental.stateless_fold_in(seed, 1)
    return tf.image.stateless_random_flip_left_right(image, seed=flip_seed)

  def train_image(self, image, seed):
    """A training image: augmented (seeded) and normalised."""
    return self.normalize(self.augment(image, seed))

  def eval_image(self, image):
    """An evaluation image: normalised."""
    return self.normalize(image)


# The authors' loaders (sparselearning/utils.py of VITA-Group/FreeTickets).
PREPROCESSING = {
    'cifar10': Preprocessing(mean=(0.4914, 0.4822, 0.4465),
                             std=(0.2023, 0.1994, 0.2010), padding='REFLECT'),
    'cifar100': Preprocessing(
        mean=(0.5070751592371323, 0.48654887331495095, 0.4409178433670343),
        std=(0.2673342858792401, 0.2564384629170883, 0.27615047132568404),
        padding='CONSTANT'),
}

# UB's CIFAR datasets (uncertainty_baselines/datasets/cifar.py): zero padding
# (resize_with_crop_or_pad to 36x36), and CIFAR-10's mean and std over the
# whole training set for CIFAR-10 and CIFAR-100 alike.
UB_PREPROCESSING = Preprocessing(mean=(0.4914, 0.4822, 0.4465),
                                 std=(0.2470, 0.2435, 0.2616),
                                 padding='CONSTANT')
# --cifar_preprocessing's recipes.
RECIPES = ('authors', 'ub')


def preprocessing(dataset, recipe='authors'):
  """The `Preprocessing` of `dataset` by `recipe` (one of `RECIPES`)."""
  if recipe == 'ub':
    return UB_PREPROCESSING
  if recipe != 'authors':
    raise ValueError(f'recipe must be one of {RECIPES}, got {recipe!r}.')
  return PREPROCESSING[dataset]


NPZ_HINT = ('Pass an npz file with x: uint8 [N, 32, 32, 3] and y: integer '
            'labels [N] (numpy.savez).')


def load_npz(path, num_classes, name=None):
  """Loads an npz with `x` uint8 [N, 32, 32, 3] and `y` int [N] labels.

  Read through `tf.io.gfile`, so `path` may be on gs:// (or any TF
  filesystem).
  """
  if not tf.io.gfile.exists(path):
    raise pipeline.DataError(f'npz file not found: {path}')
  try:
    arrays, fingerprint = files.read_npz(path, NPZ_HINT,
                                         with_fingerprint=True)
    x, y = arrays['x'], arrays['y']
  except KeyError as e:
    raise pipeline.DataError(
        f'{path}: needs arrays "x" and "y" ({e} missing).') from e
  except files.FileError as e:
    raise pipeline.DataError(str(e)) from e
  if x.dtype != np.uint8 or x.ndim != 4 or x.shape[1:] != IMAGE_SHAPE:
    raise pipeline.DataError(f'{path}: x must be uint8 [N, 32, 32, 3], got '
                             f'{x.dtype} {list(x.shape)}.')
  if not np.issubdtype(y.dtype, np.integer) or y.shape != (x.shape[0],):
    raise pipeline.DataError(f'{path}: y must be integer labels [N] with N = '
                             f'{x.shape[0]}, got {y.dtype} {list(y.shape)}.')
  if num_classes is not None and y.size and (y.min() < 0 or
                                              y.max() >= num_classes):
    raise pipeline.DataError(f'{path}: labels must be in [0, {num_classes}),'
                             f' got [{y.min()}, {y.max()}].')
  if not x.shape[0]:
    raise pipeline.DataError(f'{path}: has no examples (x is {list(x.shape)}). '
                             f'{NPZ_HINT}')
  return pipeline.Split(
      name or os.path.basename(path),
      tf.data.Dataset.from_tensor_slices((x, y.astype(np.int64))),
      int(x.shape[0]), source={'npz': path, **fingerprint})


GAUSSIAN_NOISE = 'gaussian_noise'


def gaussian_noise(num_examples, preprocessing, seed=0):
  """The OOD set of Gaussian-noise images (paper App. F, after Hein et al.).

  Each pixel of channel c is drawn from N(255 mean_c, 255 std_c), the
  training dataset's statistics (`preprocessing`), rounded and clipped to
  [0, 255]; labels are 0 (unused). Seeded: the same images every run.
  """
  rng = np.random.default_rng(seed)
  mean = 255.0 * np.asarray(preprocessing.mean)
  std = 255.0 * np.asarray(preprocessing.std)
  images = rng.normal(mean, std, (num_examples,) + IMAGE_SHAPE)
  images = np.clip(np.rint(images), 0, 255).astype(np.uint8)
  labels = np.zeros(num_examples, np.int64)
  return pipeline.Split(GAUSSIAN_NOISE,
                        tf.data.Dataset.from_tensor_slices((images, labels)),
                        num_examples, source={'generated': GAUSSIAN_NOISE,
                                     'seed': seed})


def load_cifar100_c(path, corruption, severity):
  """A CIFAR-100-C split from UB's --cifar100_c_path layout.

  `path`/{corruption}-{severity}.tfrecords, each record a tf.train.Example
  with `image` (raw uint8 bytes of 32x32x3) and `label` (int64), as UB's
  `Cifar100CorruptedDataset` reads them.
  """
  filename = os.path.join(path, f'{corruption}-{severity}.tfrecords')
  if not tf.io.gfile.exists(filename):
    raise pipeline.DataError(
        f'CIFAR-100-C file not found: {filename} (UB\'s --cifar100_c_path '
        f'layout: one {{corruption}}-{{severity}}.tfrecords per corruption '
        f'and severity).')
  features = {'image': tf.io.FixedLenFeature([], tf.string),
              'label': tf.io.FixedLenFeature([], tf.int64)}

  def parse(record):
    example = tf.io.parse_single_example(record, features)
    image = tf.reshape(tf.io.decode_raw(example['image'], tf.uint8),
                       IMAGE_SHAPE)
    return image, example['label']

  dataset = tf.data.TFRecordDataset(filename).map(parse)
  try:
    num_examples = pipeline.count_examples(dataset)
  except tf.errors.OpError as e:
    raise pipeline.DataError(f'{filename}: not CIFAR-100-C TFRecords '
                             f'({type(e).__name__}: {e.message[:200]}).') from e
  return pipeline.Split(f'cifar100_corrupted/{corruption}_{severity}', dataset,
                        num_examples, source={'tfrecords': filename})


def load_corrupted(dataset_name, num_classes, data_dir=None, download=False,
                   cifar100_c_path=None, npz_dir=None):
  """Every (corruption, severity) split of CIFAR-10-C or CIFAR-100-C.

  From `npz_dir`/{corruption}-{severity}.npz (x, y as `load_npz`) if given;
  else CIFAR-10-C from TFDS (`cifar10_corrupted`) and CIFAR-100-C from
  UB's `cifar100_c_path`.

  Returns:
    dict (corruption, severity) -> Split.
  """
  corruptions = CORRUPTIONS_OF[dataset_name]
  keys = [(c, s) for c in corruptions for s in SEVERITIES]
  if npz_dir:
    missing = [f'{c}-{s}.npz' for c, s in keys if not tf.io.gfile.exists(
        os.path.join(npz_dir, f'{c}-{s}.npz'))]
    if missing:
      raise pipeline.DataError(
          f'--corrupted_npz_dir={npz_dir} lacks {len(missing)} of the '
          f'{len(keys)} files of {dataset_name}-C, e.g. {missing[:3]}.')
    return {(c, s): load_npz(os.path.join(npz_dir, f'{c}-{s}.npz'),
                             num_classes, f'{dataset_name}_corrupted/{c}_{s}')
            for c, s in keys}
  if dataset_name == 'cifar100':
    if not cifar100_c_path:
      raise pipeline.DataError(
          'corrupted evaluation of CIFAR-100 needs --cifar100_c_path (UB\'s '
          'CIFAR-100-C TFRecords) or --corrupted_npz_dir; TFDS has no '
          'CIFAR-100-C.')
    return {(c, s): load_cifar100_c(cifar100_c_path, c, s) for c, s in keys}
  return {(c, s): pipeline.load_tfds(f'cifar10_corrupted/{c}_{s}', 'test',
                                     data_dir, download)
          for c, s in keys}
