"""Induction heads: Mamba extrapolates far beyond the training length, attention does not (Gu & Dao 2023)."""

from bench.claims.model import Arm, Budget, Claim
from bench.claims.rules import Exceeds, at_length

CLAIM = Claim(
    name="induction-length",
    paper="Gu & Dao 2023, Mamba: linear-time sequence modeling with selective state spaces",
    claim="Mamba trained on induction heads extrapolates far beyond the training length; attention does not.",
    paper_figure=(
        "Mamba trained at length 256 keeps perfect accuracy up to about 1M tokens; attention models "
        "fail beyond about 2x the training length"
    ),
    task="induction_heads",
    arms=(
        Arm("mamba", "mamba", arch_params={"layers": 2}),
        Arm("transformer", "transformer", arch_params={"layers": 2}),
    ),
    rules=(Exceeds("mamba", "transformer", at_length(512)),),
    # claims: training length 64, the claims profile scores 128, 256, 512 (8x); paper scores 512 and up
    budgets={"claims": Budget(train={"steps": 2000})},
)
