"""Tests for sparse_layers/tickets.py: save, load and the errors."""

import json
import os
import tempfile

import tensorflow as tf

from sparse_layers import layers
from sparse_layers import sparse_init
from sparse_layers import tickets
from sparse_layers.keras_alias import keras
from tests import testing


def _ticket_model(seed=0, num_classes=4):
  keras.utils.set_random_seed(seed)
  model = testing.tiny_wrn(num_classes=num_classes)
  sparse_init.sparsify(model, 0.8, seed=seed)
  return model


class TicketsTest(tf.test.TestCase):

  def test_round_trip_restores_every_weight_and_mask(self):
    model = _ticket_model()
    path = os.path.join(tempfile.mkdtemp(), 'ticket_0')
    tickets.save(path, model, {'index': 0})
    self.assertEqual(sorted(os.listdir(path)),
                     ['architecture.json', 'model.data-00000-of-00001',
                      'model.index', 'ticket.json'])
    self.assertEqual(tickets.load_info(path), {'index': 0})
    loaded = tickets.load(path, name='member')
    self.assertEqual(loaded.name, 'member')
    self.assertLen(loaded.weights, len(model.weights))
    for a, b in zip(model.weights, loaded.weights):
      self.assertAllEqual(a.numpy(), b.numpy())
    self.assertLen(layers.masked_layers(loaded), 10)

  def test_a_compiled_model_is_saved_without_its_optimizer(self):
    model = _ticket_model()
    model.compile(keras.optimizers.SGD(0.1, momentum=0.9), 'mse')
    model.optimizer.build(model.trainable_variables)
    path = os.path.join(tempfile.mkdtemp(), 'ticket_0')
    tickets.save(path, model)
    keys = [k for k, _ in tf.train.list_variables(os.path.join(path, 'model'))]
    self.assertEmpty([k for k in keys if 'optimizer' in k])
    for a, b in zip(model.weights, tickets.load(path).weights):
      self.assertAllEqual(a.numpy(), b.numpy())

  def test_errors_name_the_ticket(self):
    root = tempfile.mkdtemp()
    missing = os.path.join(root, 'ticket_9')
    with self.assertRaisesRegex(tickets.TicketError,
                                f'ticket {missing}: no such directory'):
      tickets.load(missing)
    path = os.path.join(root, 'ticket_0')
    tickets.save(path, _ticket_model())
    os.remove(os.path.join(path, 'architecture.json'))
    with self.assertRaisesRegex(tickets.TicketError,
                                f'ticket {path} has no architecture.json'):
      tickets.load(path)
    # A checkpoint of another network under this architecture.
    tickets.save(path, _ticket_model())
    other = os.path.join(root, 'other')
    tickets.save(other, keras.Sequential([keras.Input((3,)),
                                          layers.MaskedDense(2)]))
    with open(os.path.join(other, 'architecture.json')) as f:
      architecture = json.load(f)
    with open(os.path.join(path, 'architecture.json'), 'w') as f:
      json.dump(architecture, f)
    with self.assertRaisesRegex(tickets.TicketError,
                                f'ticket {path}: its checkpoint does not match'):
      tickets.load(path)
    a, b = _ticket_model(), _ticket_model(num_classes=5)
    with self.assertRaisesRegex(
        tickets.TicketError, r'ticket t1 does not fit the ensemble: its '
        r'output_shape \(None, 5\) differs from \(None, 4\) of ticket t0'):
      tickets.check_same_signature(['t0', 't1'], [a, b])


if __name__ == '__main__':
  tf.test.main()
