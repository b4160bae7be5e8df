"""Every registered task declares where its targets sit (`TaskSpec.targets`), and the declaration matches its mask.

`targets == "last"` admits non-causal models (`bench.run.admission`), so a task that says "last" while its mask
has information after a target would let such a model read answers; one that says "several" with a last-only mask
only refuses models needlessly. Checked at the default settings and at every profile's, at the training length
and the first longer one.
"""

from __future__ import annotations

import pytest
import torch

from bench import get_task, list_tasks


def settings(name: str) -> list[tuple[str, dict]]:
    cls = type(get_task(name))
    return [("default", {}), *sorted(cls.profile_params.items())]


CASES = [(name, label, params) for name in list_tasks() for label, params in settings(name)]


def single_target_then_padding(batch) -> bool:
    """Every row has exactly one target, and whatever follows it is one padding value, the same in every row
    and position: a model that sees the whole input learns nothing about the answer from what comes after it
    (a Chomsky single-answer task pads shorter inputs after the answer's position, so "last" means last
    informative position)."""
    x, _, mask = batch
    if not bool((mask.sum(dim=1) == 1).all()):
        return False
    after: set[tuple] = set()
    for row in range(mask.shape[0]):
        position = int(mask[row].nonzero()[0, 0])
        tail = x[row, position + 1 :]
        after.update(tuple(v.flatten().tolist()) if v.dim() else (int(v),) for v in tail)
    return len(after) <= 1


@pytest.mark.parametrize(("name", "label", "params"), CASES, ids=[f"{n}-{label}" for n, label, _ in CASES])
def test_targets_declaration_matches_the_mask(name: str, label: str, params: dict) -> None:
    task = get_task(name, **params)
    for length in task.all_lengths[:2]:
        batch = task.sample(16, length, torch.Generator().manual_seed(0))
        spec = task.spec(length)
        assert batch.mask.shape == (16, spec.seq_len)
        last = single_target_then_padding(batch)
        assert (spec.targets == "last") == last, (
            f"{name} ({label}, length {length}): targets={spec.targets!r} but the batch has "
            f"{'one target per row with only padding after it' if last else 'targets before other information'}"
        )


def test_the_last_target_tasks() -> None:
    """The tasks a non-causal model may run (guards against a declaration silently dropped)."""
    last = {name for name in list_tasks() if get_task(name).spec().targets == "last"}
    assert {"induction_heads", "sparse_parity", "sparse_token_selection"} <= last
    assert not last & {"copy", "mqar", "selective_copy", "icl_regression", "qsa", "icll_dfa"}
