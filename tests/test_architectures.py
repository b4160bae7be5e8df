"""The architecture contract, checked for every registered architecture on a tokens->class and a
vectors->vector spec: output shape, strict causality, determinism, gradients reaching every parameter,
supported lengths; plus family-specific behaviour and hyper-parameter validation."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch

from bench import (
    ArchbenchError,
    TaskSpec,
    build_architecture,
    get_architecture,
    list_architectures,
)
from bench.contract.model import num_parameters, state_size, supports_length

SPECS = {
    "tokens": TaskSpec(
        input_kind="tokens", output_kind="class", seq_len=8, max_seq_len=16, vocab_size=5, num_classes=3
    ),
    "vectors": TaskSpec(
        input_kind="vectors", output_kind="vector", seq_len=8, max_seq_len=16, input_dim=4, output_dim=2
    ),
}
ARCHS = list_architectures()  # built-ins plus whatever plugin is configured: all are held to the contract
# The built-ins: every registered family whose builder lives in the `architectures` package (no hand list).
BUILTINS = {name for name in ARCHS if get_architecture(name).obj.__module__.startswith("architectures.")}
FIXED_LENGTH = {"fcn"}  # the exception: built-ins that take only their build length
# Families bound to an input layout (`register_architecture(layout=...)`, e.g. sts_attention) read the
# features by position: they are held to the contract on a vectors spec of their layout, never on tokens.
LAYOUT_SPECS = {
    "sts": TaskSpec(
        input_kind="vectors",
        output_kind="vector",
        seq_len=8,
        max_seq_len=16,
        input_dim=2 + 4 + 1,
        output_dim=2,
        targets="last",
        layout="sts",
    )
}


def spec_for(name: str, spec: TaskSpec) -> TaskSpec:
    """`spec`, or for a layout-bound family its layout's spec (skipping the tokens specs it cannot read)."""
    layout = get_architecture(name).layout
    if layout is None:
        return spec
    if spec.input_kind != "vectors":
        pytest.skip(f"{name} reads only vector inputs of layout {layout!r}")
    return LAYOUT_SPECS[layout]


def tiny_hparams(name: str) -> dict[str, Any]:
    """The `tiny` preset with a small width (a multiple of the family's width_multiple)."""
    entry = get_architecture(name)
    hparams = dict(entry.presets.get("tiny", {}))
    if entry.width_param and name != "transformer":
        hparams[entry.width_param] = 8 * entry.width_multiple
    return hparams


def make(name: str, spec: TaskSpec, seed: int = 0, **overrides: Any) -> torch.nn.Module:
    torch.manual_seed(seed)
    return build_architecture(name, spec, **{**tiny_hparams(name), **overrides})


def sample_input(spec: TaskSpec, batch: int, length: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    if spec.input_kind == "tokens":
        return torch.randint(0, int(spec.vocab_size), (batch, length), generator=g)
    return torch.randn(batch, length, int(spec.input_dim), generator=g)


def assert_causal(model: torch.nn.Module, spec: TaskSpec, length: int, positions: tuple[int, ...] = (0, 3, 6)) -> None:
    """Changing inputs after position t leaves outputs at <= t unchanged; the last output does react."""
    model.eval()
    x = sample_input(spec, 3, length, seed=1)
    with torch.no_grad():
        base = model(x)
        for t in positions:
            x2 = x.clone()
            x2[:, t + 1 :] = sample_input(spec, 3, length, seed=100 + t)[:, t + 1 :]
            out = model(x2)
            assert torch.allclose(out[:, : t + 1], base[:, : t + 1], atol=1e-5, rtol=0), f"output at <= {t} changed"
            assert not torch.allclose(out[:, -1], base[:, -1], atol=1e-6), "the last output ignores the last inputs"


@pytest.fixture(params=sorted(SPECS), ids=sorted(SPECS))
def spec(request: pytest.FixtureRequest) -> TaskSpec:
    return SPECS[request.param]


# ---------------------------------------------------------------------------------------------
# the contract, for every registered architecture


@pytest.mark.parametrize("name", ARCHS)
def test_shape_causality_and_determinism(name: str, spec: TaskSpec) -> None:
    spec = spec_for(name, spec)
    model = make(name, spec).eval()
    x = sample_input(spec, 2, spec.seq_len, seed=0)
    with torch.no_grad():
        out = model(x)
        again = make(name, spec).eval()(x)
        other_seed = make(name, spec, seed=1).eval()(x)
    assert out.shape == (2, spec.seq_len, spec.output_size)
    assert out.dtype == torch.float32 and torch.isfinite(out).all()
    assert torch.equal(out, again), "same seed, different outputs"
    assert not torch.equal(out, other_seed), "the seed does not reach the initialisation"
    assert_causal(model, spec, spec.seq_len)


@pytest.mark.parametrize("name", ARCHS)
def test_gradients_reach_every_parameter(name: str, spec: TaskSpec) -> None:
    spec = spec_for(name, spec)
    model = make(name, spec).train()
    x = sample_input(spec, 4, spec.seq_len, seed=2)
    out = model(x)
    (out.square().mean() + out.mean()).backward()
    params = list(model.named_parameters())
    assert params and num_parameters(model) == sum(p.numel() for _, p in params)
    for pname, p in params:
        assert p.grad is not None, f"{pname} gets no gradient"
        assert torch.isfinite(p.grad).all(), f"{pname} has a non-finite gradient"
        assert p.grad.abs().sum() > 0, f"{pname} has an all-zero gradient"


@pytest.mark.parametrize("name", ARCHS)
def test_supported_lengths_run_and_others_raise(name: str, spec: TaskSpec) -> None:
    spec = spec_for(name, spec)
    model = make(name, spec).eval()
    for length in (1, spec.seq_len, spec.seq_len + 3, spec.max_seq_len):
        x = sample_input(spec, 2, length, seed=length)
        if supports_length(model, length):
            with torch.no_grad():
                assert model(x).shape == (2, length, spec.output_size)
        else:
            with pytest.raises(ArchbenchError, match=str(length)):
                model(x)
    assert supports_length(model, spec.seq_len)
    if name not in FIXED_LENGTH and name in BUILTINS:
        assert supports_length(model, spec.max_seq_len)
        assert_causal(model, spec, spec.max_seq_len, positions=(0, 9, 14))


@pytest.mark.parametrize("name", ARCHS)
def test_state_size_is_an_int_or_none(name: str) -> None:
    value = state_size(make(name, spec_for(name, SPECS["vectors"])))
    assert value is None or (isinstance(value, int) and value > 0)


@pytest.mark.parametrize("name", ARCHS)
def test_zero_width_is_rejected_naming_the_parameter(name: str) -> None:
    entry = get_architecture(name)
    if not entry.width_param:
        pytest.skip("no width parameter")
    with pytest.raises(ArchbenchError, match=f"{entry.width_param}.*0"):
        build_architecture(name, SPECS["vectors"], **{**tiny_hparams(name), entry.width_param: 0})


# ---------------------------------------------------------------------------------------------
# built-in families


def test_builtins_are_registered_with_presets() -> None:
    assert {"transformer"} | FIXED_LENGTH <= BUILTINS  # discovery found the reference and the named exceptions
    for name in BUILTINS:
        entry = get_architecture(name)
        assert {"tiny", "small", "base"} <= set(entry.presets)
        # a family without a width is one whose size the task sets (a layout-bound theory model)
        assert entry.width_param in entry.parameters() if entry.width_param else entry.layout
    assert get_architecture("transformer").presets["tiny"] == {"d_model": 32, "layers": 1, "heads": 2}


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_builtins_build_on_the_meta_device(name: str) -> None:
    """bench.run.presets counts parameters on `meta`: construction must not need real numbers."""
    spec = spec_for(name, SPECS["vectors"])
    entry = get_architecture(name)
    with torch.device("meta"):
        model = entry.obj(spec, **entry.presets["small"])
    torch.manual_seed(0)
    assert num_parameters(model) == num_parameters(entry.obj(spec, **entry.presets["small"]))


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_no_hard_coded_devices(name: str, spec: TaskSpec) -> None:
    spec = spec_for(name, spec)
    """Forward and backward on the `meta` device: any tensor made on a fixed device would clash (the
    stand-in for a GPU check on machines without one)."""
    model = make(name, spec).to("meta")
    x = sample_input(spec, 2, spec.seq_len, seed=0).to("meta")
    for training in (True, False):
        out = model.train(training)(x)
        assert out.device.type == "meta" and out.shape == (2, spec.seq_len, spec.output_size)
    model.train()(x).sum().backward()


@pytest.mark.parametrize("preset", ["tiny", "small"])
def test_width_fitting_matches_the_transformer_size(preset: str) -> None:
    """Each family's registered structure plus a fitted width lands within 5% of the transformer's size."""
    from bench.run.presets import count_parameters, resolve_hparams

    spec = TaskSpec(input_kind="vectors", output_kind="vector", seq_len=17, max_seq_len=129, input_dim=73, output_dim=8)
    target = count_parameters("transformer", spec, resolve_hparams("transformer", spec, preset))
    for name in sorted(n for n in BUILTINS - {"transformer"} if get_architecture(n).width_param):
        count = count_parameters(name, spec, resolve_hparams(name, spec, preset))
        assert abs(count - target) <= 0.05 * target, (name, count, target)


@pytest.mark.parametrize("pos", ["none", "learned", "sinusoidal", "rope", "alibi", "hard_alibi", "randomized"])
def test_transformer_positional_schemes(pos: str, spec: TaskSpec) -> None:
    model = make("transformer", spec, pos=pos, d_model=16, heads=2)
    assert_causal(model, spec, spec.max_seq_len, positions=(0, 7, 14))
    model.train()
    out = model(sample_input(spec, 2, spec.seq_len, seed=0))
    assert out.shape == (2, spec.seq_len, spec.output_size)
    assert supports_length(model, spec.max_seq_len)
    assert supports_length(model, spec.max_seq_len + 1) == (pos != "learned")


def test_transformer_odd_head_dim_with_rope_and_non_power_of_two_alibi_heads() -> None:
    spec = SPECS["vectors"]
    assert_causal(make("transformer", spec, pos="rope", d_model=15, heads=3), spec, 12)
    assert_causal(make("transformer", spec, pos="alibi", d_model=12, heads=3), spec, 12)


def test_hard_alibi_heads_see_everything_or_a_window_of_recent_tokens() -> None:
    """Hard-ALiBi (Jelassi et al. 2024): half the heads are global, head k of the rest sees the last 2**(k+1)
    tokens; checked on the bias itself, by brute force over (i, j)."""
    from architectures.positions import attention_bias, hard_alibi_windows

    windows = hard_alibi_windows(5)
    assert windows.tolist() == [math.inf, math.inf, math.inf, 2.0, 4.0]
    bias = attention_bias("hard_alibi", windows, 9, torch.float32, torch.device("cpu"))
    for h, window in enumerate(windows.tolist()):
        for i in range(9):
            for j in range(9):
                allowed = j <= i and i - j < window
                assert (bias[h, i, j] == 0) == allowed and (bias[h, i, j] == -math.inf) == (not allowed), (h, i, j)


def test_randomized_positions_are_random_in_training_and_ordered_in_eval() -> None:
    from architectures.positions import AdditivePositions, sinusoidal_encoding

    enc = AdditivePositions("randomized", 8, max_seq_len=16, max_pos=64)
    torch.manual_seed(0)
    first, second = enc.codes(2, 10, torch.device("cpu")), enc.codes(2, 10, torch.device("cpu"))
    assert first.shape == (2, 10, 8) and not torch.equal(first, second)
    # recover the sampled positions from the first sinusoidal pair (frequency 1): strictly increasing, < max_pos
    table = sinusoidal_encoding(torch.arange(64), 8)
    matches = (first.unsqueeze(2) - table.view(1, 1, 64, 8)).abs().sum(-1).argmin(-1)
    assert (matches.diff(dim=1) > 0).all() and (matches < 64).all()
    enc.eval()
    assert torch.allclose(enc.codes(2, 10, torch.device("cpu")), table[:10].unsqueeze(0))
    h = torch.randn(2, 10, 8)
    assert torch.allclose(enc(h), h + table[:10])  # the backbone's pos hook adds the codes


def test_attention_only_transformer_has_no_mlp() -> None:
    spec = SPECS["vectors"]
    with_mlp = make("transformer", spec, d_model=16, heads=2)
    without = make("transformer", spec, d_model=16, heads=2, mlp=False)
    assert num_parameters(without) < num_parameters(with_mlp)
    assert not any("mlp" in n for n, _ in without.named_parameters())


def test_fcn_takes_only_its_build_length() -> None:
    spec = SPECS["tokens"]
    model = make("fcn", spec)
    assert model.supports_length(spec.seq_len)
    assert not model.supports_length(spec.seq_len - 1) and not model.supports_length(spec.max_seq_len)
    with pytest.raises(ArchbenchError, match="built for sequence length 8 and cannot take length 16"):
        model(sample_input(spec, 1, 16, seed=0))


def test_fcn_masks_follow_positions_and_non_causal_variant_sees_everything() -> None:
    spec = SPECS["vectors"]
    model = make("fcn", spec, hidden=12, layers=2, embed_dim=3)
    first = model.linears[0]
    dense = first.dense_weight()
    in_pos = torch.arange(8).repeat_interleave(3)
    out_pos = torch.arange(12) * 8 // 12
    allowed = out_pos.view(-1, 1) >= in_pos.view(1, -1)
    assert (dense[~allowed] == 0).all() and (dense[allowed] != 0).all()
    assert first.weight.numel() == int(allowed.sum())  # masked-out weights are not parameters
    dense_model = make("fcn", spec, hidden=12, layers=2, embed_dim=3, causal=False).eval()
    x = sample_input(spec, 2, 8, seed=0)
    x2 = x.clone()
    x2[:, -1] += 1.0
    with torch.no_grad():
        assert not torch.allclose(dense_model(x)[:, 0], dense_model(x2)[:, 0])  # not causal, by design


@pytest.mark.parametrize(
    ("name", "hparams", "expected"),
    [
        ("lstm", {"hidden": 6, "layers": 3}, 2 * 6 * 3),
        ("gru", {"hidden": 6, "layers": 3}, 6 * 3),
        ("rnn", {"hidden": 6, "layers": 2}, 6 * 2),
        ("lru", {"d_model": 6, "layers": 2, "expand": 2}, 12 * 2),
        ("s4d", {"d_model": 6, "layers": 2, "d_state": 8}, 6 * 8 * 2),
        ("mamba", {"d_model": 6, "layers": 2, "d_state": 4, "expand": 2, "d_conv": 4}, 2 * (12 * 4 + 12 * 3)),
        ("transformer", {"d_model": 8, "heads": 2}, None),
        ("fcn", {}, None),
        ("linear_attention", {"d_model": 8, "heads": 2, "layers": 3}, 3 * 2 * (4 * 4 + 4)),
        ("hybrid", {"d_model": 8, "heads": 2}, None),
        ("attention1", {"d_model": 8}, None),
    ],
)
def test_state_sizes(name: str, hparams: dict, expected: int | None) -> None:
    assert state_size(build_architecture(name, SPECS["vectors"], **hparams)) == expected


def test_lru_eigenvalue_ranges() -> None:
    spec = SPECS["vectors"]
    for eig, low in (("[0,1]", 0.0), ("[-1,1]", -1.0)):
        model = make("lru", spec, eigenvalues=eig)
        layer = model.blocks[0].mixer
        with torch.no_grad():
            layer.theta.copy_(torch.linspace(-30, 30, layer.theta.numel()))
            a = layer.decay()
        assert a.min() >= low and a.min() < low + 1e-6 and a.max() <= 1.0
    init = make("lru", spec, eigenvalues="[-1,1]", r_min=0.6, r_max=0.8).blocks[0].mixer.decay()
    assert ((init >= 0.6 - 1e-6) & (init <= 0.8 + 1e-6)).all()


def test_s4d_initialisation() -> None:
    model = make("s4d", SPECS["vectors"], d_model=4, d_state=8)
    kernel = model.blocks[0].mixer.ssm
    dt = kernel.log_dt.exp()
    assert ((dt >= 1e-3) & (dt <= 1e-1)).all()
    assert torch.allclose(-kernel.log_A_real.exp(), torch.full((4, 4), -0.5))
    assert torch.allclose(kernel.A_imag[0], torch.pi * torch.arange(4.0))
    real = make("s4d", SPECS["vectors"], d_model=4, d_state=3, init="real").blocks[0].mixer.ssm
    assert torch.allclose(-real.log_A_real.exp()[0], -torch.arange(1.0, 4.0))


def test_mamba_initialisation() -> None:
    mixer = make("mamba", SPECS["vectors"], d_model=32, d_state=16).blocks[0].mixer
    assert mixer.dt_rank == 2 and mixer.d_inner == 64
    assert torch.allclose(-mixer.A_log.exp()[5], -torch.arange(1.0, 17.0))
    dt = torch.nn.functional.softplus(mixer.dt_proj.bias)
    assert ((dt >= 1e-3 - 1e-6) & (dt <= 1e-1 + 1e-6)).all()


@pytest.mark.parametrize("pos", ["none", "sinusoidal", "learned"])
def test_linear_attention_recurrent_form_equals_the_parallel_form(pos: str, spec: TaskSpec) -> None:
    model = make("linear_attention", spec, d_model=16, heads=2, layers=2, pos=pos).eval()
    x = sample_input(spec, 3, spec.max_seq_len, seed=4)
    with torch.no_grad():
        parallel, recurrent = model(x), model.recurrent_forward(x)
    assert parallel.shape == recurrent.shape == (3, spec.max_seq_len, spec.output_size)
    assert torch.allclose(parallel, recurrent, atol=1e-5, rtol=1e-4)


def _stepped(name: str) -> bool:
    from architectures.backbone import Backbone

    model = make(name, SPECS["vectors"])
    return isinstance(model, Backbone) and model.has_step


STEPPED = [name for name in ARCHS if _stepped(name)]  # every backbone family whose mixers all have `step`


def test_every_converted_family_has_a_recurrent_form() -> None:
    """The built-in backbone families all implement `step` (a family that drops it shows up here)."""
    assert {"transformer", "linear_attention", "lru", "s4d", "mamba", "hybrid"} <= set(STEPPED)


@pytest.mark.parametrize("name", STEPPED)
def test_recurrent_form_equals_the_parallel_form(name: str, spec: TaskSpec) -> None:
    """Stepping every mixer position by position (`Backbone.recurrent_forward`) gives `forward`'s outputs."""
    model = make(name, spec).eval()
    x = sample_input(spec, 3, spec.max_seq_len, seed=4)
    with torch.no_grad():
        parallel, recurrent = model(x), model.recurrent_forward(x)
    assert recurrent.shape == parallel.shape == (3, spec.max_seq_len, spec.output_size)
    assert torch.allclose(parallel, recurrent, atol=1e-5, rtol=1e-4), (parallel - recurrent).abs().max()


@pytest.mark.parametrize(
    ("name", "hparams"),
    [
        *[
            ("transformer", {"pos": pos, "d_model": 12, "heads": 3})
            for pos in ("learned", "sinusoidal", "rope", "alibi", "hard_alibi")
        ],
        ("hybrid", {"pos": "rope", "layers": 2, "d_model": 16, "heads": 2}),
        ("mamba", {"negative_eigenvalues": True, "d_conv": 1}),
        ("s4d", {"init": "real", "d_state": 3}),
        ("lru", {"eigenvalues": "[-1,1]"}),
    ],
)
def test_recurrent_form_equals_the_parallel_form_per_option(name: str, hparams: dict) -> None:
    """The options a mixer's `step` must honour: positions inside attention (the cache knows its
    position), signed transitions, a width-1 convolution, real S4D modes."""
    spec = SPECS["tokens"]
    model = make(name, spec, **hparams).eval()
    x = sample_input(spec, 2, spec.max_seq_len, seed=5)
    with torch.no_grad():
        assert torch.allclose(model(x), model.recurrent_forward(x), atol=1e-5, rtol=1e-4)


class _Scale(torch.nn.Module):
    """A toy causal mixer for the backbone's protocol: position-wise, so trivially causal."""

    def __init__(self, d_model: int, state: int | None, max_len: int | None = None, step: bool = True) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(d_model))
        self.state_size, self.max_len = state, max_len
        if step:
            self.step = lambda x_t, state: (self(x_t), state)

    def supports_length(self, seq_len: int) -> bool:
        return self.max_len is None or seq_len <= self.max_len

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.weight


def test_backbone_reads_the_mixer_protocol() -> None:
    from architectures.backbone import MLP, Backbone

    spec = SPECS["vectors"]
    fixed = Backbone(spec, 4, 3, lambda i: _Scale(4, state=10 * (i + 1)))
    assert fixed.state_size == 60 and fixed.causal and fixed.supports_length(10**6) and fixed.has_step
    growing = Backbone(spec, 4, 2, lambda i: _Scale(4, state=None if i == 1 else 5, max_len=12 if i == 0 else None))
    assert growing.state_size is None  # one mixer without a fixed state: the model has none
    assert growing.supports_length(12) and not growing.supports_length(13)
    plain = Backbone(spec, 4, 2, lambda i: torch.nn.Linear(4, 4), mlp=lambda i: MLP(4, 2.0) if i == 0 else None)
    assert plain.state_size is None and plain.causal and not plain.has_step  # no attributes: the defaults
    assert plain.blocks[0].mlp is not None and plain.blocks[1].mlp is None
    with pytest.raises(ArchbenchError, match="mixer Linear has no step"):
        plain.recurrent_forward(sample_input(spec, 1, 3, seed=0))
    non_causal = Backbone(spec, 4, 1, lambda i: _Scale(4, state=1))
    non_causal.blocks[0].mixer.causal = False
    assert not non_causal.causal


def test_backbone_block_is_pre_norm_residual() -> None:
    """`x + mixer(norm(x))`, then `x + mlp(norm(x))`: with a zero mixer and a zero MLP the block is the identity."""
    from architectures.backbone import MLP, Block

    block = Block(4, _Scale(4, state=1), MLP(4))
    with torch.no_grad():
        block.mixer.weight.zero_()
        block.mlp.net[-1].weight.zero_()
        block.mlp.net[-1].bias.zero_()
    x = torch.randn(2, 5, 4)
    assert torch.equal(block(x), x)
    with torch.no_grad():
        block.mixer.weight.fill_(1.0)
    assert torch.allclose(block(x), x + block.norm1(x))


def test_linear_attention_single_step_matches_a_direct_computation() -> None:
    from architectures.linear_attention import CausalLinearAttention, feature_map

    torch.manual_seed(0)
    attn = CausalLinearAttention(4, heads=1)
    x = torch.randn(1, 5, 4)
    q, k, v = attn.qkv(x).chunk(3, dim=-1)
    q, k = feature_map(q), feature_map(k)
    t = 3
    weights = q[0, t] @ k[0, : t + 1].T  # unnormalised kernel weights of positions 0..t
    expected = attn.proj((weights / weights.sum()) @ v[0, : t + 1])
    assert torch.allclose(attn(x)[0, t], expected, atol=1e-5)


def test_hybrid_interleaves_attention_and_mamba_blocks() -> None:
    from architectures.attention import CausalSelfAttention
    from architectures.backbone import MLP
    from architectures.mamba import MambaMixer

    model = make("hybrid", SPECS["vectors"], layers=4, attention_every=2, d_model=16, heads=2)
    assert [type(m) for m in model.mixers] == [MambaMixer, CausalSelfAttention, MambaMixer, CausalSelfAttention]
    assert [type(b.mlp) for b in model.blocks] == [type(None), MLP, type(None), MLP]  # an MLP after attention only
    jamba_like = make("hybrid", SPECS["vectors"], layers=4, attention_every=4, d_model=16, heads=2)
    assert [type(m) for m in jamba_like.mixers] == [MambaMixer, MambaMixer, MambaMixer, CausalSelfAttention]
    assert_causal(make("hybrid", SPECS["vectors"], pos="alibi", d_model=16, heads=2), SPECS["vectors"], 16, (0, 9, 14))


# ---------------------------------------------------------------------------------------------
# hyper-parameter validation through the registry


@pytest.mark.parametrize(
    ("name", "hparams", "fragment"),
    [
        ("transformer", {"d_model": 0}, "d_model must be a positive integer; got 0"),
        ("transformer", {"d_model": 30, "heads": 4}, "d_model=30 must be divisible by heads=4"),
        ("transformer", {"pos": "xpos"}, "'xpos'"),
        ("transformer", {"layers": -1}, "layers must be a positive integer; got -1"),
        ("transformer", {"dropout": 1.5}, "dropout must be in \\[0, 1\\); got 1.5"),
        ("transformer", {"pos": "randomized", "max_pos": 4}, "max_pos must be an integer >= max_seq_len=16; got 4"),
        ("fcn", {"embed_dim": 0}, "embed_dim must be a positive integer; got 0"),
        ("lstm", {"hidden": 0}, "hidden must be a positive integer; got 0"),
        ("lru", {"eigenvalues": "[-2,2]"}, "'\\[-2,2\\]'"),
        ("lru", {"r_min": 0.9, "r_max": 0.5}, "r_min=0.9, r_max=0.5"),
        ("s4d", {"d_state": 7}, "even d_state.*got 7"),
        ("mamba", {"d_state": 0}, "d_state must be a positive integer; got 0"),
        ("mamba", {"scan": "blelloch"}, "'blelloch'"),
        ("mamba", {"negative_eigenvalues": "maybe"}, "'negative_eigenvalues' must be true or false; got 'maybe'"),
        ("linear_attention", {"d_model": 10, "heads": 4}, "d_model=10 must be divisible by heads=4"),
        ("hybrid", {"layers": 1, "attention_every": 2}, "attention_every=2 > layers=1"),
        ("hybrid", {"pos": "learned"}, "'learned'"),
    ],
)
def test_bad_hyper_parameters_name_the_value(name: str, hparams: dict, fragment: str) -> None:
    with pytest.raises(ArchbenchError, match=fragment):
        build_architecture(name, SPECS["vectors"], **hparams)


def test_preset_is_a_parameter_budget_for_the_reference_too() -> None:
    """`layers=2` on the tiny transformer narrows it back to tiny's size instead of doubling it; an
    explicit width is taken as given."""
    from bench.run.presets import count_parameters, resolve_hparams

    spec = SPECS["tokens"]
    tiny = resolve_hparams("transformer", spec, "tiny")
    target = count_parameters("transformer", spec, tiny)
    deeper = resolve_hparams("transformer", spec, "tiny", {"layers": 2})
    assert deeper["layers"] == 2 and deeper["d_model"] < tiny["d_model"]
    assert abs(count_parameters("transformer", spec, deeper) - target) <= 0.15 * target
    assert resolve_hparams("transformer", spec, "tiny", {"layers": 2, "d_model": 64})["d_model"] == 64
