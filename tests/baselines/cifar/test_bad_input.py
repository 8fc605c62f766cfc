"""Bad flags and data: a clear message and a non-zero exit before training."""

import concurrent.futures
import os
import tempfile

from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tests.baselines.cifar import binary_testing as bt

_DIR = tempfile.mkdtemp()
_RNG = np.random.default_rng(0)
np.savez(os.path.join(_DIR, 'float.npz'),
         x=_RNG.random((8, 32, 32, 3)).astype(np.float32), y=np.zeros(8, int))
np.savez(os.path.join(_DIR, 'shape.npz'),
         x=np.zeros((8, 28, 28, 3), np.uint8), y=np.zeros(8, int))
np.savez(os.path.join(_DIR, 'ok.npz'),
         x=np.zeros((8, 32, 32, 3), np.uint8), y=np.zeros(8, int))
EMPTY = tempfile.mkdtemp()

# (binary, extra flags, text the message must hold, use mock data).
CASES = {
    'unknown_dataset': ('edst', ['--dataset=mnist'], "--dataset", True),
    'sparsity_too_high': ('edst', ['--sparsity=1.2'],
                          '--sparsity must be in [0, 1)', True),
    'sparsity_negative': ('dst_ensemble', ['--sparsity=-0.1'],
                          '--sparsity must be in [0, 1)', True),
    'ensemble_size_zero': ('edst', ['--ensemble_size=0'],
                           '--ensemble_size (M) must be >= 1', True),
    'epochs_mismatch': ('edst', ['--exploration_epochs=2',
                                 '--refinement_epochs=3', '--ensemble_size=2',
                                 '--train_epochs=10'],
                        '--train_epochs=10 must equal --exploration_epochs + '
                        '--ensemble_size * --refinement_epochs = 2 + 2 * 3 = '
                        '8', True),
    'npz_dtype': ('deterministic', [f'--train_npz={_DIR}/float.npz',
                                    f'--test_npz={_DIR}/ok.npz'],
                  'float.npz: x must be uint8', False),
    'npz_shape': ('deterministic', [f'--train_npz={_DIR}/ok.npz',
                                    f'--test_npz={_DIR}/shape.npz'],
                  'shape.npz: x must be uint8 [N, 32, 32, 3], got uint8 '
                  '[8, 28, 28, 3]', False),
    'missing_data_dir': ('dst_ensemble', [f'--data_dir={EMPTY}'],
                         '--download_data', False),
}


def _run_case(name):
  binary, extra, _, mock = CASES[name]
  out = os.path.join(_DIR, name)
  return name, out, bt.run(f'baselines.cifar.{binary}',
                           bt.TINY_FLAGS + extra + [f'--output_dir={out}'],
                           num_examples=16, mock=mock)


class BadInputTest(tf.test.TestCase, parameterized.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
      cls.results = {name: (out, result) for name, out, result in
                     pool.map(_run_case, CASES)}

  @parameterized.named_parameters((name, name) for name in CASES)
  def test_clear_error_before_training(self, name):
    out, result = self.results[name]
    message = CASES[name][2]
    self.assertNotEqual(result.returncode, 0, result.stderr[-2000:])
    self.assertIn(message, result.stderr)
    self.assertNotIn('Traceback', result.stderr)
    self.assertFalse(os.path.exists(os.path.join(out, 'run')))
    self.assertFalse(os.path.exists(os.path.join(out, 'member_0')))
    self.assertNotRegex(result.stderr, r'\] epoch \d+/')


if __name__ == '__main__':
  tf.test.main()
