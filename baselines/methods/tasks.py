"""Data-set families: their data, preprocessing and network.

A task reads a binary's data and model flags once into its options
(`CifarOptions`, `ImagenetOptions`: values), and from those gives the splits
(`Splits`), the preprocessing, the `ModelSpec` of its network, the
training-only `ModelOptions` and the training loss. `CifarTask` serves
baselines/cifar/, `ImagenetTask` baselines/imagenet/; `experiment` takes
either.
"""

import dataclasses
import math
from typing import Dict, Optional, Tuple

from baselines.artifacts import model_spec as model_spec_lib
from baselines.data import cifar
from baselines.data import imagenet
from baselines.data import pipeline
from baselines.methods import configs
from baselines.training import losses


@dataclasses.dataclass
class Splits:
  """The data of a run (train and validation are None when only
  evaluating).

  extra_test: further test sets evaluated like the test set at the end,
    keyed `{name}/accuracy` etc. (ImageNet-A).
  corruption_benchmark: how `corrupted` is summarised
    (`pipeline.CorruptionBenchmark`; ImageNet-C's); None: every corruption
    in the means.
  """
  train: Optional[pipeline.Split]
  validation: Optional[pipeline.Split]
  test: pipeline.Split
  ood: Dict[str, pipeline.Split]
  corrupted: Dict[Tuple[str, int], pipeline.Split]
  extra_test: Dict[str, pipeline.Split] = dataclasses.field(
      default_factory=dict)
  corruption_benchmark: Optional[pipeline.CorruptionBenchmark] = None

  def identity(self):
    """{split name: `pipeline.Split.identity()`} of the splits that change a
    run's result (train, validation, test), for `run.json`."""
    return {name: getattr(self, name).identity()
            for name in ('train', 'validation', 'test')
            if getattr(self, name) is not None}


def _from_flags(options_type, flag_values):
  """`options_type` with each field the flag of its name (lists: tuples)."""
  values = {}
  for field in dataclasses.fields(options_type):
    value = flag_values[field.name].value
    values[field.name] = tuple(value) if isinstance(value, list) else value
  return options_type(**values)


@dataclasses.dataclass(frozen=True)
class CifarOptions:
  """A CIFAR binary's data and model flags (`common_flags`), as values."""
  dataset: str = 'cifar10'
  cifar_preprocessing: str = 'authors'
  data_dir: Optional[str] = None
  download_data: bool = False
  train_npz: Optional[str] = None
  test_npz: Optional[str] = None
  ood_npz: Tuple[str, ...] = ()
  ood_dataset: Tuple[str, ...] = ()
  eval_on_ood: bool = False
  corruptions_interval: int = -1
  cifar100_c_path: Optional[str] = None
  corrupted_npz_dir: Optional[str] = None
  train_examples: Optional[int] = None
  test_examples: Optional[int] = None
  train_proportion: float = 1.0
  depth: int = 28
  width_multiplier: int = 10
  dropout_rate: float = 0.0
  l2: float = 0.0
  sync_batch_norm: bool = False


@dataclasses.dataclass(frozen=True)
class ImagenetOptions:
  """An ImageNet binary's data and model flags, as values."""
  data_dir: Optional[str] = None
  train_proportion: float = 1.0
  train_examples: Optional[int] = None
  test_examples: Optional[int] = None
  corruptions_interval: int = -1
  eval_on_imagenet_a: bool = False
  image_size: int = 224
  resnet_depth: int = 50
  resnet_base_width: int = 64
  l2: float = 0.0
  sync_batch_norm: bool = False
  label_smoothing: float = 0.1


class CifarTask:
  """CIFAR-10 / CIFAR-100: TFDS or npz data, the original WRN."""
  name = 'cifar'
  # UB gives --lr_decay_epochs for 200 epochs on CIFAR.
  decay_reference_epochs = 200
  has_quick_mode = True  # --quick (`experiment.apply_quick_mode`).

  def options(self, flag_values):
    """The task's flags, read once."""
    return _from_flags(CifarOptions, flag_values)

  def loss_fn(self, f):
    """The training loss: None, cross entropy (the loop's default)."""
    del f
    return None

  def num_classes(self, f):
    return cifar.NUM_CLASSES[f.dataset]

  def preprocessing(self, f):
    return cifar.preprocessing(f.dataset, f.cifar_preprocessing)

  def model_spec(self, f, masked):
    """The `ModelSpec` of the WRN the flags describe."""
    return model_spec_lib.ModelSpec(
        depth=f.depth, width_multiplier=f.width_multiplier,
        num_classes=self.num_classes(f), input_shape=cifar.IMAGE_SHAPE,
        masked=masked, dataset=f.dataset, dropout_rate=f.dropout_rate,
        preprocessing=f.cifar_preprocessing)

  def model_options(self, f):
    return configs.ModelOptions(l2=f.l2, sync_batch_norm=f.sync_batch_norm)

  def load(self, f, evaluate_only=False):
    """The splits; `evaluate_only`: no training data (ensemble.py)."""
    num_classes = self.num_classes(f)
    if evaluate_only:
      train, validation, test = None, None, self._load_test(f, num_classes)
    else:
      train, validation, test = self._load_train_test(f, num_classes)
    ood = self._load_ood(f, test.num_examples) if f.eval_on_ood else {}
    corrupted = {}
    if f.corruptions_interval > 0:
      corrupted = {key: pipeline.take(split, f.test_examples)
                   for key, split in cifar.load_corrupted(
                       f.dataset, num_classes, f.data_dir, f.download_data,
                       f.cifar100_c_path, f.corrupted_npz_dir).items()}
    return Splits(train, validation, test, ood, corrupted)

  def _load_train_test(self, f, num_classes):
    """Train, validation (or None) and test splits from TFDS or npz.

    With --train_proportion < 1 the last part of train is held out (UB's
    validation split). The splits are validated.
    """
    if bool(f.train_npz) != bool(f.test_npz):
      raise pipeline.DataError('--train_npz and --test_npz go together.')
    if f.train_npz:
      train = cifar.load_npz(f.train_npz, num_classes, 'train_npz')
    else:
      train = pipeline.load_tfds(f.dataset, 'train', f.data_dir,
                                 f.download_data)
    test = self._load_test(f, num_classes)
    train, validation = _hold_out(train, f.train_proportion)
    return pipeline.take(train, f.train_examples), validation, test

  def _load_test(self, f, num_classes):
    """The test split (its first --test_examples) from --test_npz or TFDS."""
    if f.test_npz:
      test = cifar.load_npz(f.test_npz, num_classes, 'test_npz')
    else:
      test = pipeline.load_tfds(f.dataset, 'test', f.data_dir, f.download_data)
    return pipeline.take(test, f.test_examples)

  def _load_ood(self, f, num_test_examples):
    """OOD splits: TFDS names from --ood_dataset, or --ood_npz name=path.

    `gaussian_noise` in --ood_dataset is generated on either route
    (`cifar.gaussian_noise`, as many images as the test split).
    """
    if f.ood_npz:
      ood = {name: cifar.load_npz(path, None, name) for name, path in
             (item.split('=', 1) for item in f.ood_npz)}
    else:
      ood = {name: pipeline.take(pipeline.load_tfds(name, 'test', f.data_dir,
                                                    f.download_data),
                                 f.test_examples)
             for name in f.ood_dataset if name != cifar.GAUSSIAN_NOISE}
    if cifar.GAUSSIAN_NOISE in f.ood_dataset:
      ood[cifar.GAUSSIAN_NOISE] = cifar.gaussian_noise(
          num_test_examples, self.preprocessing(f))
    return ood


class ImagenetTask:
  """ImageNet (TFDS imagenet2012), ImageNet-C and -A; ResNet-50."""
  name = 'imagenet'
  # UB gives --lr_decay_epochs for 90 epochs on ImageNet.
  decay_reference_epochs = 90
  has_quick_mode = False

  def options(self, flag_values):
    """The task's flags, read once."""
    return _from_flags(ImagenetOptions, flag_values)

  def loss_fn(self, f):
    """The training loss: cross entropy with --label_smoothing."""
    return losses.label_smoothing_loss(f.label_smoothing)

  def num_classes(self, f):
    del f  # ImageNet's 1000.
    return imagenet.NUM_CLASSES

  def preprocessing(self, f):
    return imagenet.ImagenetPreprocessing(f.image_size)

  def model_spec(self, f, masked):
    """The `ModelSpec` of the ResNet the flags describe."""
    return model_spec_lib.ModelSpec(
        depth=f.resnet_depth, width_multiplier=f.resnet_base_width,
        num_classes=imagenet.NUM_CLASSES,
        input_shape=(f.image_size, f.image_size, 3), masked=masked,
        dataset='imagenet2012', architecture=model_spec_lib.RESNET,
        layout=model_spec_lib.LAYOUTS[model_spec_lib.RESNET])

  def model_options(self, f):
    return configs.ModelOptions(l2=f.l2, sync_batch_norm=f.sync_batch_norm)

  def load(self, f, evaluate_only=False):
    train, test = imagenet.load_train_test(f.data_dir)
    validation = None
    if evaluate_only:
      train = None
    else:
      train, validation = _hold_out(train, f.train_proportion)
      train = pipeline.take(train, f.train_examples)
    test = pipeline.take(test, f.test_examples)
    corrupted = {}
    if f.corruptions_interval > 0:
      corrupted = {key: pipeline.take(split, f.test_examples)
                   for key, split in imagenet.load_corrupted(
                       f.data_dir).items()}
    extra = {}
    if f.eval_on_imagenet_a:
      extra[imagenet.IMAGENET_A] = pipeline.take(
          imagenet.load_imagenet_a(f.data_dir), f.test_examples)
    return Splits(train, validation, test, {}, corrupted, extra,
                  imagenet.IMAGENET_C)


def _hold_out(train, train_proportion):
  """(train, validation or None): the last part of train held out."""
  if train_proportion >= 1.0:
    return train, None
  kept = math.floor(train.num_examples * train_proportion)
  return pipeline.take(train, kept), pipeline.skip(train, kept)


CIFAR = CifarTask()
IMAGENET = ImagenetTask()
