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
# TFDS `imagenet2012_corrupted` configs: the 19 corruptions of Hendrycks &
# Dietterich (2019), as the paper's ImageNet-C.
CORRUPTIONS = ('gaussian_noise', 'shot_noise', 'impulse_noise',
               'defocus_blur', 'glass_blur', 'motion_blur', 'zoom_blur',
               'snow', 'frost', 'fog', 'brightness', 'contrast',
               'elastic_transform', 'pixelate', 'jpeg_compression',
               'gaussian_blur', 'saturate', 'spatter', 'speckle_noise')
IMAGENET_A = 'imagenet_a'
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
  """ImageNet-C: (corruption, severity) -> Split of every TFDS config."""
  return {(c, s): load_split(f'imagenet2012_corrupted/{c}_{s}', 'validation',
                             data_dir)
          for c in CORRUPTIONS for s in cifar.SEVERITIES}


def load_imagenet_a(data_dir=None):
  """ImageNet-A (Hendrycks et al. 2019), labels in ImageNet's 1000 classes."""
  return load_split(IMAGENET_A, 'test', data_dir)
