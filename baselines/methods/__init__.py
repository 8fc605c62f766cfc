"""Methods: each method's wiring from flags to phases, hooks and reports.

Common flags, typed configs, tasks (CIFAR, ImageNet), the experiment, the
plans of members' phases, EDST's run and the command-line entry point.
"""
