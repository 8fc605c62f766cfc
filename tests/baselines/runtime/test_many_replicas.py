"""Pod-sized replica counts on logical CPU devices (a TPU slice's stand-in).

`replicas_run` splits the CPU into 32 logical devices in its own process:
8 replicas train a small sparse CNN with a RigL update after every step and
must stay identical (masks, weights, momentum); 32 replicas get the
default global batch of 512, 16 images each, with the LR and ΔT scaled.
"""

import tensorflow as tf

from tests.baselines import binary_testing as bt


class ManyReplicasTest(tf.test.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.result = bt.result_of('tests.baselines.runtime.replicas_run')

  def test_eight_replicas_update_masks_and_stay_identical(self):
    eight = self.result['eight']
    self.assertEqual(eight['global_batch'], 128)  # The paper's batch.
    self.assertEqual(eight['shapes'], [[16, 32, 32, 3]] * 8)
    self.assertEqual((eight['steps'], eight['hook_steps']), (2, 2))
    self.assertGreater(eight['mask_changes'], 0)
    self.assertGreater(eight['compared'], 10)  # Weights, masks, slots.
    self.assertTrue(eight['identical'])

  def test_thirty_two_replicas_get_sixteen_images_each(self):
    pod = self.result['thirty_two']
    self.assertEqual((pod['replicas'], pod['per_replica']), (32, 32))
    self.assertEqual(pod['global_batch'], 512)
    self.assertEqual(pod['shapes'], [[16, 32, 32, 3]])
    self.assertAllClose(pod['learning_rate'], 0.4)  # 0.1 x 512 / 128.
    self.assertEqual(pod['update_interval'], 250)  # 1000 x 128 / 512.


if __name__ == '__main__':
  tf.test.main()
