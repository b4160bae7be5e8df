"""Running parity: negative eigenvalues in input-dependent linear RNNs (Grazzi et al. 2024)."""

from bench.claims.model import Arm, Budget, Claim
from bench.claims.rules import OOD_MEAN, Exceeds, Solves

CLAIM = Claim(
    name="parity-eigenvalues",
    paper=(
        "Grazzi, Siems, Franke, Zela, Hutter, Pontil 2024, negative eigenvalues unlock state tracking in linear RNNs"
    ),
    claim=(
        "A linear RNN with input-dependent transitions whose eigenvalues lie in [-1, 1] learns running parity "
        "and generalizes it to longer inputs; with eigenvalues in [0, 1] it does not."
    ),
    paper_figure=(
        "linear RNNs with positive eigenvalues cannot solve parity; extending the range to [-1, 1] "
        "(Mamba, DeltaNet) solves it and length-generalizes"
    ),
    task="state_parity",
    # Grazzi et al. extend Mamba's transition range (2 exp(dt A) - 1); the time-invariant LRU with the same
    # range is shown beside it, judged by no rule: an eigenvalue of -1 applied at every step gives an
    # alternating sum of the inputs, not their parity, so the range alone should not be enough
    arms=(
        Arm("mamba [-1,1]", "mamba", arch_params={"negative_eigenvalues": True}),
        Arm("mamba [0,1]", "mamba", arch_params={"negative_eigenvalues": False}),
        Arm("lru [-1,1]", "lru", arch_params={"eigenvalues": "[-1,1]"}),
    ),
    rules=(Exceeds("mamba [-1,1]", "mamba [0,1]", OOD_MEAN), Solves(("mamba [-1,1]",))),
    budgets={"claims": Budget(train={"steps": 1000})},
    note=(
        "Mamba with transitions in (-1, 1) solves parity and stays close to exact far beyond the training length; "
        "with the default (0, 1) it fits the training length only partly and falls towards chance at longer "
        "lengths. The time-invariant LRU with the same [-1, 1] range fits the training length but falls towards "
        "chance beyond it: the range is necessary, and the input-dependent transition is what makes it parity."
    ),
)
