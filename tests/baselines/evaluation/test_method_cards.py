"""Tests for baselines/evaluation/method_cards.py: labels, training FLOPs."""

import tensorflow as tf

from baselines.evaluation import method_cards
from sparse_layers import flops


class MethodCardsTest(tf.test.TestCase):

  def test_training_ratios_by_hand(self):
    d, s = 100.0, 20.0
    self.assertAllClose(flops.rigl_step_flops(d, s, 4), (3 * s * 4 + 2 * s + d)
                        / 5)
    rigl = (3 * s * 1000 + 2 * s + d) / 1001 / (3 * d)
    kw = dict(dense_epochs=250, update_interval=1000)
    ratio = method_cards.train_flops_ratio
    self.assertAllClose(ratio('dense', d, s, ensemble_size=4, **kw), 4.0)
    self.assertAllClose(ratio('static', d, s, ensemble_size=3, **kw), 0.6)
    self.assertAllClose(ratio('dst_ensemble', d, s, ensemble_size=3, **kw),
                        3 * rigl)
    self.assertAllClose(ratio(
        'edst', d, s, ensemble_size=3, exploration_epochs=150,
        refinement_epochs=100, **kw), rigl * 450 / 250)
    # Table 5's EDST without parameter exploration: static sparse steps.
    self.assertAllClose(ratio(
        'edst', d, s, ensemble_size=3, exploration_epochs=150,
        refinement_epochs=100, parameter_exploration=False, **kw),
                        0.2 * 450 / 250)
    # LTR with pruning over all training: mean ratio 1 - 0.8 * 3/4 = 0.4.
    self.assertAllClose(ratio(
        'ltr', d, s, ensemble_size=3, ltr_prune_begin=0.0, ltr_prune_end=1.0,
        ltr_rewind_fraction=0.05, **kw), 0.4 + 3 * 0.2 * 0.95, atol=1e-4)
    with self.assertRaisesRegex(ValueError, 'method must be one of'):
      ratio('mimo', d, s)
    with self.assertRaisesRegex(ValueError, 'update_interval must be >= 1'):
      flops.rigl_step_flops(d, s, 0)

  def test_table_3_against_mimos_150_dense_epochs(self):
    # ResNet-50, ERK at S = 0.8: 0.4138 of the dense FLOPs (ours), RigL's
    # published 0.42; ΔT = 4000. EDST M = 2 trains 30 + 2 x 70 = 170
    # epochs, M = 4 310; the DST Ensemble M = 2, 2 x 200.
    kw = dict(dense_epochs=method_cards.DENSE_REFERENCE_EPOCHS['imagenet'],
              update_interval=4000)
    self.assertEqual(kw['dense_epochs'], 150)
    rows = (('edst', 2, {'exploration_epochs': 30, 'refinement_epochs': 70}),
            ('edst', 4, {'exploration_epochs': 30, 'refinement_epochs': 70}),
            ('dst_ensemble', 2, {'train_epochs': 200}))
    for sparse, digits, expected in ((0.4138, 3, (0.469, 0.855, 1.104)),
                                     (0.42, 2, (0.48, 0.87, 1.12))):
      ratios = [method_cards.train_flops_ratio(m, 1.0, sparse,
                                               ensemble_size=size, **kw,
                                               **epochs)
                for m, size, epochs in rows]
      self.assertEqual(tuple(round(r, digits) for r in ratios), expected)
    self.assertAllClose(method_cards.rescaled_ratio(0.78, 90, 150),
                        0.78 * 90 / 150)

  def test_labels_and_forward_passes(self):
    self.assertEqual(method_cards.label('edst', 3), 'EDST Ensemble')
    self.assertEqual(method_cards.label('dense', 1), 'Dense')
    self.assertEqual(method_cards.label('dense', 4), 'Dense Ensemble')
    self.assertEqual(method_cards.label('mimo', 3), 'mimo')
    # Table 5's labels.
    self.assertEqual(method_cards.label('edst', 3, False),
                     'EDST Ensemble (w/o Parameter Exploration)')
    self.assertEqual(method_cards.label('static', 3),
                     'Static Sparse Ensemble')
    self.assertEqual(method_cards.label('static', 3, ablation=True),
                     'DST Ensemble (w/o Parameter Exploration)')
    self.assertEqual(method_cards.label('edst', 3, ablation=True),
                     'EDST Ensemble')
    self.assertEqual(method_cards.set_by_ensemble_size('edst'),
                     ('refinement_epochs',))
    self.assertEqual(method_cards.set_by_ensemble_size('dst_ensemble'), ())
    self.assertFalse(method_cards.card('dense').sparse)
    self.assertTrue(method_cards.card('static').sparse)
    self.assertEqual([method_cards.forward_passes(m, 3)
                      for m in ('edst', 'dst_ensemble', 'ltr', 'dense')],
                     [1, 3, 4, 3])


if __name__ == '__main__':
  tf.test.main()
