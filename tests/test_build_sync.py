"""BUILD and the tree agree: every .py file is in exactly one target.

BUILD is parsed (Starlark is a subset of Python syntax), not grepped. Works
under pytest and under `bazel test` (the BUILD data file resolves to the
source tree).
"""

import ast
import collections
import pathlib
import tempfile
import unittest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = ('sparse_layers', 'baselines', 'benchmarks', 'tests')
PY_RULES = ('py_library', 'py_binary', 'py_test')


def _string_list(node):
  if not isinstance(node, ast.List):
    raise AssertionError(f'expected a literal list, got {ast.dump(node)}')
  return [element.value for element in node.elts]


def parse_build(path):
  """(rule, name, srcs, main) for every py_* call in a BUILD file."""
  targets = []
  for statement in ast.parse(path.read_text()).body:
    call = getattr(statement, 'value', None)
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and
            call.func.id in PY_RULES):
      continue
    kwargs = {k.arg: k.value for k in call.keywords}
    srcs = _string_list(kwargs['srcs']) if 'srcs' in kwargs else []
    main = kwargs['main'].value if 'main' in kwargs else None
    targets.append((call.func.id, kwargs['name'].value, srcs, main))
  return targets


def tree_python_files():
  found = set()
  for package in PACKAGES:
    for path in (ROOT / package).rglob('*.py'):
      if '__pycache__' not in path.parts:
        found.add(path.relative_to(ROOT).as_posix())
  return found


class BuildSyncTest(unittest.TestCase):

  def setUp(self):
    super().setUp()
    self.targets = parse_build(ROOT / 'BUILD')

  def test_every_python_file_named_exactly_once(self):
    counts = collections.Counter(
        src for _, _, srcs, _ in self.targets for src in srcs)
    repeated = sorted(src for src, n in counts.items() if n > 1)
    self.assertEqual(repeated, [], 'named in more than one target')
    tree = tree_python_files()
    self.assertEqual(sorted(tree - set(counts)), [], 'missing from BUILD')
    self.assertEqual(sorted(set(counts) - tree), [], 'in BUILD, not in tree')

  def test_tests_and_binaries_are_the_right_rules(self):
    test_files = {f for f in tree_python_files()
                  if pathlib.PurePath(f).name.startswith('test_')}
    py_test_srcs = {src for rule, _, srcs, _ in self.targets
                    if rule == 'py_test' for src in srcs}
    self.assertEqual(py_test_srcs, test_files)
    names = [name for _, name, _, _ in self.targets]
    self.assertEqual(len(names), len(set(names)), 'duplicate target names')
    for rule, name, srcs, main in self.targets:
      if rule == 'py_binary':
        self.assertIn(main, srcs, f'{name}: main must be one of its srcs')

  def test_parser_reads_a_known_snippet(self):
    with tempfile.TemporaryDirectory() as tmp:
      path = pathlib.Path(tmp) / 'BUILD'
      path.write_text(
          'load("@rules_python//python:defs.bzl", "py_binary")\n'
          'package(default_visibility = ["//visibility:public"])\n'
          'py_binary(name = "b", srcs = ["x/b.py", "x/c.py"], main = "x/b.py")\n'
          'py_test(name = "t", srcs = ["tests/test_t.py"], deps = [":b"])\n'
          'sh_binary(name = "s", srcs = ["s.sh"])\n')
      self.assertEqual(parse_build(path), [
          ('py_binary', 'b', ['x/b.py', 'x/c.py'], 'x/b.py'),
          ('py_test', 't', ['tests/test_t.py'], None)])

if __name__ == '__main__':
  unittest.main()
