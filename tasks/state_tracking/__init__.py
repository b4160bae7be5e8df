"""State tracking: the running product of group elements, one registered task per group.

`state_parity` (Z_2), `state_cyclic` (Z_m), `state_s5` and `state_a5` share `base.py` (the sequence
layout, the lengths, the metric); a task module holds its group. `state_modular_arithmetic` and
`state_modular_arithmetic_brackets` are the Chomsky modular arithmetic tasks (one answer after the whole
expression) at the lengths of Grazzi et al. 2025, Table 3: thin subclasses of the Chomsky classes, not of
`base.py`.
"""
