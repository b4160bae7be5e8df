"""Selective copying: the selective SSM solves it, a time-invariant S4D does not (Gu & Dao 2023)."""

from bench.claims.model import Arm, Budget, Claim
from bench.claims.rules import IN_DISTRIBUTION, Exceeds

CLAIM = Claim(
    name="selective-copy",
    paper="Gu & Dao 2023, Mamba: linear-time sequence modeling with selective state spaces",
    claim="Mamba solves selective copying; a time-invariant S4D does not.",
    paper_figure=(
        "S4 and other time-invariant models stay far from solving selective copying; the selective SSM "
        "(S6/Mamba) solves it"
    ),
    task="selective_copy",
    # two layers each, as in the paper (same tiny parameter budget)
    arms=(Arm("mamba", "mamba", arch_params={"layers": 2}), Arm("s4d", "s4d", arch_params={"layers": 2})),
    rules=(Exceeds("mamba", "s4d", IN_DISTRIBUTION),),
    # claims: at 2000 steps Mamba had solved it in some seeds and was still climbing in the others while
    # every S4D seed sat at the same low level, an interval too wide to judge; 5000 steps separate them
    # (the longest claims budget)
    budgets={"claims": Budget(train={"steps": 5000})},
)
