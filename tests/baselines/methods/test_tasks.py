"""Tests for baselines/methods/tasks.py: each family's splits and model spec."""

import dataclasses

from absl import flags
import tensorflow as tf
import tensorflow_datasets as tfds

from baselines.artifacts import model_spec
from baselines.data import cifar
from baselines.data import imagenet
from baselines.methods import configs
from baselines.methods import tasks


IMAGENET_OPTIONS = tasks.ImagenetOptions(
    data_dir=None, train_proportion=0.75, train_examples=None,
    test_examples=4, corruptions_interval=-1, eval_on_imagenet_a=True,
    image_size=32, resnet_depth=14, resnet_base_width=4, l2=5e-5,
    sync_batch_norm=False)


class ImagenetTaskTest(tf.test.TestCase):

  def test_splits_under_mock_data(self):
    with tfds.testing.mock_data(num_examples=8):
      splits = tasks.IMAGENET.load(IMAGENET_OPTIONS)
    self.assertEqual((splits.train.num_examples,
                      splits.validation.num_examples,
                      splits.test.num_examples), (6, 2, 4))
    self.assertEqual(list(splits.extra_test), [imagenet.IMAGENET_A])
    self.assertEqual(splits.extra_test['imagenet_a'].num_examples, 4)
    self.assertEqual((splits.ood, splits.corrupted), ({}, {}))
    with tfds.testing.mock_data(num_examples=8):
      only_test = tasks.IMAGENET.load(IMAGENET_OPTIONS, evaluate_only=True)
    self.assertIsNone(only_test.train)
    self.assertIsNone(only_test.validation)

  def test_imagenet_c_splits(self):
    f = dataclasses.replace(IMAGENET_OPTIONS, corruptions_interval=1,
                            eval_on_imagenet_a=False)
    with tfds.testing.mock_data(num_examples=6):
      corrupted = tasks.IMAGENET.load(f, evaluate_only=True).corrupted
    self.assertEqual(sorted(corrupted),
                     sorted((c, s) for c in imagenet.CORRUPTIONS +
                            imagenet.HELD_OUT_CORRUPTIONS
                            for s in range(1, 6)))
    split = corrupted[('frost', 3)]
    self.assertEqual(split.name, 'imagenet2012_corrupted/frost_3/validation')
    self.assertEqual(split.num_examples, 4)  # --test_examples.

  def test_model_spec_and_preprocessing(self):
    spec = tasks.IMAGENET.model_spec(IMAGENET_OPTIONS, masked=True)
    self.assertEqual((spec.architecture, spec.depth, spec.width_multiplier,
                      spec.input_shape, spec.num_classes),
                     (model_spec.RESNET, 14, 4, (32, 32, 3), 1000))
    self.assertEqual(tasks.IMAGENET.preprocessing(IMAGENET_OPTIONS).image_size,
                     32)
    self.assertEqual(tasks.IMAGENET.decay_reference_epochs, 90)


class CifarTaskTest(tf.test.TestCase):

  def test_model_spec_and_preprocessing(self):
    f = tasks.CifarOptions(depth=16, width_multiplier=2, dataset='cifar100',
                           dropout_rate=0.1)
    spec = tasks.CIFAR.model_spec(f, masked=False)
    self.assertEqual((spec.architecture, spec.depth, spec.num_classes,
                      spec.masked, spec.dropout_rate),
                     (model_spec.WIDE_RESNET, 16, 100, False, 0.1))
    self.assertIs(tasks.CIFAR.preprocessing(f), cifar.PREPROCESSING['cifar100'])
    self.assertEqual(tasks.CIFAR.decay_reference_epochs, 200)

  def test_model_options(self):
    options = tasks.CIFAR.model_options(
        tasks.CifarOptions(l2=5e-5, sync_batch_norm=True))
    self.assertEqual(options, configs.ModelOptions(5e-5, True))

  def test_options_read_each_flag_once(self):
    values = flags.FlagValues()
    for field in dataclasses.fields(tasks.ImagenetOptions):
      flags.DEFINE_string(field.name, None, '.', flag_values=values)
    values(['prog', '--image_size=64', '--data_dir=gs://b/tfds'])
    options = tasks.IMAGENET.options(values)
    self.assertEqual((options.image_size, options.data_dir),
                     ('64', 'gs://b/tfds'))


if __name__ == '__main__':
  tf.test.main()
