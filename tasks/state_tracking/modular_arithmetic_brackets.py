"""state_modular_arithmetic_brackets: bracketed modular arithmetic under the xLSTM length protocol (Grazzi et al. 2025).

Grazzi, Siems, Zela, Franke, Hutter, Pontil 2025 (ICLR), "Unlocking State-Tracking in Linear RNNs Through
Negative Eigenvalues", Table 3, column "modular arithmetic with brackets": the Chomsky task of Delétang et
al. 2023 run as the xLSTM paper (Beck et al. 2024) runs it, trained on lengths 3 to 40 and tested on lengths
40 to 256, scored by scaled accuracy (acc - chance) / (1 - chance), best of 3 runs. The column's numbers
differ between arXiv versions of the paper: pin one before comparing.

The task is `modular_arithmetic_brackets` (its generator: the authors' grammar with + - *, encoding, metric
and exact chance), with that protocol's lengths: training inputs of 3..length, one evaluation size 256
(inputs 41..256). What the authors' released configurations say (their repository's
`mod_arithmetic_with_brackets_*.yaml`: `min_sequence_length: 3`, `max_sequence_length: 40`, test `40..256`,
context 256) is confirmed; there the length counts the expression plus "=", the answer and one padding
token, and is raised to at least 5, so their training expressions run over 2..37 (2 three times as likely
as the others) and their test expressions over 37..253. Here the lengths count the expression, as every
Chomsky task's do. Their evaluation scales with chance 1/5 (the uniform guess); `chance` here is the best
constant class (above 1/5: multiplication makes 0 likelier), so a scaled figure compared with Table 3 must
use 1/5.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from bench.contract.registry import register_task
from tasks.chomsky.dcf.modular_arithmetic_brackets import ModularArithmeticBrackets
from tasks.state_tracking.base import FAMILY
from tasks.state_tracking.modular_arithmetic import GRAZZI, GRAZZI_PROFILES


@register_task("state_modular_arithmetic_brackets")
@dataclass
class StateModularArithmeticBrackets(ModularArithmeticBrackets):
    """Bracketed modular arithmetic mod 5, trained on lengths 3..40 and tested on 41..256 (Grazzi et al. 2025, Table 3)."""

    family = FAMILY
    paper = GRAZZI
    reported = (
        "Grazzi et al. 2025 (Table 3) report it beside the bracket-free version; its column differs between "
        "arXiv versions of the paper."
    )
    profile_params: ClassVar[dict[str, dict[str, Any]]] = GRAZZI_PROFILES
    shortest_input: ClassVar[int] = 3

    length: int = 40
    eval_lengths: tuple[int, ...] = (256,)
