"""Sparse token selection: an FCN needs far more samples than a transformer (Wang et al. 2024; Sanford et al. 2023)."""

from bench.claims.model import Arm, Budget, Claim
from bench.claims.rules import FewerSamples

CLAIM = Claim(
    name="sts-fcn-samples",
    paper="Wang, Wei, Hsu, Lee 2024 (ICML); Sanford, Hsu, Telgarsky 2023",
    claim="A fully-connected network needs far more samples than a transformer to reach the same r2 on STS_q.",
    paper_figure=(
        "transformer learns STS_q with polynomially many samples; FCNs provably need many more (lower bound)"
    ),
    task="sparse_token_selection",
    arms=(Arm("transformer", "transformer"), Arm("fcn", "fcn")),
    rules=(FewerSamples("transformer", "fcn"),),
    # claims: in the claims profile's 1500 steps the tiny transformer stays below the task's solved_at (see
    # the leaderboard), so the claims budget lowers solved_at to a level it reaches
    budgets={"claims": Budget(task_params={"solved_at": 0.5})},
)
