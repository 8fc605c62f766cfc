"""Evaluation of models and ensembles: metrics, attacks, run results.

UB's metrics, the compiled evaluator, FGSM, a run's ensemble report
(metrics.json, TensorBoard) and each method's card (label, FLOPs).
"""
