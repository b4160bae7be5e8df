"""State tracking: the running product of group elements, one registered task per group.

`state_parity` (Z_2), `state_cyclic` (Z_m), `state_s5` and `state_a5` share `base.py` (the sequence
layout, the lengths, the metric); a task module holds its group.
"""
