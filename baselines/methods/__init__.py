"""Methods: one module per method (edst, members, ltr), registered by name.

Their flags (common_flags, flag_roles), typed values (configs, tasks,
experiment), plans, and the binaries' entry point (registry, startup).
"""
