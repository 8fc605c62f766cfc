"""Tests for sparse_layers/flops.py: per-layer FLOPs, RigL's step, totals."""

import tensorflow as tf

from sparse_layers import flops
from sparse_layers.keras_alias import keras

def _two_layer_model():
  inputs = keras.Input((8, 8, 3))
  x = keras.layers.Conv2D(4, 3, strides=2, padding='same', name='conv')(inputs)
  x = keras.layers.Flatten()(x)
  outputs = keras.layers.Dense(10, name='fc')(x)
  return keras.Model(inputs, outputs)


class FlopsTest(tf.test.TestCase):

  def test_two_layer_model_by_hand(self):
    layers = flops.kernel_layers(_two_layer_model())
    self.assertEqual(layers, [('conv', (3, 3, 3, 4), 16), ('fc', (64, 10), 1)])
    per_layer = flops.layer_flops(layers, {'conv': 0.5, 'fc': 0.1})
    # conv: 3*3*3*4 multiply-adds at each of 4x4 output positions.
    self.assertEqual(per_layer[0].dense_flops, 108 * 16)
    self.assertEqual(per_layer[0].flops, 108 * 16 * 0.5)
    self.assertEqual(per_layer[1].dense_flops, 640)
    self.assertAllClose(per_layer[1].flops, 64.0)

  def test_rigl_step_by_hand(self):
    d, s = 100.0, 20.0
    self.assertAllClose(flops.rigl_step_flops(d, s, 4), (3 * s * 4 + 2 * s + d)
                        / 5)
    with self.assertRaisesRegex(ValueError, 'update_interval must be >= 1'):
      flops.rigl_step_flops(d, s, 0)

  def test_totals_and_model_report(self):
    per_layer = flops.layer_flops(flops.kernel_layers(_two_layer_model()),
                                  {'conv': 0.5, 'fc': 0.1})
    self.assertEqual(flops.totals(per_layer),
                     {'dense_flops': 108 * 16 + 640,
                      'sparse_flops': 108 * 16 * 0.5 + 64.0,
                      'flops_ratio': (108 * 16 * 0.5 + 64.0) /
                                     (108 * 16 + 640)})
    report = flops.model_report(_two_layer_model(), 0.5, 'uniform')
    self.assertEqual([l['name'] for l in report['layers']], ['conv', 'fc'])
    self.assertAllClose(report['sparse_flops'],
                        sum(l['flops'] for l in report['layers']))


if __name__ == '__main__':
  tf.test.main()
