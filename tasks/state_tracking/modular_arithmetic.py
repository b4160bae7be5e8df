"""state_modular_arithmetic: bracket-free modular arithmetic under the xLSTM length protocol (Grazzi et al. 2025).

Grazzi, Siems, Zela, Franke, Hutter, Pontil 2025 (ICLR), "Unlocking State-Tracking in Linear RNNs Through
Negative Eigenvalues", Table 3, column "modular arithmetic without brackets": the Chomsky task of Delétang et
al. 2023 run as the xLSTM paper (Beck et al. 2024) runs it, trained on lengths 3 to 40 and tested on lengths
40 to 256, scored by scaled accuracy (acc - chance) / (1 - chance), best of 3 runs.

The task is `modular_arithmetic` (its generator, encoding, metric and exact chance), with that protocol's
lengths: training inputs of 3..length (odd: 3, 5, .., 39 at length 40), one evaluation size 256 (inputs 41,
43, .., 255). What the authors' released configurations say (their repository's `mod_arithmetic_*.yaml`:
`min_sequence_length: 3`, `max_sequence_length: 40`, test `40..256`, context 256) is confirmed; there the
length counts the whole sequence, the expression plus "=" and the answer token, so their expressions run
over the odd lengths 1..37 in training and 37..253 in test, two tokens shorter than here, and the test
range starts at the last training length. Here the lengths count the expression, as every Chomsky task's
do. Their evaluation scales with chance 1/5 (the uniform guess); `chance` here is the best constant class
(a little above 1/5, multiplication makes 0 likelier), so a scaled figure compared with Table 3 must use 1/5.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from bench.contract.registry import register_task
from tasks.chomsky.regular.modular_arithmetic import ModularArithmetic
from tasks.state_tracking.base import FAMILY

GRAZZI = (
    "Grazzi, Siems, Zela, Franke, Hutter, Pontil 2025 (ICLR), Unlocking State-Tracking in Linear RNNs Through "
    "Negative Eigenvalues, Table 3"
)
GRAZZI_PROFILES: dict[str, dict[str, Any]] = {
    "smoke": {"length": 20, "eval_lengths": (30,)},
    "paper": {"length": 40, "eval_lengths": (256,)},  # train 3..40, test 41..256
}


@register_task("state_modular_arithmetic")
@dataclass
class StateModularArithmetic(ModularArithmetic):
    """Bracket-free modular arithmetic mod 5, trained on lengths 3..40 and tested on 41..256 (Grazzi et al. 2025, Table 3)."""

    family = FAMILY
    paper = GRAZZI
    reported = (
        "Extending the eigenvalue range of Mamba and DeltaNet to [-1, 1] improves their scaled accuracy; DeltaNet "
        "with negative eigenvalues comes closest to solving it (Grazzi et al. 2025, Table 3)."
    )
    profile_params: ClassVar[dict[str, dict[str, Any]]] = GRAZZI_PROFILES
    shortest_input: ClassVar[int] = 3

    length: int = 40
    eval_lengths: tuple[int, ...] = (256,)
