"""What the two copying claims (Jelassi et al. 2024) share: the recurrent arms and the claims budget, so
their runs are stored once and judged by both claims.

Copying needs an induction-head circuit, i.e. two attention layers (Jelassi et al. train deeper models),
and a previous-token head, which needs positions: with the default NoPE the two-layer tiny transformer
copied almost nothing, with RoPE it came close to solved_at on a validation seed, and ALiBi got part way.
Jelassi et al. use RoPE for in-distribution copying and Hard-ALiBi for length generalization, and so do
we: the length claim's transformer has Hard-ALiBi with four heads (two see everything, two see the last
2 and 4 tokens; `hard_alibi_windows`). `layers`/`heads` keep the preset's parameter budget
(bench.run.presets re-fits the width). claims: strings up to length 10, tested at 20 and 40, 4000 steps:
on strings up to length 20 at 2000 steps the RoPE transformer stayed just under solved_at on a
validation seed.
"""

from __future__ import annotations

from bench.claims.model import Arm, Budget

RECURRENT_ARMS = (Arm("lstm", "lstm"), Arm("mamba", "mamba"))
CLAIMS_BUDGET = Budget(task_params={"length": 10, "eval_lengths": (20, 40)}, train={"steps": 4000})
