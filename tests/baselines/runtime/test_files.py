"""Tests for baselines/runtime/files.py: a damaged file is named once."""

import hashlib
import json
import os
import tempfile

import numpy as np
import tensorflow as tf

from baselines.runtime import files


class ReadTest(tf.test.TestCase):

  def setUp(self):
    super().setUp()
    self.dir = tempfile.mkdtemp()

  def _write(self, name, payload):
    path = os.path.join(self.dir, name)
    with open(path, 'wb') as f:
      f.write(payload)
    return path

  def test_fingerprint_is_size_and_sha256_of_the_bytes(self):
    payload = os.urandom(5_000_000)  # More than one streamed chunk.
    path = self._write('blob', payload)
    read, fingerprint = files.read_bytes(path)
    self.assertEqual(read, payload)
    self.assertEqual(fingerprint, {
        'size': 5_000_000, 'sha256': hashlib.sha256(payload).hexdigest()})

  def test_damaged_json_names_the_file_and_the_hint(self):
    cases = {'empty': (b'', 'is empty (0 bytes), not JSON'),
             'truncated': (b'{"a": [1, 2', 'not valid JSON'),
             'list': (b'[1, 2]', 'holds a JSON list, not an object'),
             'binary': (b'\xff\xfe\x00', 'not valid JSON')}
    for name, (payload, problem) in cases.items():
      path = self._write(name + '.json', payload)
      with self.assertRaises(files.FileError) as raised:
        files.read_json(path, 'Do this.')
      self.assertEqual(str(raised.exception).split(': ', 1)[0], path)
      self.assertIn(problem, str(raised.exception))
      self.assertTrue(str(raised.exception).endswith(' Do this.'))
    with self.assertRaisesRegex(files.FileError, 'missing.json: not found'):
      files.read_json(os.path.join(self.dir, 'missing.json'))
    self.assertEqual(files.read_json(self._write('ok.json', b'{"a": 1}')),
                     {'a': 1})

  def test_damaged_npz_names_the_file(self):
    good = os.path.join(self.dir, 'good.npz')
    np.savez(good, x=np.arange(1000))
    with open(good, 'rb') as f:
      payload = f.read()
    npy = os.path.join(self.dir, 'array.npy')
    np.save(npy, np.arange(3))
    cases = {self._write('empty.npz', b''): 'is empty (0 bytes)',
             self._write('half.npz', payload[:len(payload) // 2]):
                 'not a readable npz file',
             self._write('text.npz', b'hello'): 'not a readable npz file',
             npy: 'a single array, not an npz archive'}
    for path, problem in cases.items():
      with self.assertRaises(files.FileError) as raised:
        files.read_npz(path)
      self.assertStartsWith(str(raised.exception), f'{path}: ')
      self.assertIn(problem, str(raised.exception))
    arrays, fingerprint = files.read_npz(good, with_fingerprint=True)
    self.assertAllEqual(arrays['x'], np.arange(1000))
    self.assertEqual(fingerprint['sha256'],
                     hashlib.sha256(payload).hexdigest())

  def test_json_round_trip(self):
    path = os.path.join(self.dir, 'a.json')
    files.write_json_atomic(path, {'b': [1, 2]})
    self.assertEqual(json.load(open(path)), {'b': [1, 2]})
    self.assertFalse(os.path.exists(path + '.tmp'))


if __name__ == '__main__':
  tf.test.main()
