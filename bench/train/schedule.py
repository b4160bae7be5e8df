"""Learning-rate schedules: the multiplier of the base learning rate at each optimizer step.

`constant` is what every profile used before schedules existed (and stays the default, so those runs
keep their keys). `warmup_cosine` is linear warmup then half-cosine decay to zero at the step budget
(Loshchilov & Hutter 2017, "SGDR", the cosine form; warmup as in Goyal et al. 2017, "Accurate, Large
Minibatch SGD", section 2.2); `warmup_constant` is the same warmup, then the base rate. The horizon of
the decay is the budget (`TrainConfig.steps`), not the step a run happens to stop at: a run that stops
early at `solved_at` was on the same schedule as one that trains to the end, so its learning rate at
each step does not depend on when it will stop.
"""

from __future__ import annotations

import math

from bench.contract.errors import ArchbenchError

SCHEDULES = ("constant", "warmup_cosine", "warmup_constant")


def check_schedule(schedule: str, warmup_steps: int, steps: int) -> None:
    """A one-line error for an unknown schedule or a warmup that does not fit the budget."""
    if schedule not in SCHEDULES:
        raise ArchbenchError(f"unknown schedule {schedule!r}; valid: {', '.join(SCHEDULES)}")
    if not isinstance(warmup_steps, int) or isinstance(warmup_steps, bool) or not 0 <= warmup_steps < steps:
        raise ArchbenchError(f"warmup_steps must be an integer in [0, steps={steps}); got {warmup_steps!r}")
    if schedule == "constant" and warmup_steps:
        raise ArchbenchError(
            f"schedule 'constant' has no warmup; got warmup_steps={warmup_steps} (use 'warmup_constant')"
        )


def lr_multiplier(schedule: str, step: int, warmup_steps: int, steps: int) -> float:
    """The factor on the base learning rate for the update after `step` updates (0-based: the first
    update uses `step=0`). Warmup rises linearly to 1 over `warmup_steps` updates (the first update at
    1/warmup_steps, never at 0, which would waste it); cosine then falls from 1 to 0 at `steps`."""
    if schedule == "constant":
        return 1.0
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    if schedule == "warmup_constant":
        return 1.0
    progress = min(1.0, (step - warmup_steps) / max(1, steps - warmup_steps))
    return 0.5 * (1.0 + math.cos(math.pi * progress))
