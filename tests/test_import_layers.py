"""Imports go one way: binaries -> baselines -> sparse_layers.

Parses every module's imports (no import is executed): the library
`sparse_layers` imports nothing of `baselines` or `benchmarks`; the shared
`baselines/*.py` modules import no binary (`baselines.cifar`) and no
benchmark; the value types low in the stack (`phases`, `plans`) import no
TensorFlow.
"""

import ast
import pathlib
import unittest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def imported_modules(path):
  """Dotted names a file imports (`from a import b` gives a and a.b)."""
  tree = ast.parse(path.read_text(), str(path))
  names = set()
  for node in ast.walk(tree):
    if isinstance(node, ast.Import):
      names.update(alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom) and node.module:
      names.add(node.module)
      names.update(f'{node.module}.{alias.name}' for alias in node.names)
  return names


def _violations(files, forbidden_prefixes):
  found = []
  for path in files:
    for name in imported_modules(path):
      if any(name == p or name.startswith(p + '.')
             for p in forbidden_prefixes):
        found.append(f'{path.relative_to(ROOT)} imports {name}')
  return sorted(found)


class ImportLayersTest(unittest.TestCase):

  def test_library_imports_no_baselines(self):
    files = sorted((ROOT / 'sparse_layers').glob('*.py'))
    self.assertGreater(len(files), 5)
    self.assertEqual(_violations(files, ('baselines', 'benchmarks')), [])

  def test_shared_baselines_import_no_binary(self):
    files = sorted((ROOT / 'baselines').glob('*.py'))
    self.assertGreater(len(files), 10)
    self.assertEqual(
        _violations(files, ('baselines.cifar', 'benchmarks')), [])

  def test_low_modules_import_no_tensorflow(self):
    files = [ROOT / 'baselines' / 'phases.py', ROOT / 'baselines' / 'plans.py']
    self.assertEqual(
        _violations(files, ('tensorflow', 'tf_keras', 'sparse_layers',
                            'baselines.train_loop')), [])

  def test_parser_sees_both_import_forms(self):
    path = ROOT / 'baselines' / 'plans.py'
    self.assertIn('baselines.phases', imported_modules(path))
    self.assertIn('math', imported_modules(path))


if __name__ == '__main__':
  unittest.main()
