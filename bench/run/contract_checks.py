"""The architecture contract as runnable checks, for `archbench check-arch` and the test suite.

Every architecture, built-in or plugin, is built for each combination of input kind (tokens, vectors)
and output kind (class, vector) and must:

- **shape**: map `(B, T)` tokens or `(B, T, d_in)` vectors to finite floats `(B, T, spec.output_size)`;
- **causality**: leave outputs at positions <= t unchanged when only inputs after t change, in eval mode
  and in train mode (training is where a leak pays: BatchNorm's batch statistics over the positions mix
  later inputs into earlier outputs only there; both forwards of a comparison start from the same random
  state, so dropout is no false alarm), and let the last output react to the inputs. A model declaring
  `causal = False`, like `fcn causal=false`, is valid only for tasks whose single target is the last
  position (planning refuses it elsewhere): reported as skipped, not failed;
- **determinism**: the same seed gives the same parameters and outputs, another seed other parameters
  (the benchmark's seeds must vary the initialisation), and an eval-mode forward has no randomness;
- **gradients**: a backward pass reaches every parameter with a finite, non-zero gradient;
- **lengths**: take its build length; run every length `supports_length` accepts, and refuse every other
  one with an `ArchbenchError` naming the length (the harness then records "n/a" instead of failing);
- **size**: have parameters, and a `state_size` that is None or a positive integer.

A family registered with an input layout (`register_architecture(..., layout="sts")`: it reads the input
features by position and runs only on tasks promising that layout) is checked on a spec with that layout
(`LAYOUT_SPECS`) instead of the four generic ones.

Each check returns one line saying why it failed, so a plugin author knows which rule to fix. Every model is
built through `build_architecture`, which materializes lazy parameters (`nn.LazyLinear` ...) with one dry
forward, so a lazy model is held to the same rules as any other.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from bench.contract.errors import ArchbenchError
from bench.contract.model import DEFAULT_CAUSAL, num_parameters, supports_length
from bench.contract.registry import build_architecture, get_architecture
from bench.contract.spec import TaskSpec
from bench.run.presets import resolve_hparams

Status = Literal["pass", "fail", "skip"]

SPECS: dict[str, TaskSpec] = {
    "tokens->class": TaskSpec("tokens", "class", seq_len=8, max_seq_len=16, vocab_size=5, num_classes=3),
    "tokens->vector": TaskSpec("tokens", "vector", seq_len=8, max_seq_len=16, vocab_size=5, output_dim=2),
    "vectors->class": TaskSpec("vectors", "class", seq_len=8, max_seq_len=16, input_dim=4, num_classes=3),
    "vectors->vector": TaskSpec("vectors", "vector", seq_len=8, max_seq_len=16, input_dim=4, output_dim=2),
}
# Families bound to an input layout are checked on these instead (label -> spec, per layout).
LAYOUT_SPECS: dict[str, dict[str, TaskSpec]] = {
    "sts": {
        "vectors->vector [sts]": TaskSpec(
            "vectors",
            "vector",
            seq_len=8,
            max_seq_len=16,
            input_dim=2 + 4 + 1,
            output_dim=2,
            targets="last",
            layout="sts",
        )
    },
}
SIZE_SPEC = "vectors->vector"  # the spec whose parameter count and state size are reported
CHECKS = ("shape", "causality", "determinism", "gradients", "lengths", "size")
DEFAULT_PRESET = "tiny"
ATOL, RTOL = 1e-5, 1e-4  # "unchanged" for causality: float rounding of a reordered reduction, nothing more
MODES = ("eval", "train")  # causality holds in both; eval first, so a leak in both is reported as eval's
TRAIN_LEAK_HINT = " (train mode only: e.g. batch statistics taken over the positions, as BatchNorm over time does)"


class Violation(Exception):
    """A broken rule; the message is the one-line reason shown to the user."""


class Skipped(Exception):
    """A check that does not apply to this model; the message says why."""


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: Status
    reason: str = ""


@dataclass
class Report:
    """The outcome of every check for one architecture, with its size on `SIZE_SPEC`."""

    arch: str
    results: list[CheckResult] = field(default_factory=list)
    parameters: int | None = None
    state_size: int | None = None

    @property
    def passed(self) -> bool:
        return all(r.status != "fail" for r in self.results)

    def status(self, check: str) -> Status:
        return next(r.status for r in self.results if r.name == check)


Model = Callable[[str, int], nn.Module]  # (spec label, seed) -> a freshly built, seeded model


def specs_for(arch: str) -> dict[str, TaskSpec]:
    """The specs `arch` is checked on: the generic four, or its layout's (none for an unknown layout)."""
    layout = get_architecture(arch).layout
    return SPECS if layout is None else LAYOUT_SPECS.get(layout, {})


def spec_of(label: str) -> TaskSpec:
    """A check spec by its label, generic or layout-bound."""
    if label in SPECS:
        return SPECS[label]
    return next(specs[label] for specs in LAYOUT_SPECS.values() if label in specs)


# ---------------------------------------------------------------------------------------------
# inputs and helpers


def seed_everything(seed: int) -> None:
    """Seed what the harness's `lightning.seed_everything` seeds (python, numpy, torch) before a build."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def sample_input(spec: TaskSpec, batch: int, length: int, seed: int) -> torch.Tensor:
    """Inputs for `spec`; token inputs contain every token id once there are enough positions, so every
    embedding row can receive a gradient."""
    g = torch.Generator().manual_seed(seed)
    if spec.input_kind == "tokens":
        vocab = int(spec.vocab_size)  # type: ignore[arg-type]
        tokens = torch.arange(batch * length) % vocab
        return tokens[torch.randperm(batch * length, generator=g)].view(batch, length)
    return torch.randn(batch, length, int(spec.input_dim), generator=g)  # type: ignore[arg-type]


def change_after(spec: TaskSpec, x: torch.Tensor, t: int, seed: int) -> torch.Tensor:
    """`x` with every input after position t replaced by a different one (tokens: a different id)."""
    g = torch.Generator().manual_seed(seed)
    x2 = x.clone()
    if spec.input_kind == "tokens":
        vocab = int(spec.vocab_size)  # type: ignore[arg-type]
        shift = torch.randint(1, max(vocab, 2), x[:, t + 1 :].shape, generator=g)
        x2[:, t + 1 :] = (x[:, t + 1 :] + shift) % vocab
    else:
        x2[:, t + 1 :] = x[:, t + 1 :] + torch.randn(x[:, t + 1 :].shape, generator=g)
    return x2


def describe(exc: BaseException) -> str:
    """`TypeName: first line of the message`, shortened to fit one table line."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = text if len(text) <= 160 else text[:157] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def forward(model: nn.Module, spec: TaskSpec, batch: int, length: int, seed: int) -> torch.Tensor:
    with torch.no_grad():
        return model(sample_input(spec, batch, length, seed))


def longest_supported(model: nn.Module, spec: TaskSpec) -> int:
    return spec.max_seq_len if supports_length(model, spec.max_seq_len) else spec.seq_len


# ---------------------------------------------------------------------------------------------
# the checks: each raises Violation / Skipped for one spec, or returns


def check_shape(build: Model, label: str) -> None:
    spec = spec_of(label)
    out = forward(build(label, 0).eval(), spec, 2, spec.seq_len, seed=0)
    expected = (2, spec.seq_len, spec.output_size)
    if not isinstance(out, torch.Tensor):
        raise Violation(f"forward returned {type(out).__name__}, expected a tensor of shape {expected}")
    if tuple(out.shape) != expected:
        raise Violation(
            f"output shape {tuple(out.shape)}, expected {expected} (batch, positions, {spec.output_kind} size)"
        )
    if not out.is_floating_point():
        raise Violation(f"output dtype {out.dtype}, expected floating point")
    if not torch.isfinite(out).all():
        raise Violation("output has non-finite values (nan or inf) at initialisation")


def check_causality(build: Model, label: str) -> None:
    spec = spec_of(label)
    model = build(label, 0)
    declared = getattr(model, "causal", DEFAULT_CAUSAL)
    if not isinstance(declared, bool):
        raise Violation(f"causal must be True or False; got {declared!r}")
    if not declared:
        raise Skipped("declares causal=False: valid only for tasks whose single target is the last position")
    if not _causal_and_reacts(model, spec):
        # A zero-initialised layer makes the output constant at initialisation only: perturb and look again,
        # so the test is not passed vacuously by a model whose outputs cannot move.
        if not _causal_and_reacts(perturbed(build(label, 0)), spec):
            raise Violation(
                "the last output ignores every input after position 0, even after perturbing the parameters"
            )


def _causal_and_reacts(model: nn.Module, spec: TaskSpec) -> bool:
    """Raise Violation if an output moves when only later inputs change, in eval mode, then in train mode;
    return whether the last output reacts (eval mode) to the inputs after position 0.

    Train mode runs last because its forwards may move running statistics (the model is not used after)."""
    reacts = True
    for mode in MODES:
        model.train(mode == "train")
        for length in sorted({spec.seq_len, longest_supported(model, spec)}):
            x = sample_input(spec, 3, length, seed=1)
            base = seeded_forward(model, x, seed=length)
            for t in sorted({0, length // 2 - 1, length - 2}):
                out = seeded_forward(model, change_after(spec, x, t, seed=100 + t), seed=length)
                if not torch.allclose(out[:, : t + 1], base[:, : t + 1], atol=ATOL, rtol=RTOL):
                    moved = (out[:, : t + 1] - base[:, : t + 1]).abs().amax(dim=(0, 2))
                    first = int((moved > ATOL).nonzero()[0])
                    hint = TRAIN_LEAK_HINT if mode == "train" else ""
                    raise Violation(
                        f"{mode} mode, T={length}: output at position {first} changed (by {float(moved[first]):.2g}) when only "
                        f"inputs after position {t} changed; outputs may depend only on inputs at positions <= their own{hint}"
                    )
                if mode == "eval" and t == 0 and torch.allclose(out[:, -1], base[:, -1], atol=1e-7, rtol=0):
                    reacts = False
    return reacts


def seeded_forward(model: nn.Module, x: torch.Tensor, seed: int) -> torch.Tensor:
    """Forward from a fixed random state (the global one is left as it was): two calls draw the same dropout
    masks, so in train mode only a real dependence on the changed inputs can make their outputs differ."""
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        torch.manual_seed(seed)
        return model(x)


def perturbed(model: nn.Module, scale: float = 0.1) -> nn.Module:
    """`model` with seeded Gaussian noise added to every floating parameter (moves it off a zero init)."""
    g = torch.Generator().manual_seed(7)
    with torch.no_grad():
        for p in model.parameters():
            if p.is_floating_point():
                p.add_(scale * torch.randn(p.shape, generator=g).to(p.device, p.dtype))
    return model


def check_determinism(build: Model, label: str) -> None:
    spec = spec_of(label)
    first, again, other = build(label, 0), build(label, 0), build(label, 1)
    a, b = first.state_dict(), again.state_dict()
    differing = [k for k in a if k not in b or a[k].shape != b[k].shape or not torch.equal(a[k], b[k])]
    if differing:
        raise Violation(
            f"seed 0 twice gives different initial values for {_names(differing)}; draw every random number from the seeded global generators (torch, numpy, random)"
        )
    out = forward(first.eval(), spec, 2, spec.seq_len, seed=3)
    if not torch.equal(out, forward(again.eval(), spec, 2, spec.seq_len, seed=3)):
        raise Violation("seed 0 twice gives identical parameters but different outputs")
    if not torch.equal(out, forward(first, spec, 2, spec.seq_len, seed=3)):
        raise Violation("two eval-mode forward passes of the same input differ (randomness left on in eval mode)")
    c = other.state_dict()
    if all(k in c and c[k].shape == v.shape and torch.equal(v, c[k]) for k, v in a.items() if v.is_floating_point()):
        raise Violation("seeds 0 and 1 give identical parameters: the seed does not reach the initialisation")


def _zero_or_missing_grads(model: nn.Module, spec: TaskSpec, length: int) -> tuple[list[str], list[str], list[str]]:
    """Backward through `out^2 + out` averaged; names of parameters with no / non-finite / all-zero gradient."""
    model.train()
    out = model(sample_input(spec, 4, length, seed=2))
    (out.square().mean() + out.mean()).backward()
    params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    missing = [n for n, p in params if p.grad is None]
    bad = [n for n, p in params if p.grad is not None and not torch.isfinite(p.grad).all()]
    zero = [n for n, p in params if p.grad is not None and not p.grad.abs().sum() > 0]
    return missing, bad, zero


def check_gradients(build: Model, label: str) -> None:
    spec = spec_of(label)
    model = build(label, 0)
    length = longest_supported(model.eval(), spec)
    missing, bad, zero = _zero_or_missing_grads(model, spec, length)
    if missing:
        raise Violation(f"no gradient reaches {_names(missing)} (unused, detached, or used under no_grad)")
    if bad:
        raise Violation(f"non-finite gradient for {_names(bad)}")
    if zero:
        # A zero-initialised layer zeroes the gradients upstream of it at initialisation only: perturb every
        # parameter and look again; what is still zero never influences the output.
        zero = _zero_or_missing_grads(perturbed(build(label, 0)), spec, length)[2]
        if zero:
            raise Violation(
                f"all-zero gradient for {_names(zero)}, even after perturbing the parameters: they never affect the output"
            )


def check_lengths(build: Model, label: str) -> None:
    spec = spec_of(label)
    model = build(label, 0).eval()
    if not supports_length(model, spec.seq_len):
        raise Violation(f"supports_length({spec.seq_len}) is False for the length it was built for")
    for length in sorted(
        {1, 2, spec.seq_len - 1, spec.seq_len, spec.seq_len + 3, spec.max_seq_len, 2 * spec.max_seq_len}
    ):
        if supports_length(model, length):
            try:
                out = forward(model, spec, 2, length, seed=length)
            except Exception as exc:
                raise Violation(f"supports_length({length}) is True but forward failed: {describe(exc)}") from exc
            if tuple(out.shape) != (2, length, spec.output_size):
                raise Violation(
                    f"T={length}: output shape {tuple(out.shape)}, expected {(2, length, spec.output_size)}"
                )
            continue
        try:
            forward(model, spec, 2, length, seed=length)
        except ArchbenchError as exc:
            if str(length) not in str(exc):
                raise Violation(
                    f"refuses length {length} (supports_length is False) but the error does not name it: {describe(exc)}"
                ) from exc
            continue
        except Exception as exc:
            raise Violation(
                f"refuses length {length} with {describe(exc)}; raise ArchbenchError naming the length"
            ) from exc
        raise Violation(
            f"supports_length({length}) is False but forward accepted length {length}; refuse it with an ArchbenchError"
        )


def check_size(model: nn.Module) -> tuple[int, int | None]:
    """`(parameters, state size)`; a model without parameters or with a malformed `state_size` breaks the rule."""
    count = num_parameters(model)
    if count <= 0:
        raise Violation("the model has no trainable parameters")
    value = getattr(model, "state_size", None)
    if value is not None and not (isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value > 0):
        raise Violation(f"state_size must be None or a positive integer; got {value!r}")
    return count, None if value is None else int(value)


def _names(names: list[str], shown: int = 3) -> str:
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


# ---------------------------------------------------------------------------------------------
# running them


PER_SPEC: dict[str, Callable[[Model, str], None]] = {
    "shape": check_shape,
    "causality": check_causality,
    "determinism": check_determinism,
    "gradients": check_gradients,
    "lengths": check_lengths,
}


def run_check(
    check: Callable[[Model, str], None], build: Model, name: str, labels: Sequence[str] = tuple(SPECS)
) -> CheckResult:
    """One check over every spec: the first failing spec's reason (and how many others fail), else pass
    (or skip, when it skipped on every spec)."""
    failures: list[str] = []
    skips: list[str] = []
    for label in labels:
        try:
            check(build, label)
        except Violation as exc:
            failures.append(f"{label}: {exc}")
        except Skipped as exc:
            skips.append(str(exc))
        except Exception as exc:  # a model raising is a failure of that model, never of check-arch
            failures.append(f"{label}: raised {describe(exc)}")
    if failures:
        more = f" (fails on {len(failures) - 1} more spec(s))" if len(failures) > 1 else ""
        return CheckResult(name, "fail", failures[0] + more)
    if skips and len(skips) == len(labels):
        return CheckResult(name, "skip", skips[0])
    return CheckResult(name, "pass")


def check_architecture(arch: str, preset: str | None = None, overrides: dict[str, Any] | None = None) -> Report:
    """Hold `arch` (at `preset`, plus `overrides`) to the contract on every spec in `SPECS`.

    `preset=None` takes `tiny` where the architecture has it (small and fast), else its defaults.
    A user mistake (unknown name, preset or hyper-parameter; a builder refusing the user's overrides)
    raises `ArchbenchError`; everything the model itself does wrong is a failed check in the report.
    """
    entry = get_architecture(arch)  # unknown name: user error
    if preset is None:
        preset = DEFAULT_PRESET if DEFAULT_PRESET in entry.presets else None
    specs = specs_for(arch)
    if not specs:
        raise ArchbenchError(
            f"architecture {arch!r} reads the input layout {entry.layout!r}, which check-arch has no spec for"
        )
    hparams = {label: resolve_hparams(arch, spec, preset, overrides) for label, spec in specs.items()}
    labels = tuple(specs)

    def build(label: str, seed: int) -> nn.Module:
        seed_everything(seed)
        return build_architecture(arch, specs[label], **hparams[label])

    report = Report(arch)
    try:
        sized = build(SIZE_SPEC if SIZE_SPEC in specs else labels[0], 0)
    except ArchbenchError:
        if overrides:
            raise  # the builder refuses what the user set: a user error, exit 2
        sized = None
    except Exception:
        sized = None
    shape = run_check(check_shape, build, "shape", labels)
    report.results.append(shape)
    for name in CHECKS[1:-1]:
        if shape.status == "fail":
            report.results.append(CheckResult(name, "skip", "not run: the shape check failed"))
        else:
            report.results.append(run_check(PER_SPEC[name], build, name, labels))
    if sized is None:
        report.results.append(CheckResult("size", "skip", "not run: the model does not build (see shape)"))
    else:
        try:
            report.parameters, report.state_size = check_size(sized)
            report.results.append(CheckResult("size", "pass"))
        except Exception as exc:
            reason = str(exc) if isinstance(exc, Violation) else f"raised {describe(exc)}"
            report.results.append(CheckResult("size", "fail", reason))
    return report
