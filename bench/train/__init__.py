"""Layer 2, training: the train config, data streams, metrics and the Lightning harness. With the contract layer
and a run's own task and architecture modules, the only code a record's code version covers.
"""
