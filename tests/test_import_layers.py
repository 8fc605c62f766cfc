"""Imports go one way: binaries -> baselines -> sparse_layers.

Parses every module's imports (no import is executed): the library
`sparse_layers` imports nothing of `baselines` or `benchmarks`; the shared
`baselines/*.py` modules import no binary (`baselines.cifar`,
`baselines.imagenet`) and no benchmark; the CIFAR and ImageNet binaries
import neither each other nor share a run of six lines of code; the value
types low in the stack (`sparse_layers/phases`, `baselines/plans`) import
no TensorFlow and nothing else of the library.
"""

import ast
import pathlib
import tempfile
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


# Every binary's skeleton (absl's main, key flags), not shared logic.
_SKELETON = frozenset({
    '@experiment.cli_main', 'def main(argv):', 'del argv',
    "if __name__ == '__main__':", 'app.run(main)', 'FLAGS = flags.FLAGS',
    'flags.adopt_module_key_flags(common_flags)', '"""'})


def _runs(path, length=6):
  """Runs of `length` consecutive code lines (stripped; blank lines,
  comments, imports and the skeleton left out)."""
  lines = []
  for line in path.read_text().splitlines():
    line = line.strip()
    if (line and not line.startswith(('#', 'import ', 'from ')) and
        line not in _SKELETON):
      lines.append(line)
  return {tuple(lines[i:i + length])
          for i in range(len(lines) - length + 1)}


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
        _violations(files, ('baselines.cifar', 'baselines.imagenet',
                            'benchmarks')), [])

  def test_families_of_binaries_import_each_other_not(self):
    cifar = sorted((ROOT / 'baselines' / 'cifar').glob('*.py'))
    imagenet = sorted((ROOT / 'baselines' / 'imagenet').glob('*.py'))
    self.assertGreater(len(imagenet), 3)
    self.assertEqual(_violations(cifar, ('baselines.imagenet',)), [])
    self.assertEqual(_violations(imagenet, ('baselines.cifar',)), [])

  def test_families_of_binaries_share_no_six_line_run(self):
    shared = []
    for cifar in sorted((ROOT / 'baselines' / 'cifar').glob('*.py')):
      for imagenet in sorted((ROOT / 'baselines' / 'imagenet').glob('*.py')):
        common = _runs(cifar) & _runs(imagenet)
        shared += [f'{cifar.name} / {imagenet.name}: {run}'
                   for run in sorted(common)]
    self.assertEqual(shared, [])

  def test_runs_see_a_shared_block(self):
    code = 'x = 1\n' + ''.join(f'y{i} = g(x)\n' for i in range(6))
    with tempfile.TemporaryDirectory() as tmp:
      path = pathlib.Path(tmp) / 'a.py'
      path.write_text(code)
      self.assertEqual(len(_runs(path)), 2)

  def test_low_modules_import_no_tensorflow(self):
    files = [ROOT / 'sparse_layers' / 'phases.py',
             ROOT / 'baselines' / 'plans.py']
    self.assertEqual(
        _violations(files, ('tensorflow', 'tf_keras', 'baselines.train_loop')),
        [])
    library = {name for path in files for name in imported_modules(path)
               if name.startswith('sparse_layers.')}
    self.assertEqual(library, {'sparse_layers.phases'})

  def test_parser_sees_both_import_forms(self):
    path = ROOT / 'baselines' / 'plans.py'
    self.assertIn('sparse_layers.phases', imported_modules(path))
    self.assertIn('math', imported_modules(ROOT / 'sparse_layers' / 'phases.py'))


if __name__ == '__main__':
  unittest.main()
