"""The training engine: the loop (`loop.Run`) and its parts.

Trainer (compiled steps), checkpointer, epoch evaluation and callbacks;
step, losses, optimizers, host loops, ticket selection, re-exploration.
"""
