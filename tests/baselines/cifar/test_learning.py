"""Every method learns: on a learnable synthetic set (npz route), each
binary's ensemble ends far above chance (0.1). EDST and DST are checked on
the same data by test_analysis_tools.py, whose runs they share."""

import os
import tempfile

import tensorflow as tf

from tests.baselines import binary_testing as bt

TINY = ['--depth=10', '--width_multiplier=1', '--per_core_batch_size=32',
        '--checkpoint_interval=-1']
METHODS = {
    'static_sparse': TINY + ['--ensemble_size=2', '--train_epochs=3'],
    'ltr_ensemble': TINY + ['--ensemble_size=2', '--train_epochs=4',
                            '--pruning_frequency=2'],
    'deterministic': TINY + ['--ensemble_size=2', '--train_epochs=3'],
}


class LearningTest(tf.test.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.dir = tempfile.mkdtemp()
    cls.train, cls.test = bt.write_learnable_npz(cls.dir, 320, 200)

  def _ensemble_accuracy(self, method):
    out = os.path.join(self.dir, method)
    bt.check(bt.run(f'baselines.cifar.{method}', METHODS[method] + [
        f'--train_npz={self.train}', f'--test_npz={self.test}',
        f'--output_dir={out}'], mock=False))
    metrics = bt.load_json(os.path.join(out, 'metrics.json'))
    self.assertLen(metrics['tickets'], 2)
    return metrics['metrics']['test/accuracy']

  def test_static_sparse(self):
    self.assertGreater(self._ensemble_accuracy('static_sparse'), 0.5)

  def test_ltr_ensemble(self):
    self.assertGreater(self._ensemble_accuracy('ltr_ensemble'), 0.5)

  def test_dense_ensemble(self):
    self.assertGreater(self._ensemble_accuracy('deterministic'), 0.5)


if __name__ == '__main__':
  tf.test.main()
