"""Built-in architectures. Importing this package registers every family listed here.

transformer (the size reference), fcn, lstm / gru / rnn / lru (recurrent), s4d / mamba (state-space),
linear_attention, hybrid (Mamba + attention). `scan` holds the linear-recurrence scans they share.
"""
from architectures import fcn, hybrid, linear_attention, recurrent, ssm, transformer  # noqa: F401  (register on import)
