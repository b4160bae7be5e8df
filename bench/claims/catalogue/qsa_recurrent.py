"""q-sparse averaging: attention at width ~ q log T against recurrent models (Sanford et al. 2023)."""

from bench.claims.model import Arm, Budget, Claim, FollowUp
from bench.claims.rules import IN_DISTRIBUTION, Exceeds, Solves

CLAIM = Claim(
    name="qsa-recurrent",
    paper="Sanford, Hsu, Telgarsky 2023 (NeurIPS), representational strengths and limitations of transformers",
    claim=(
        "Attention solves q-sparse averaging at width ~ q log T, while recurrent models whose state is below "
        "T*d do not."
    ),
    paper_figure=(
        "one attention layer with embedding dimension O(q log T) solves qSA; recurrent models need "
        "state of order T*d (a lower bound, no empirical table)"
    ),
    task="qsa",
    arms=(Arm("transformer", "transformer"), Arm("lstm", "lstm"), Arm("gru", "gru")),
    # "solves" is part of the claim: beating the recurrent models is not enough, attention must reach solved_at
    rules=(
        Exceeds("transformer", "lstm", IN_DISTRIBUTION),
        Exceeds("transformer", "gru", IN_DISTRIBUTION),
        Solves(("transformer",)),
    ),
    # claims: at the tiny preset's 1500 steps attention stayed well below solved_at; a probe of the small
    # preset on a validation seed came much closer in as many steps, so the claims budget uses small with 3000 steps
    budgets={"claims": Budget(train={"steps": 3000}, preset="small")},
    follow_ups={
        "claims": FollowUp(
            "Attention is far above both recurrent models but short of solving qSA at the tiny and the small "
            "preset. At the small preset it levels off just under solved_at: trained for 12000 steps, some seeds "
            "crossed it and another stayed just under, and a probe on a validation seed at lr 1e-3 also ended just "
            "under it. The paper's width grows like q log T; at the base preset (d_model 128, four layers) the same "
            "probe passed solved_at early and kept climbing. So: the base preset, lr 1e-3, 3000 steps, for every "
            "arm (the recurrent models get the same parameter count).",
            Budget(train={"steps": 3000, "lr": 1e-3}, preset="base"),
        )
    },
    note=(
        "The separation is large at every size: at the claims budget (small preset) attention is far above "
        "LSTM and GRU but does not solve qSA, and trained longer at the small preset it levels off just under "
        "solved_at, the small width's ceiling. The follow-up gives every arm the base preset's parameter count: "
        "attention then solves early in training, while LSTM and GRU of the same size stay about where they "
        "were. The claim needs attention to have the width the paper's q log T bound asks for."
    ),
)
