"""Sparse token selection: stochastic position codes let a transformer length-generalize (Wang et al. 2024)."""

from bench.claims.model import Arm, Claim
from bench.claims.rules import Exceeds, at_length

CLAIM = Claim(
    name="sts-length",
    paper="Wang, Wei, Hsu, Lee 2024 (ICML), transformers provably learn sparse token selection",
    claim=(
        "A transformer with stochastic position codes keeps its r2 on STS_q at 4x the training length; with "
        "fixed codes it fails beyond the training length."
    ),
    paper_figure=(
        "stochastic-code transformer keeps its accuracy on longer sequences; fixed codes fail beyond "
        "the training length"
    ),
    task="sparse_token_selection",
    arms=(
        Arm("stochastic codes", "transformer", task_params={"codes": "stochastic"}),
        Arm("fixed codes", "transformer", task_params={"codes": "fixed"}),
    ),
    # the task's own sizes and the claims profile's 1500 steps: training length 16, scored at 32, 64 (4x),
    # 128 (the screen's runs of this configuration, from before `quick` was resized, are reused)
    rules=(Exceeds("stochastic codes", "fixed codes", at_length(64)),),
)
