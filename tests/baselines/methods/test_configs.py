"""Tests for baselines/methods/configs.py: typed configs from flag values."""

import tensorflow as tf

from baselines.methods import configs


class _Flags(dict):
  """Parsed flags as `from_flags` reads them: `f.name`."""

  def __getattr__(self, name):
    return self[name]


SPARSITY_FLAGS = _Flags(
    sparsity=0.9, distribution='uniform', erk_power_scale=1.0,
    first_layer='dense', last_layer='0.5', growth='random',
    update_interval=1000, drop_fraction=0.3,
    drop_fraction_schedule='cosine', regrow_at_zero=False,
    update_dense_layers=True, inactive_gradient='zero')


class SparsityConfigTest(tf.test.TestCase):

  def test_from_flags_scales_the_interval_and_parses_layer_options(self):
    config = configs.SparsityConfig.from_flags(SPARSITY_FLAGS, 512, 'dst')
    self.assertEqual(config.update_interval_steps, 250)  # 1000 * 128 / 512.
    self.assertEqual(config.update_interval, 1000)
    self.assertEqual((config.first_layer, config.last_layer), ('dense', 0.5))
    self.assertEqual(config.updater, 'set')  # --growth=random.
    self.assertEqual((config.drop_fraction, config.drop_fraction_schedule,
                      config.regrow_at_zero, config.inactive_gradient),
                     (0.3, 'cosine', False, 'zero'))
    self.assertEqual(configs.SparsityConfig.from_flags(
        SPARSITY_FLAGS, 128, 'static').updater, 'static')

  def test_binaries_without_dst_flags(self):
    self.assertIsNone(configs.SparsityConfig.from_flags(_Flags(l2=0.0), 128,
                                                      'none'))
    ltr = configs.SparsityConfig.from_flags(_Flags(sparsity=0.8), 128,
                                            'pruned')
    self.assertEqual((ltr.sparsity, ltr.updater), (0.8, 'static'))

if __name__ == '__main__':
  tf.test.main()
