"""Imports go one way, down the floors of the house.

Parses every module's imports (no import is executed). The floors, top to
bottom: the binaries (`baselines/cifar`, `baselines/imagenet`), `methods`,
then `training`, `evaluation` and `analysis`, then `runtime`, `data` and
`artifacts`, then the library `sparse_layers`. A module imports from its own
floor or lower ones, never from a higher one, and nothing imports
`benchmarks`. The CIFAR and ImageNet binaries import neither each other nor
share a run of six lines of code; the value types low in the stack
(`sparse_layers/phases`, `baselines/methods/plans`) import no TensorFlow and
nothing else of the library.
"""

import ast
import pathlib
import tempfile
import unittest

ROOT = pathlib.Path(__file__).resolve().parents[1]

# Floor of each package, highest first.
FLOORS = {
    'baselines.cifar': 4, 'baselines.imagenet': 4,
    'baselines.methods': 3,
    'baselines.training': 2, 'baselines.evaluation': 2,
    'baselines.analysis': 2,
    'baselines.runtime': 1, 'baselines.data': 1, 'baselines.artifacts': 1,
    'baselines': 1,  # The package's __init__ (the Keras choice).
    'sparse_layers': 0,
}


def floor_of(module_name):
  """The floor of a dotted module name (its longest package in FLOORS)."""
  parts = module_name.split('.')
  for end in range(len(parts), 0, -1):
    package = '.'.join(parts[:end])
    if package in FLOORS:
      return FLOORS[package]
  return None


def module_name_of(path):
  relative = path.relative_to(ROOT).with_suffix('')
  parts = relative.parts[:-1] if relative.name == '__init__' else relative.parts
  return '.'.join(parts)


def floor_violations(files, name_of=module_name_of):
  """'a imports b' for every import of a higher floor (or of benchmarks)."""
  found = []
  for path in files:
    own = floor_of(name_of(path))
    for name in imported_modules(path):
      target = floor_of(name)
      if name.split('.')[0] == 'benchmarks' or (
          target is not None and target > own):
        found.append(f'{name_of(path)} imports {name}')
  return sorted(found)


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

  def test_every_module_has_a_floor(self):
    files = sorted((ROOT / 'baselines').rglob('*.py'))
    self.assertGreater(len(files), 40)
    self.assertEqual(
        [str(path) for path in files
         if floor_of(module_name_of(path)) is None], [])

  def test_imports_go_down_the_floors(self):
    files = sorted((ROOT / 'baselines').rglob('*.py'))
    self.assertEqual(floor_violations(files), [])

  def test_floor_check_sees_an_upward_import(self):
    self.assertEqual(floor_of('baselines.runtime.upward'), 1)
    with tempfile.TemporaryDirectory() as tmp:
      path = pathlib.Path(tmp) / 'upward.py'
      path.write_text('from baselines.training import loop\n'
                      'from baselines.data import pipeline\n')
      found = floor_violations([path], lambda _: 'baselines.runtime.upward')
    self.assertEqual([line.split(' imports ')[1] for line in found],
                     ['baselines.training', 'baselines.training.loop'])

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
             ROOT / 'baselines' / 'methods' / 'plans.py']
    self.assertEqual(
        _violations(files, ('tensorflow', 'tf_keras', 'baselines.training')),
        [])
    library = {name for path in files for name in imported_modules(path)
               if name.startswith('sparse_layers.')}
    self.assertEqual(library, {'sparse_layers.phases'})

  def test_parser_sees_both_import_forms(self):
    path = ROOT / 'baselines' / 'methods' / 'plans.py'
    self.assertIn('sparse_layers.phases', imported_modules(path))
    self.assertIn('math', imported_modules(ROOT / 'sparse_layers' / 'phases.py'))


if __name__ == '__main__':
  unittest.main()
