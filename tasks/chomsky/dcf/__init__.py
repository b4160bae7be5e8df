"""Deterministic context-free tasks of the Chomsky suite: a deterministic pushdown automaton (one stack) solves each."""

FAMILY = "chomsky/dcf"
# What the source found on this level, in words (bench.report.publish prints it under the task's heading).
REPORTED = (
    "RNNs and transformers fail to generalize to longer inputs on the deterministic context-free tasks; only "
    "networks augmented with structured memory (a stack or a memory tape) do."
)
