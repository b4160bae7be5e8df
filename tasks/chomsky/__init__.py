"""Tasks of "Neural Networks and the Chomsky Hierarchy" (Delétang et al. 2023, ICLR), one registered task each.

Laid out like the suite itself, one module per task under the level of the Chomsky hierarchy it belongs to:
`regular/`, `dcf/` (deterministic context-free) and `cs/` (context-sensitive). What every task shares (the
length protocol, the output encoding, teacher-forced or blank outputs, the chance level of a single-answer
task) is `base.py`; a task module holds only its alphabet, its generator and its own chance level.
"""
