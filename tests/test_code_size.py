"""Units a reader can hold in their head: no module over 400 lines, no class
over 200, no function over 60 (docstrings included), in the library, the
baselines and the benchmarks. Parses the files; runs nothing.
"""

import ast
import pathlib
import tempfile
import unittest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = ('sparse_layers', 'baselines', 'benchmarks')
LIMITS = {'module': 400, 'class': 200, 'function': 60}


def oversized(path):
  """'path: kind name has N lines' for each unit of `path` over its limit."""
  text = path.read_text()
  found = []
  lines = len(text.splitlines())
  if lines > LIMITS['module']:
    found.append(f'{path.name}: module has {lines} lines')
  for node in ast.walk(ast.parse(text, str(path))):
    if isinstance(node, ast.ClassDef):
      kind = 'class'
    elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
      kind = 'function'
    else:
      continue
    length = node.end_lineno - node.lineno + 1
    if length > LIMITS[kind]:
      found.append(f'{path.name}: {kind} {node.name} has {length} lines')
  return found


class CodeSizeTest(unittest.TestCase):

  def test_no_unit_over_its_limit(self):
    files = [path for package in PACKAGES
             for path in sorted((ROOT / package).rglob('*.py'))]
    self.assertGreater(len(files), 60)
    self.assertEqual([line for path in files for line in oversized(path)],
                     [])

  def test_an_oversized_function_is_seen(self):
    with tempfile.TemporaryDirectory() as tmp:
      path = pathlib.Path(tmp) / 'long.py'
      path.write_text('def f():\n' + '  x = 1\n' * 60)
      self.assertEqual(oversized(path), ['long.py: function f has 61 lines'])


if __name__ == '__main__':
  unittest.main()
