"""Tests for baselines/artifacts/model_spec.py: round trip, refusals."""

import json

import tensorflow as tf

from baselines.artifacts import model_spec
from sparse_layers import layers as masked_layers

SPEC = model_spec.ModelSpec(depth=10, width_multiplier=1, num_classes=7,
                            input_shape=(32, 32, 3), masked=True,
                            dataset='cifar10')


class ModelSpecTest(tf.test.TestCase):

  def test_json_round_trip(self):
    stored = json.loads(json.dumps(SPEC.to_json()))
    self.assertEqual(model_spec.ModelSpec.from_json(stored), SPEC)
    ub = model_spec.ModelSpec(**{**SPEC.to_json(), 'preprocessing': 'ub',
                                 'input_shape': (32, 32, 3)})
    self.assertEqual(model_spec.ModelSpec.from_json(
        json.loads(json.dumps(ub.to_json()))).preprocessing, 'ub')
    # A spec stored before the field existed: the authors' recipe.
    del stored['preprocessing']
    self.assertEqual(model_spec.ModelSpec.from_json(stored).preprocessing,
                     'authors')

  def test_build_makes_the_described_network(self):
    model = SPEC.build()
    self.assertEqual(model.output_shape, (None, 7))
    self.assertLen(masked_layers.masked_layers(model), 10)  # 9 convs + fc.
    dense = model_spec.ModelSpec(**{**SPEC.to_json(), 'masked': False,
                                    'input_shape': (32, 32, 3)}).build()
    self.assertEmpty(masked_layers.masked_layers(dense))
    self.assertEqual(dense.count_params(), model.count_params() - sum(
        int(tf.size(l.mask)) for l in masked_layers.masked_layers(model)))

  def test_resnet_spec_round_trip_and_build(self):
    spec = model_spec.ModelSpec(
        depth=14, width_multiplier=4, num_classes=5, input_shape=(32, 32, 3),
        masked=True, dataset='imagenet2012',
        architecture=model_spec.RESNET,
        layout=model_spec.LAYOUTS[model_spec.RESNET])
    stored = json.loads(json.dumps(spec.to_json()))
    self.assertEqual(model_spec.ModelSpec.from_json(stored), spec)
    model = spec.build(l2=1e-4)
    self.assertEqual(model.name, 'resnet14')
    self.assertEqual(model.output_shape, (None, 5))
    # conv1, 4 bottlenecks of 3 convs, 4 shortcuts, the classifier.
    self.assertLen(masked_layers.masked_layers(model), 1 + 12 + 4 + 1)
    # L2 on every kernel and the classifier's bias, none on BatchNorm.
    self.assertLen(model.losses, 18 + 1)
    with self.assertRaisesRegex(ValueError, 'built with resnet layout'):
      model_spec.ModelSpec.from_json({**stored, 'layout': 'old'})

  def test_other_layout_or_missing_fields_are_refused(self):
    with self.assertRaisesRegex(ValueError, 'ticket_3: built with wide_resnet '
                                "layout 'old'"):
      model_spec.ModelSpec.from_json({**SPEC.to_json(), 'layout': 'old'},
                                     'ticket_3')
    with self.assertRaisesRegex(ValueError, "architecture 'vgg' is not one"):
      model_spec.ModelSpec.from_json({**SPEC.to_json(), 'architecture': 'vgg'})
    partial = SPEC.to_json()
    del partial['depth']
    with self.assertRaisesRegex(ValueError, r"lacks \['depth'\]"):
      model_spec.ModelSpec.from_json(partial)


if __name__ == '__main__':
  tf.test.main()
