"""Every file of a run goes through tf.io.gfile (gs://, ram://, any TF FS).

A static check of `baselines/` and `sparse_layers/`: a call of builtin
`open`, or a use of numpy's file functions, `os` file functions, `shutil`,
`glob.glob` or `tempfile`, fails the test unless the allow-list below names it with its
reason. Plain file calls work on local paths only, so a `--output_dir=gs://`
run would fail at that call.
"""

import ast
import pathlib
import unittest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = ('baselines', 'sparse_layers')

# Dotted call names that touch files outside tf.io.gfile.
FORBIDDEN = {
    'open', 'np.load', 'np.save', 'np.savez', 'np.savez_compressed',
    'np.loadtxt', 'np.savetxt', 'os.makedirs', 'os.mkdir', 'os.listdir',
    'os.walk', 'os.remove', 'os.unlink', 'os.rename', 'os.replace',
    'os.stat', 'os.path.exists', 'os.path.isfile', 'os.path.isdir',
    'os.path.getsize', 'glob.glob', 'glob.iglob',
}
FORBIDDEN_MODULES = ('shutil', 'tempfile')

# (file, call) -> why it may touch files directly.
ALLOWED = {
    ('baselines/runtime/files.py', 'np.savez'):
        'writes into an in-memory buffer; GFile writes the bytes',
    ('baselines/runtime/files.py', 'np.load'):
        'reads an in-memory buffer that GFile filled',
    ('sparse_layers/export.py', 'np.savez'):
        'writes into an in-memory buffer; GFile writes the bytes',
    ('sparse_layers/export.py', 'np.load'):
        'reads an in-memory buffer that GFile filled',
    ('baselines/runtime/strategies.py', 'tempfile.mkdtemp'):
        'a non-chief worker\'s local scratch directory, removed at exit',
    ('baselines/runtime/strategies.py', 'shutil.rmtree'):
        'removes that local scratch directory at exit',
    ('sparse_layers/edst_callback.py', 'tempfile.mkdtemp'):
        'a non-chief worker\'s local scratch ticket, removed after writing',
}


def _dotted(node):
  """'np.load' for the call target `np.load`, None if not a plain name."""
  parts = []
  while isinstance(node, ast.Attribute):
    parts.append(node.attr)
    node = node.value
  if not isinstance(node, ast.Name):
    return None
  return '.'.join([node.id] + parts[::-1])


def calls_in(source, filename='<source>'):
  """[(line, dotted name)] of the forbidden calls and references in source."""
  found = []
  for node in ast.walk(ast.parse(source, filename)):
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
      name = node.func.id  # Builtin open().
    elif isinstance(node, ast.Attribute):
      name = _dotted(node)  # Called or passed on (atexit.register).
    else:
      continue
    if name in FORBIDDEN or (name and '.' in name and
                             name.split('.')[0] in FORBIDDEN_MODULES):
      found.append((node.lineno, name))
  return sorted(found)


def file_calls():
  """[(relative path, line, dotted name)] of every forbidden call."""
  found = []
  for package in PACKAGES:
    for path in sorted((ROOT / package).rglob('*.py')):
      relative = path.relative_to(ROOT).as_posix()
      found += [(relative, line, name)
                for line, name in calls_in(path.read_text(), relative)]
  return found


class FileIoTest(unittest.TestCase):

  def test_runs_touch_files_only_through_gfile(self):
    offending = [f'{path}:{line}: {name}' for path, line, name in file_calls()
                 if (path, name) not in ALLOWED]
    self.assertEqual(offending, [],
                     'use tf.io.gfile (baselines/runtime/files.py) or '
                     'allow-list the call with its reason')

  def test_every_allowed_call_still_exists(self):
    used = {(path, name) for path, _, name in file_calls()}
    self.assertEqual(sorted(set(ALLOWED) - used), [])

  def test_the_check_sees_calls_and_references(self):
    source = ('with open(p) as f: pass\nos.path.exists(p)\n'
              'tf.io.gfile.exists(p)\natexit.register(shutil.rmtree)\n'
              'np.load(io.BytesIO(b))\n')
    self.assertEqual(calls_in(source), [(1, 'open'), (2, 'os.path.exists'),
                                        (4, 'shutil.rmtree'), (5, 'np.load')])


if __name__ == '__main__':
  unittest.main()
