"""Built-in architectures. Importing this package registers every family listed here.

transformer (the size reference), fcn, lstm / gru / rnn / lru (recurrent), s4d / mamba (state-space),
linear_attention, hybrid (Mamba + attention), attention1 (one softmax attention layer, theory form).
`scan` holds the linear-recurrence scans they share.
"""
from architectures import (  # noqa: F401  (register on import)
    fcn,
    hybrid,
    linear_attention,
    recurrent,
    ssm,
    theory_attention,
    transformer,
)
