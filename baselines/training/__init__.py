"""The training engine: the compiled loop, its step and optimizer.

Learning-rate plans in steps, ticket selection, EDST's re-exploration, host
loops (steps per compiled call) and progress logs.
"""
