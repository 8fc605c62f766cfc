"""Where and how a run executes: devices, preemption, files and identity.

Strategies' devices, SIGTERM/SIGINT handling, fault points for tests, atomic
files through tf.io.gfile, run.json, the output-directory lock, checkpoints.
"""
