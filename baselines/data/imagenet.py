"""ImageNet data: TFDS `imagenet2012`, ImageNet-C and ImageNet-A.

Standard ResNet preprocessing, as the FreeTickets authors' ImageNet loaders
(torchvision): training images get a random-resized crop (area 8%-100% of
the image, aspect ratio 3/4-4/3) resized to `image_size`, and a random
horizontal flip; evaluation images are resized so their shorter side is
`image_size * 256 / 224` and center-cropped to `image_size`. Both are then
normalised with ImageNet's mean and std. Augmentation is stateless, seeded
per (seed, epoch, example) as CIFAR's (`pipeline.train_dataset`). Images stay
encoded until the preprocessing decodes them (in parallel), and training
shuffles through a buffer of `SHUFFLE_BUFFER` encoded images, not the
whole split.

TFDS cannot download ImageNet: `load_split` explains how to prepare it.
"""

import dataclasses

import tensorflow as tf

from baselines.data import cifar
from baselines.data import pipeline

NUM_CLASSES = 1000
IMAGE_SIZE = 224
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
# ImageNet-C (Hendrycks & Dietterich 2019): UB's 15 corruptions
# (uncertainty_baselines baselines/imagenet/utils.py,
# load_corrupted_test_info), the ones its means and mCE are over.
CORRUPTIONS = ('gaussian_noise', 'shot_noise', 'impulse_noise',
               'defocus_blur', 'glass_blur', 'motion_blur', 'zoom_blur',
               'snow', 'frost', 'fog', 'brightness', 'contrast',
               'elastic_transform', 'pixelate', 'jpeg_compression')
# The benchmark's 4 extra ("held-out") corruptions, also TFDS
# `imagenet2012_corrupted` configs: reported apart, never in the means.
HELD_OUT_CORRUPTIONS = ('gaussian_blur', 'saturate', 'spatter',
                        'speckle_noise')
# AlexNet's top-1 error on each of the 15, averaged over the 5 severities:
# the mCE's normalisation (Hendrycks & Dietterich 2019, Section 4; the
# values of github.com/google-research/augmix imagenet.py, "taken from
# github.com/hendrycks/robustness"; UB reads the same averages from its
# --alexnet_errors_path CSV).
ALEXNET_ERRORS = dict(zip(CORRUPTIONS, (
    0.886428, 0.894468, 0.922640, 0.819880, 0.826268, 0.785948, 0.798360,
    0.866816, 0.826572, 0.819324, 0.564592, 0.853204, 0.646056, 0.717840,
    0.606500)))
IMAGENET_C = pipeline.CorruptionBenchmark(
    held_out=HELD_OUT_CORRUPTIONS, reference_errors=ALEXNET_ERRORS)
IMAGENET_A = 'imagenet_a'
# The 200 ImageNet classes of ImageNet-A (Hendrycks et al. 2021): its
# protocol scores the logits of these alone (github.com/hendrycks/
# natural-adv-examples eval.py, `indices_in_1k`).
IMAGENET_A_CLASSES = (
    6, 11, 13, 15, 17, 22, 23, 27, 30, 37, 39, 42, 47, 50, 57, 70, 71, 76,
    79, 89, 90, 94, 96, 97, 99, 105, 107, 108, 110, 113, 124, 125, 130, 132,
    143, 144, 150, 151, 207, 234, 235, 254, 277, 283, 287, 291, 295, 298,
    301, 306, 307, 308, 309, 310, 311, 313, 314, 315, 317, 319, 323, 324,
    326, 327, 330, 334, 335, 336, 347, 361, 363, 372, 378, 386, 397, 400,
    401, 402, 404, 407, 411, 416, 417, 420, 425, 428, 430, 437, 438, 445,
    456, 457, 461, 462, 470, 472, 483, 486, 488, 492, 496, 514, 516, 528,
    530, 539, 542, 543, 549, 552, 557, 561, 562, 569, 572, 573, 575, 579,
    589, 606, 607, 609, 614, 626, 627, 640, 641, 642, 643, 658, 668, 677,
    682, 684, 687, 701, 704, 719, 736, 746, 749, 752, 758, 763, 765, 768,
    773, 774, 776, 779, 780, 786, 792, 797, 802, 803, 804, 813, 815, 820,
    823, 831, 833, 835, 839, 845, 847, 850, 859, 862, 870, 879, 880, 888,
    890, 897, 900, 907, 913, 924, 932, 933, 934, 937, 943, 945, 947, 951,
    954, 956, 957, 959, 971, 972, 980, 981, 984, 986, 987, 988)
# Encoded images in training's shuffle buffer (about 1 GB of JPEGs).
SHUFFLE_BUFFER = 10_000

_CROP_AREA = (0.08, 1.0)
_CROP_ASPECT_RATIO = (3.0 / 4.0, 4.0 / 3.0)
_RESIZE_RATIO = 256.0 / 224.0


@dataclasses.dataclass(frozen=True)
class ImagenetPreprocessing:
  """Random-resized crop + flip for training; resize + center crop for eval."""
  image_size: int = IMAGE_SIZE
  mean: tuple = MEAN
  std: tuple = STD

  def normalize(self, image):
    image = tf.cast(image, tf.float32) / 255.0
    return (image - self.mean) / self.std

  def train_image(self, image, seed):
    image = _decoded(image)
    begin, size, _ = tf.image.stateless_sample_distorted_bounding_box(
        tf.shape(image), bounding_boxes=tf.zeros([1, 0, 4]), seed=seed,
        min_object_covered=0.0, aspect_ratio_range=_CROP_ASPECT_RATIO,
        area_range=_CROP_AREA, max_attempts=10,
        use_image_if_no_bounding_boxes=True)
    image = tf.slice(image, begin, size)
    image = tf.image.resize(image, [self.image_size, self.image_size])
    flip_seed = tf.random.experimental.stateless_fold_in(seed, 1)
    image = tf.image.stateless_random_flip_left_right(image, seed=flip_seed)
    return self.normalize(image)

  def eval_image(self, image):
    image = _decoded(image)
    shape = tf.cast(tf.shape(image)[:2], tf.float32)
    scale = round(self.image_size * _RESIZE_RATIO) / tf.reduce_min(shape)
    resized = tf.cast(tf.math.round(shape * scale), tf.int32)
    image = tf.image.resize(image, resized)
    top = (resized[0] - self.image_size) // 2
    left = (resized[1] - self.image_size) // 2
    image = tf.image.crop_to_bounding_box(image, top, left, self.image_size,
                                          self.image_size)
    return self.normalize(image)


def _decoded(image):
  """A uint8 HWC image from an encoded (JPEG / PNG) string or pixels."""
  if image.dtype == tf.string:
    return tf.io.decode_image(image, channels=3, expand_animations=False)
  return image


def _not_prepared(name, data_dir, error):
  return pipeline.DataError(
      f'TFDS dataset {name!r} is not prepared in --data_dir='
      f'{data_dir or "~/tensorflow_datasets"}, and TFDS cannot download '
      f'ImageNet. Download ILSVRC2012_img_train.tar and '
      f'ILSVRC2012_img_val.tar from image-net.org into '
      f'<data_dir>/downloads/manual/, then run `tfds build {name} '
      f'--data_dir=<data_dir>` (see the TFDS catalog page of {name}). '
      f'({error})')


def load_split(name, split, data_dir=None):
  """A TFDS split of an ImageNet dataset, images encoded; a clear error if
  it is not prepared."""
  try:
    loaded = pipeline.load_tfds(name, split, data_dir, download=False,
                                decode=False)
    return dataclasses.replace(loaded, shuffle_buffer=SHUFFLE_BUFFER)
  except pipeline.DataError as e:
    raise _not_prepared(name, data_dir, e) from e


def load_train_test(data_dir=None):
  """ImageNet's train split and its validation split (UB's test set)."""
  return (load_split('imagenet2012', 'train', data_dir),
          load_split('imagenet2012', 'validation', data_dir))


def load_corrupted(data_dir=None):
  """ImageNet-C: (corruption, severity) -> Split of every TFDS config, the
  15 of the means and the 4 held out (`IMAGENET_C`)."""
  return {(c, s): load_split(f'imagenet2012_corrupted/{c}_{s}', 'validation',
                             data_dir)
          for c in CORRUPTIONS + HELD_OUT_CORRUPTIONS
          for s in cifar.SEVERITIES}


def load_imagenet_a(data_dir=None):
  """ImageNet-A (Hendrycks et al. 2021): labels in ImageNet's 1000 classes,
  scored over its 200 (`IMAGENET_A_CLASSES`)."""
  return dataclasses.replace(load_split(IMAGENET_A, 'test', data_dir),
                             classes=IMAGENET_A_CLASSES)
