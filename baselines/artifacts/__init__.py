"""What a run leaves behind: its output layout, tickets, model specs.

A ticket is a trained subnetwork with its predictions and identity; a model
spec rebuilds its architecture; trajectory points feed Figure 3.
"""
