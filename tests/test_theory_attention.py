"""`attention1`: the one-layer softmax attention of the theory papers computes exactly its documented form."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from bench import TaskSpec, build_architecture

SPEC = TaskSpec(input_kind="vectors", output_kind="vector", seq_len=6, max_seq_len=6, input_dim=5, output_dim=3)


def build(**hparams: object) -> nn.Module:
    torch.manual_seed(0)
    return build_architecture("attention1", SPEC, **hparams).eval()


@pytest.mark.parametrize("heads", [1, 2])
def test_matches_a_direct_computation_of_the_documented_form(heads: int) -> None:
    model = build(d_model=8, heads=heads)
    x = torch.randn(1, 6, 5, generator=torch.Generator().manual_seed(1))
    e = model.embed(x)[0]  # (T, d_model)
    d_head = 8 // heads
    q, k, v = (layer(e).view(6, heads, d_head) for layer in (model.query, model.key, model.value))
    with torch.no_grad():
        out = model(x)[0]
    for t in range(6):
        scores = torch.einsum("hd,shd->hs", q[t], k[: t + 1]) / math.sqrt(d_head)  # positions s <= t only
        mixed = torch.einsum("hs,shd->hd", scores.softmax(-1), v[: t + 1]).reshape(8)
        assert torch.allclose(out[t], model.head(mixed), atol=1e-5)


def test_merged_key_query_starts_as_the_same_function() -> None:
    """W_KQ is initialised as W_Q^T W_K / sqrt(d_head), so with one seed both forms agree at initialisation."""
    x = torch.randn(2, 6, 5, generator=torch.Generator().manual_seed(2))
    separate, merged = build(d_model=8, heads=2), build(d_model=8, heads=2, merged_kq=True)
    assert merged.W_KQ.shape == (2, 8, 8) and not hasattr(merged, "query")
    with torch.no_grad():
        assert torch.allclose(merged(x), separate(x), atol=1e-5)


def test_has_no_mlp_norm_or_residual_and_a_linear_readout() -> None:
    model = build(d_model=8)
    kinds = {type(m) for m in model.modules()} - {type(model)}
    assert kinds == {nn.Linear}  # input map, q, k, v, read-out: nothing else
    assert model.head.out_features == SPEC.output_size
    # no residual: with V = 0 the output is the read-out bias alone
    with torch.no_grad():
        model.value.weight.zero_()
        assert torch.allclose(model(torch.randn(1, 6, 5)), model.head.bias.expand(1, 6, 3))
