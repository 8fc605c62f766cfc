"""Tests for baselines/artifacts/ticket_store.py: atomic writes, reads."""

import os

import numpy as np
import tensorflow as tf

from baselines.artifacts import ticket_store
from sparse_layers import models
from sparse_layers import sparse_init
from sparse_layers import tickets as ticket_files
from sparse_layers.keras_alias import keras


def _model(seed, masked=True):
  keras.utils.set_random_seed(seed)
  model = models.wide_resnet((32, 32, 3), 10, 1, 10, masked=masked)
  if masked:
    sparse_init.sparsify(model, 0.8, seed=seed)
  return model


class TicketsTest(tf.test.TestCase):

  def test_save_then_load_round_trip(self):
    out = self.get_temp_dir()
    path = ticket_store.ticket_dir(out, 1)
    self.assertEqual(path, os.path.join(out, 'tickets', 'ticket_1'))
    self.assertFalse(ticket_store.is_complete(path))
    model = _model(1)
    probs = np.full((4, 10), 0.1, np.float32)
    labels = np.array([0, 1, 2, 3])
    ticket_store.save(path, model, probs, labels, {'index': 1, 'sparsity': 0.8})
    self.assertTrue(ticket_store.is_complete(path))
    self.assertEqual(sorted(os.listdir(path)), [
        'architecture.json', 'model.data-00000-of-00001', 'model.index',
        'predictions.npz', 'ticket.json'])  # No temporary left.
    self.assertEqual(ticket_store.load_info(path),
                     {'index': 1, 'sparsity': 0.8})
    got_probs, got_labels = ticket_store.load_predictions(path)
    self.assertAllEqual(got_probs, probs)
    self.assertAllEqual(got_labels, labels)
    restored = _model(2)
    ticket_store.restore_model(path, restored)
    # The library reads it too (export, load_ensemble).
    rebuilt = ticket_files.load(path)
    for a, b in zip(model.weights, rebuilt.weights):
      self.assertAllEqual(a.numpy(), b.numpy())
    for a, b in zip(model.weights, restored.weights):
      self.assertAllEqual(a, b)

  def test_interrupted_write_leaves_no_ticket(self):
    out = self.get_temp_dir()
    path = ticket_store.ticket_dir(out, 0)
    model = _model(1)

    def fail():
      raise RuntimeError('preempted')

    # Killed after the checkpoint, before ticket.json: incomplete.
    with self.assertRaisesRegex(RuntimeError, 'preempted'):
      ticket_files.write_dir(path, lambda d: ticket_files.write_model(
          d, model), lambda d: ticket_files.write_info(d, {}), fail)
    self.assertTrue(os.path.exists(os.path.join(path, 'model.index')))
    self.assertFalse(ticket_store.is_complete(path))
    self.assertEqual(ticket_store.run_tickets(out), [])
    with self.assertRaisesRegex(ticket_files.TicketError, 'incomplete'):
      ticket_files.load(path)
    # The next write replaces it whole.
    ticket_store.save(path, model, np.zeros((1, 10), np.float32), np.zeros(1),
                 {'index': 0})
    self.assertEqual(ticket_store.run_tickets(out), [path])

  def test_restore_errors_name_the_path(self):
    out = self.get_temp_dir()
    with self.assertRaisesRegex(ValueError, f'no checkpoint found at {out}'):
      ticket_store.restore_model(out, _model(0))
    dense = os.path.join(out, 'dense')
    ticket_store.save_model(dense, _model(0, masked=False))
    # A masked model's masks are not in a dense checkpoint.
    with self.assertRaisesRegex(ValueError, 'does not match the model'):
      ticket_store.restore_model(dense, _model(0))


if __name__ == '__main__':
  tf.test.main()
