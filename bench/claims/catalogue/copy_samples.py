"""Copying: transformers learn it from far fewer samples than LSTM and Mamba (Jelassi et al. 2024)."""

from bench.claims.catalogue._copy import CLAIMS_BUDGET, RECURRENT_ARMS
from bench.claims.model import Arm, Claim
from bench.claims.rules import FewerSamples

CLAIM = Claim(
    name="copy-samples",
    paper="Jelassi, Brandfonbrener, Kakade, Malach 2024 (ICML), repeat after me",
    claim="Transformers learn to copy strings from far fewer samples than LSTM and Mamba of the same size.",
    paper_figure=(
        "transformers reach near-perfect copying after orders of magnitude fewer training examples than "
        "Mamba/LSTM of similar size"
    ),
    task="copy",
    arms=(Arm("transformer", "transformer", arch_params={"layers": 2, "pos": "rope"}), *RECURRENT_ARMS),
    rules=(FewerSamples("transformer", "lstm"), FewerSamples("transformer", "mamba")),
    budgets={"claims": CLAIMS_BUDGET},
)
