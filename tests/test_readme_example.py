"""Runs the README's `model.fit` EDST example (scikit-learn's digits)."""

import os
import pathlib
import re

import numpy as np
import tensorflow as tf

from sparse_layers import layers
from sparse_layers import sparse_init
from sparse_layers import tickets

README = pathlib.Path(__file__).resolve().parents[1] / 'README.md'


def readme_example():
  """The Python block between the digits-example markers of the README."""
  text = README.read_text()
  match = re.search(r'<!-- digits-example:begin -->\n```python\n(.*?)```\n'
                    r'<!-- digits-example:end -->', text, re.S)
  if match is None:
    raise AssertionError('README.md has no digits-example block.')
  return match.group(1)


class ReadmeExampleTest(tf.test.TestCase):

  def test_digits_example_trains_three_tickets_at_the_target_sparsity(self):
    namespace = {'__name__': 'readme_example'}
    exec(compile(readme_example(), str(README), 'exec'), namespace)  # pylint: disable=exec-used
    edst, model = namespace['edst'], namespace['model']
    self.assertGreater(namespace['accuracy'], 0.5)  # Chance: 0.1.
    paths = edst.ticket_paths()
    self.assertEqual([os.path.basename(p) for p in paths],
                     ['ticket_0', 'ticket_1', 'ticket_2'])
    shapes = {l.name: tuple(l.kernel.shape)
              for l in layers.masked_layers(model)}
    expected = [entry.nonzeros
                for entry in sparse_init.sparsity_plan(shapes, 0.8, 'erk')]
    total = sum(np.prod(shape) for shape in shapes.values())
    self.assertAlmostEqual(sum(expected) / total, 0.2, delta=1 / total)
    masks = []
    for path in paths:
      ticket = tickets.load(path)
      ticket_layers = layers.masked_layers(ticket)
      self.assertEqual([int(l.mask.numpy().sum()) for l in ticket_layers],
                       expected)
      for layer in ticket_layers:
        kernel, mask = layer.kernel.numpy(), layer.mask.numpy()
        self.assertEqual(np.count_nonzero(kernel[mask == 0]), 0)
      masks.append(np.concatenate([l.mask.numpy().ravel()
                                   for l in ticket_layers]))
    # Re-exploration between refinements: the tickets differ.
    self.assertNotAllEqual(masks[0], masks[1])
    self.assertNotAllEqual(masks[1], masks[2])
    # The ensemble is the mean of the tickets' probabilities.
    x_test = namespace['x_test']
    probs = namespace['ensemble'].predict(x_test, verbose=0)
    self.assertAllClose(probs.sum(-1), np.ones(len(x_test)), atol=1e-5)


if __name__ == '__main__':
  tf.test.main()
