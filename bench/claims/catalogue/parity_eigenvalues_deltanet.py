"""Running parity: the eigenvalue range of DeltaNet's transition decides it (Grazzi et al. 2025, Table 3)."""

from bench.claims.model import Arm, Budget, Claim
from bench.claims.rules import OOD_MEAN, Exceeds, Solves

CLAIM = Claim(
    name="parity-eigenvalues-deltanet",
    paper=(
        "Grazzi, Siems, Franke, Zela, Hutter, Pontil 2025 (ICLR), Unlocking State-Tracking in "
        "Linear RNNs Through Negative Eigenvalues"
    ),
    claim=(
        "DeltaNet with beta in (0, 2), i.e. transition eigenvalues in [-1, 1], learns running parity and keeps it "
        "beyond the training length; with beta in (0, 1), eigenvalues in [0, 1], it does not."
    ),
    paper_figure=(
        "Table 3, parity column (trained on short inputs, tested only on longer ones, scaled accuracy, best of three "
        "runs): DeltaNet [-1,1] solves it, DeltaNet [0,1] stays near chance"
    ),
    task="state_parity",
    arms=(
        Arm("deltanet [-1,1]", "deltanet", arch_params={"eigenvalues": "[-1,1]"}),
        Arm("deltanet [0,1]", "deltanet", arch_params={"eigenvalues": "[0,1]"}),
    ),
    # the [0,1] model may fit the training length (a finite-length parity needs no negative eigenvalue); the
    # paper's separation is beyond it, so that is what the rules judge, beside solving in distribution
    rules=(Exceeds("deltanet [-1,1]", "deltanet [0,1]", OOD_MEAN), Solves(("deltanet [-1,1]",))),
    # 2000 steps: chosen on the validation seeds 1000 and 1001 (at 1000 steps the [-1,1] arm had not yet solved the
    # training length on both); reported seeds are the profile's, `--seeds 3,4,5` rechecks on fresh ones
    budgets={"claims": Budget(train={"steps": 2000})},
    note=(
        "With eigenvalues in [-1, 1] DeltaNet solves running parity at the training length and stays close to "
        "exact at two and five times that length; with [0, 1] it often fits the training length but falls "
        "towards chance beyond it, as in Grazzi et al.'s Table 3, whose test lengths are all beyond training."
    ),
)
