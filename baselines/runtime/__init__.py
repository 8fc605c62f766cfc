"""Where and how a run executes: strategy, devices, preemption, files.

Chief and barrier, what compiles, SIGTERM/SIGINT, crash points for tests,
files through tf.io.gfile, run.json, the output lock, checkpoints.
"""
