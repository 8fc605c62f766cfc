"""Tests for sparse_layers/export.py: compact file, SavedModel, command line."""

import io
import json
import os
import tempfile
from unittest import mock

from absl import flags
import numpy as np
import tensorflow as tf

from sparse_layers import ensemble
from sparse_layers import export
from sparse_layers import layers
from sparse_layers import sparse_init
from sparse_layers import tickets
from sparse_layers.keras_alias import keras
from tests import testing

MEMBERS = 3


def _save_tickets(root, num_classes=(4, 4, 4)):
  """Tiny WRN tickets of distinct masks, weights and BatchNorm statistics."""
  paths = []
  for index, classes in enumerate(num_classes):
    keras.utils.set_random_seed(index)
    model = testing.tiny_wrn(num_classes=classes)
    sparse_init.sparsify(model, 0.8, seed=index)
    rng = np.random.default_rng(index)
    for layer in model.layers:
      if isinstance(layer, keras.layers.BatchNormalization):
        layer.moving_mean.assign(rng.normal(size=layer.moving_mean.shape))
        layer.moving_variance.assign(
            rng.uniform(0.5, 2.0, size=layer.moving_variance.shape))
    paths.append(os.path.join(root, f'ticket_{index}'))
    tickets.save(paths[-1], model, {'index': index})
  return paths


class ExportTest(tf.test.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.root = tempfile.mkdtemp()
    cls.paths = _save_tickets(cls.root)
    cls.x = np.random.default_rng(0).normal(size=(16, 8, 8, 3)).astype(
        np.float32)
    # The command line's export; `result` is what it printed.
    cls.flag_values = export.define_flags(flags.FlagValues())
    cls.argv = cls.flag_values(['export', *cls.paths,
                                f'--output={cls.root}/export'])
    with mock.patch('sys.stdout', new_callable=io.StringIO) as stdout:
      export.main(cls.argv, cls.flag_values)
    cls.result = json.loads(stdout.getvalue())
    reference = ensemble.load_ensemble(cls.paths, member_probabilities=True)
    cls.mean, cls.per_member = reference.predict(cls.x, verbose=0)

  def test_compact_file_reproduces_the_ensemble_exactly(self):
    model = export.load_compact_ensemble(self.result['compact_file'])
    mean, per_member = model.predict(self.x, verbose=0)
    self.assertAllEqual(mean, self.mean)
    self.assertAllEqual(per_member, self.per_member)
    members, from_logits = export.load_members(self.result['compact_file'])
    self.assertEqual(from_logits, [True] * MEMBERS)
    for path, member in zip(self.paths, members):
      for a, b in zip(tickets.load(path).weights, member.weights):
        self.assertAllEqual(a.numpy(), b.numpy(), msg=a.name)

  def test_saved_model_serves_mean_and_member_probabilities(self):
    served = tf.saved_model.load(self.result['saved_model'])
    outputs = served.signatures['serving_default'](images=tf.constant(self.x))
    self.assertAllEqual(outputs['probabilities'].numpy(), self.mean)
    self.assertAllEqual(outputs['member_probabilities'].numpy(),
                        self.per_member)
    # Served by plain layers: no mask variables.
    variables = served.ensemble_variables
    self.assertEmpty([v.name for v in variables if 'mask' in v.name])
    self.assertLen(variables, MEMBERS * len(
        export.serving_copy(tickets.load(self.paths[0])).weights))

  def test_recorded_preprocessing_makes_the_saved_model_take_uint8(self):
    root = tempfile.mkdtemp()
    record = {'mean': [0.4, 0.5, 0.6], 'std': [0.2, 0.25, 0.3]}
    paths = []
    for index, path in enumerate(self.paths[:2]):
      info = tickets.load_info(path)
      info[export.PREPROCESSING_KEY] = record
      paths.append(os.path.join(root, f'ticket_{index}'))
      tickets.save(paths[-1], tickets.load(path), info)
    result = export.export(paths, os.path.join(root, 'out'))
    self.assertEqual(result['preprocessing'], record)
    self.assertStartsWith(result['serving_input'], 'uint8 [None, 8, 8, 3]')
    with open(os.path.join(root, 'out', 'export.json')) as f:
      self.assertEqual(json.load(f)['preprocessing'], record)
    raw = np.random.default_rng(1).integers(0, 256, (16, 8, 8, 3)).astype(
        np.uint8)
    normalised = ((raw.astype(np.float32) / 255.0 - np.float32(
        record['mean'])) / np.float32(record['std'])).astype(np.float32)
    reference = ensemble.load_ensemble(paths, member_probabilities=True)
    mean, _ = reference.predict(normalised, verbose=0)
    served = tf.saved_model.load(result['saved_model'])
    signature = served.signatures['serving_default']
    self.assertEqual(signature.structured_input_signature[1]['images'].dtype,
                     tf.uint8)
    outputs = signature(images=tf.constant(raw))
    self.assertAllClose(outputs['probabilities'].numpy(), mean, atol=1e-6)
    # Tickets that disagree on their preprocessing are refused.
    info = tickets.load_info(paths[1])
    info[export.PREPROCESSING_KEY] = {'mean': [0.0] * 3, 'std': [1.0] * 3}
    tickets.save(paths[1], tickets.load(paths[1]), info)
    with self.assertRaisesRegex(tickets.TicketError,
                                'record different input preprocessing'):
      export.export(paths, os.path.join(root, 'other'))

  def test_compact_file_holds_only_non_zero_kernel_values(self):
    with np.load(self.result['compact_file']) as arrays:
      stored = {key: arrays[key] for key in arrays.files}
    meta = json.loads(stored['meta'].tobytes().decode())
    self.assertEqual(meta['dtype'], 'float32')
    expected_bytes = 0
    for m, path in enumerate(self.paths):
      model = tickets.load(path)
      masks = {id(l.kernel): l.mask.numpy() for l in
               layers.masked_layers(model)}
      self.assertLen([v for v in meta['members'][m]['variables']
                      if v['kind'] == 'masked_kernel'], len(masks))
      for entry in meta['members'][m]['variables']:
        variable = model.weights[entry['index']]
        key = f'm{m}.v{entry["index"]}'
        if entry['kind'] == 'masked_kernel':
          mask = masks[id(variable)]
          self.assertEqual(stored[key + '.values'].size, int(mask.sum()))
          self.assertEqual(stored[key + '.bits'].size,
                           int(np.ceil(mask.size / 8)))
          expected_bytes += 4 * int(mask.sum()) + int(np.ceil(mask.size / 8))
        else:
          self.assertNotIn('mask', entry['name'])
          expected_bytes += stored[key].nbytes
    payload = sum(a.nbytes for k, a in stored.items()
                  if k != 'meta' and not k.endswith('architecture'))
    self.assertEqual(payload, expected_bytes)
    self.assertLess(self.result['compact_bytes'],
                    0.5 * self.result['ticket_bytes'])

  def test_bfloat16_export_rounds_kernel_values(self):
    path = os.path.join(self.root, 'bf16.npz')
    members = ensemble.load_members(self.paths)
    size = export.save_compact(path, members, dtype='bfloat16')
    self.assertLess(size, self.result['compact_bytes'])
    loaded, _ = export.load_members(path)
    for a, b in zip(members[0].weights, loaded[0].weights):
      expected = a.numpy()
      if 'kernel' in a.name:  # Masked kernels: rounded to bfloat16.
        expected = tf.cast(tf.cast(expected, tf.bfloat16), tf.float32).numpy()
      self.assertAllEqual(b.numpy(), expected, msg=a.name)
    mean, _ = export.load_compact_ensemble(path).predict(self.x, verbose=0)
    self.assertAllClose(mean, self.mean, atol=2e-2)
    self.assertNotAllEqual(mean, self.mean)

  def test_command_line_output(self):
    out = os.path.join(self.root, 'export')
    self.assertEqual(sorted(os.listdir(out)),
                     ['ensemble.npz', 'export.json', 'saved_model'])
    self.assertEqual(self.result['compact_bytes'],
                     os.path.getsize(os.path.join(out, 'ensemble.npz')))
    self.assertEqual(self.result['members'], MEMBERS)
    self.assertEqual(self.result['dtype'], 'float32')
    # Tickets without a recorded preprocessing: float32 inputs, said so.
    self.assertIsNone(self.result['preprocessing'])
    self.assertStartsWith(self.result['serving_input'], 'float32')
    with self.assertRaisesRegex(SystemExit, f'--output {out} is not empty'):
      export.main(self.argv, self.flag_values)

  def test_missing_or_mismatched_ticket_is_named(self):
    missing = os.path.join(self.root, 'ticket_7')
    out = os.path.join(self.root, 'never')
    with self.assertRaisesRegex(tickets.TicketError,
                                f'ticket {missing}: no such directory'):
      export.export([self.paths[0], missing], out)
    other = _save_tickets(tempfile.mkdtemp(), num_classes=(5,))[0]
    with self.assertRaisesRegex(tickets.TicketError,
                                f'ticket {other} does not fit the ensemble'):
      export.export([self.paths[0], other], out)
    self.assertFalse(os.path.exists(out))


if __name__ == '__main__':
  tf.test.main()
