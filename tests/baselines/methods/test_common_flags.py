"""Tests for baselines/methods/common_flags.py: batch, LR and ΔT scaling; the
ImageNet defaults and validators."""

from absl import flags
import tensorflow as tf

from baselines.methods import common_flags
from baselines.methods import experiment
from tests import testing


class ScalingTest(tf.test.TestCase):

  def test_default_global_batch_is_128_up_to_8_replicas_then_16_each(self):
    for replicas in (1, 2, 4, 8):
      self.assertEqual(common_flags.global_batch_size(None, replicas), 128)
    # A pod slice: never fewer than 16 images per replica by default.
    for replicas, batch in ((16, 256), (32, 512), (12, 192), (256, 4096)):
      self.assertEqual(common_flags.global_batch_size(None, replicas), batch)
    self.assertEqual(common_flags.global_batch_size(64, 4), 256)  # UB.
    self.assertEqual(common_flags.global_batch_size(4, 32), 128)  # Given.
    with self.assertRaisesRegex(ValueError, 'cannot be split over 3 '
                                'replicas; set --per_core_batch_size'):
      common_flags.global_batch_size(None, 3)

  def test_lr_scales_linearly_with_the_global_batch(self):
    self.assertAllClose(common_flags.scaled_learning_rate(0.1, 128), 0.1)
    self.assertAllClose(common_flags.scaled_learning_rate(0.1, 1024), 0.8)
    self.assertAllClose(common_flags.scaled_learning_rate(0.1, 32), 0.025)

  def test_update_interval_keeps_examples_between_updates(self):
    # ΔT = 1000 steps of 128 examples = 128,000 examples at any batch.
    for batch, steps in ((128, 1000), (256, 500), (1024, 125), (64, 2000),
                         (32, 4000)):
      self.assertEqual(common_flags.scaled_update_interval(1000, batch),
                       steps)
      self.assertEqual(steps * batch, 128_000)
    self.assertEqual(common_flags.scaled_update_interval(50, 96), 67)
    self.assertEqual(common_flags.scaled_update_interval(1, 4096), 1)



class ImagenetFlagsTest(tf.test.TestCase):
  """The ImageNet binaries' flags, defined on absl's global FLAGS (no other
  test defines flags in-process)."""

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    if 'resnet_depth' not in flags.FLAGS:
      common_flags.define_imagenet_flags()
      common_flags.define_imagenet_sparsity_flags()

  def tearDown(self):
    flags.FLAGS.unparse_flags()
    super().tearDown()

  def test_paper_defaults(self):
    f = flags.FLAGS
    f(['prog'])
    self.assertEqual((f.l2, f.lr_warmup_epochs, f.train_epochs,
                      f.lr_decay_epochs, f.label_smoothing, f.image_size,
                      f.resnet_depth, f.update_interval,
                      f.drop_fraction_schedule, f.sparsity),
                     (5e-5, 5, 200, ['27', '54', '81'], 0.1, 224, 50, 4000,
                      'cosine', 0.8))

  def test_bfloat16_and_xla_default_on_with_a_tpu_only(self):
    f = flags.FLAGS
    f(['prog'])
    self.assertIsNone(f.use_bfloat16)
    self.assertIsNone(f.jit_compile)
    default = tf.distribute.get_strategy()
    self.assertEqual(experiment.accelerator_options(f, default),
                     {'use_bfloat16': False, 'jit_compile': False})
    f.unparse_flags()
    f(['prog', '--tpu=my-tpu'])
    self.assertEqual(experiment.accelerator_options(f, default),
                     {'use_bfloat16': True, 'jit_compile': True})
    f.unparse_flags()
    f(['prog', '--tpu=my-tpu', '--nouse_bfloat16', '--nojit_compile'])
    self.assertEqual(experiment.accelerator_options(f, default),
                     {'use_bfloat16': False, 'jit_compile': False})

  def test_xla_is_refused_for_replicas_on_cpus(self):
    if not testing.use_two_logical_cpus():
      self.skipTest('TensorFlow started before 2 logical CPUs were set up.')
    f = flags.FLAGS
    f(['prog', '--jit_compile'])
    with self.assertRaisesRegex(ValueError, '--jit_compile: TensorFlow cannot '
                                'compile the steps of MirroredStrategy'):
      experiment.accelerator_options(f, testing.mirrored_strategy())

  def test_validators(self):
    for argv, message in ((['--label_smoothing=1.0'], '--label_smoothing'),
                          (['--steps_per_loop=0'], '--steps_per_loop'),
                          (['--resnet_depth=20'], '--resnet_depth'),
                          (['--image_size=16'], '--image_size')):
      with self.assertRaisesRegex(flags.IllegalFlagValueError, message):
        flags.FLAGS(['prog'] + argv)
      flags.FLAGS.unparse_flags()


if __name__ == '__main__':
  tf.test.main()
