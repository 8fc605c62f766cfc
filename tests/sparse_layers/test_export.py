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
    self.assertEqual(sorted(os.listdir(out)), ['ensemble.npz', 'saved_model'])
    self.assertEqual(self.result['compact_bytes'],
                     os.path.getsize(os.path.join(out, 'ensemble.npz')))
    self.assertEqual(self.result['members'], MEMBERS)
    self.assertEqual(self.result['dtype'], 'float32')
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
