"""Tests for baselines/methods/common_flags.py: the ImageNet defaults and
validators."""

from absl import flags
import tensorflow as tf

from baselines.methods import common_flags
from baselines.methods import experiment
from tests import testing


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

  def test_dense_reference_is_mimos_150_epochs(self):
    # Table 3 normalises training FLOPs to MIMO's 150 ImageNet epochs.
    flags.FLAGS(['prog'])
    self.assertEqual(flags.FLAGS.dense_epochs, 150)

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
