"""Tools over finished runs: results tables, sweeps, plots, studies.

The report (tables as the paper's), sweeps over one flag, diversity,
trajectories and adversarial robustness of saved tickets.
"""
