"""Regular tasks of the Chomsky suite: a finite automaton solves each."""

FAMILY = "chomsky/regular"
# What the source found on this level, in words (bench.report.publish prints it under the task's heading).
REPORTED = (
    "RNNs and LSTMs generalize to longer inputs on the regular tasks; transformers fail to length-generalize "
    "even on some regular ones."
)
