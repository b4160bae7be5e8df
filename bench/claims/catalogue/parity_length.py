"""Running parity: recurrent models length-generalize, a transformer does not (Merrill et al. 2024)."""

from bench.claims.model import Arm, Budget, Claim
from bench.claims.rules import OOD_MEAN, Exceeds

CLAIM = Claim(
    name="parity-length",
    paper="Merrill, Petty, Sabharwal 2024 (ICML), the illusion of state in state-space models",
    claim="LSTM and GRU generalize running parity to longer inputs; a transformer does not.",
    paper_figure="RNN/LSTM track parity at every length; transformers and diagonal SSMs fail to length-generalize",
    task="state_parity",
    arms=(Arm("lstm", "lstm"), Arm("gru", "gru"), Arm("transformer", "transformer")),
    rules=(Exceeds("lstm", "transformer", OOD_MEAN), Exceeds("gru", "transformer", OOD_MEAN)),
    budgets={"claims": Budget(train={"steps": 1000})},
)
