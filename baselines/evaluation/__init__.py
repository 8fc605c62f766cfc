"""Evaluation of models and ensembles: metrics, attacks, run results.

UB's metrics (accuracy, NLL, ECE, OOD, diversity), the compiled evaluator,
FGSM, and the final ensemble report of a run (metrics.json, TensorBoard).
"""
