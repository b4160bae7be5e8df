"""Copying: transformers generalize it to longer strings better than LSTM and Mamba (Jelassi et al. 2024)."""

from bench.claims.catalogue._copy import CLAIMS_BUDGET, RECURRENT_ARMS
from bench.claims.model import Arm, Budget, Claim, FollowUp
from bench.claims.rules import FIRST_BEYOND, Exceeds

CLAIM = Claim(
    name="copy-length",
    paper="Jelassi, Brandfonbrener, Kakade, Malach 2024 (ICML), repeat after me",
    claim="Transformers generalize copying to longer strings better than LSTM and Mamba of the same size.",
    paper_figure=(
        "transformers copy strings longer than those seen in training; Mamba/LSTM degrade beyond the training length"
    ),
    task="copy",
    arms=(
        Arm("transformer", "transformer", arch_params={"layers": 2, "heads": 4, "pos": "hard_alibi"}),
        *RECURRENT_ARMS,
    ),
    # at the first test length (twice the training length under claims and paper): at 4x no arm, Hard-ALiBi
    # included, copied any string exactly in the probes below
    rules=(Exceeds("transformer", "lstm", FIRST_BEYOND), Exceeds("transformer", "mamba", FIRST_BEYOND)),
    budgets={"claims": CLAIMS_BUDGET},  # the recurrent arms' runs are copy-samples': stored once, judged twice
    note=(
        "The rule reads the first test length (twice the training length) only: at four times the length no arm "
        "copies any string exactly. There the Hard-ALiBi transformer copies a minority of the longer strings "
        "exactly while LSTM and Mamba copy none (though Mamba copies most strings in distribution): the claimed "
        "direction, far from the paper's margin. The RoPE transformer of copy-samples, the best in distribution, "
        "copies none beyond the training length either. Jelassi et al. train far larger models for longer; the "
        "small preset (follow-up) is what to try next."
    ),
    follow_ups={
        "claims": FollowUp(
            "Probes on a validation seed (the claims budget's strings, 4000 steps): the small Hard-ALiBi transformer "
            "copied far more of the strings at twice the training length than the tiny one; RoPE and ALiBi copied "
            "almost none. So: the small preset for every arm.",
            Budget(task_params={"length": 10, "eval_lengths": (20, 40)}, train={"steps": 4000}, preset="small"),
        )
    },
)
