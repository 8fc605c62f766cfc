"""Tests for sparse_layers/keras_alias.py: one Keras, tf-keras, everywhere."""

import ast
import os
import pathlib

import tensorflow as tf

from sparse_layers.keras_alias import keras

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _keras_uses(path):
  """(line, what) for each Keras import or `tf.keras` use in a file."""
  uses = []
  for node in ast.walk(ast.parse(path.read_text())):
    if isinstance(node, ast.Import):
      uses += [(node.lineno, a.name) for a in node.names
               if a.name.split('.')[0] in ('keras', 'tf_keras')]
    elif isinstance(node, ast.ImportFrom) and node.module:
      if node.module.split('.')[0] in ('keras', 'tf_keras'):
        uses.append((node.lineno, node.module))
    elif (isinstance(node, ast.Attribute) and node.attr == 'keras' and
          isinstance(node.value, ast.Name) and node.value.id == 'tf'):
      uses.append((node.lineno, 'tf.keras'))
  return uses


class KerasAliasTest(tf.test.TestCase):

  def test_alias_is_tf_keras_and_legacy_switch_is_on(self):
    self.assertEqual(keras.__name__, 'tf_keras')
    self.assertTrue(keras.__version__.startswith('2.'))
    self.assertEqual(os.environ['TF_USE_LEGACY_KERAS'], '1')
    self.assertIs(tf.keras.layers.Dense, keras.layers.Dense)

  def test_no_module_imports_keras_except_the_alias(self):
    offenders = {}
    for package in ('sparse_layers', 'baselines', 'benchmarks', 'tests'):
      for path in (ROOT / package).rglob('*.py'):
        relative = path.relative_to(ROOT).as_posix()
        # The alias itself, and this test's deliberate tf.keras check.
        if relative in ('sparse_layers/keras_alias.py',
                        'tests/sparse_layers/test_keras_alias.py'):
          continue
        if _keras_uses(path):
          offenders[relative] = _keras_uses(path)
    self.assertEqual(offenders, {})

  def test_detector_finds_each_kind_of_use(self):
    sample = pathlib.Path(self.get_temp_dir()) / 'sample.py'
    sample.write_text('import keras\nfrom tf_keras import layers\n'
                      'import tensorflow as tf\nx = tf.keras.Model\n')
    self.assertEqual(_keras_uses(sample), [(1, 'keras'), (2, 'tf_keras'),
                                           (4, 'tf.keras')])


if __name__ == '__main__':
  tf.test.main()
