"""What a run leaves behind for later use: tickets and model specs.

A ticket is a trained subnetwork with its predictions and identity; a model
spec rebuilds its architecture.
"""
