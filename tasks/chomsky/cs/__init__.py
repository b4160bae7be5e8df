"""Context-sensitive tasks of the Chomsky suite: a linear bounded automaton (a tape) solves each."""

FAMILY = "chomsky/cs"
# What the source found on this level, in words (bench.report.publish prints it under the task's heading).
REPORTED = (
    "RNNs and transformers fail to generalize to longer inputs on the context-sensitive tasks; only "
    "networks augmented with structured memory (a stack or a memory tape) do."
)
