"""Layer 1, the contract: errors, the TaskSpec/Batch types, the Task base, the model protocol, the registries
and parameter validation. Imports nothing else of archbench and no plugin package by name.
"""
