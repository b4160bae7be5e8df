"""State tracking: the running product of a sequence of group elements, predicted at every position.

Merrill, Petty, Sabharwal 2024, "The Illusion of State in State-Space Models"; Grazzi, Siems, Franke,
Zela, Hutter, Pontil 2024, "Unlocking State-Tracking in Linear RNNs Through Negative Eigenvalues".

Tokens index the elements of a finite group G, drawn uniformly and independently; the target at
position t is the index of the product g_1 g_2 ... g_t of the tokens so far (a class over G; mask True
everywhere). Groups (`group`):
  * parity: Z_2, tokens are bits, target = running XOR;
  * cyclic: Z_m with m = `modulus`, target = running sum mod m;
  * S5: the 120 permutations of {0..4}, index = rank in lexicographic order (index 0 = identity);
  * A5: the 60 even permutations, in the same order (index 0 = identity).
Permutations are tuples p with p[i] the image of i; the product is composition, (a b)(i) = a(b(i)), so
the state after t tokens is state_{t-1} composed with g_t (applied first). S5 is non-solvable (NC^1-
complete word problem), A5 its simple subgroup; parity and Z_m are the solvable/abelian controls.

Metric: token accuracy over all positions (exact match of the whole state sequence would be stricter:
one early error usually ruins every later state). Chance 1/|G|: the product of t >= 1 uniform
elements is uniform, so every target is uniform over G whatever the position.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar, Literal

import torch

from bench.contract.errors import require
from bench.contract.registry import register_task
from bench.contract.spec import Batch, TaskSpec
from bench.contract.task import Task
from tasks.common import check_lengths, check_threshold, token_spec

NAME = "state_tracking"
GroupName = Literal["parity", "cyclic", "S5", "A5"]
GROUPS = ("parity", "cyclic", "S5", "A5")


def _is_even(perm: tuple[int, ...]) -> bool:
    inversions = sum(1 for i in range(len(perm)) for j in range(i + 1, len(perm)) if perm[i] > perm[j])
    return inversions % 2 == 0


@lru_cache(maxsize=None)
def permutation_group(name: str) -> tuple[tuple[tuple[int, ...], ...], torch.Tensor]:
    """Elements of S5 or A5 (lexicographic order) and the composition table `table[a, b] = index(a b)`."""
    elements = tuple(p for p in itertools.permutations(range(5)) if name == "S5" or _is_even(p))
    index = {p: i for i, p in enumerate(elements)}
    table = torch.tensor([[index[tuple(a[b[i]] for i in range(5))] for b in elements] for a in elements], dtype=torch.long)
    return elements, table


@register_task(NAME)
@dataclass
class StateTracking(Task):
    """Running product of group elements (parity, Z_m, S5, A5) at every position (Merrill 2024; Grazzi 2024)."""

    metric = "accuracy"
    paper = "Merrill, Petty, Sabharwal 2024, The Illusion of State in State-Space Models; Grazzi et al. 2024, Unlocking State-Tracking in Linear RNNs Through Negative Eigenvalues"
    # What the source found, in words (bench.report.publish prints it under the task's heading).
    reported = ("Fixed-depth transformers and SSMs cannot express S5/A5 state tracking while RNNs can, and "
                "experiments agree (Merrill); linear RNNs solve parity only once negative eigenvalues are allowed"
                " (Grazzi).")
    profile_params: ClassVar[dict[str, dict[str, Any]]] = {
        "smoke": {"length": 6, "eval_lengths": (10,)},
        "paper": {"length": 40, "eval_lengths": (128, 256)},
    }

    group: GroupName = "S5"
    modulus: int = 5  # only for group="cyclic"
    length: int = 20
    eval_lengths: tuple[int, ...] = (40, 100)
    solved_at: float = 0.95

    def __post_init__(self) -> None:
        require(self.group in GROUPS, f"task {NAME!r}: group must be one of {', '.join(GROUPS)}; got {self.group!r}")
        require(self.modulus >= 2, f"task {NAME!r}: modulus must be >= 2 (the cyclic group Z_modulus); got {self.modulus}")
        check_lengths(NAME, self.length, self.eval_lengths)
        check_threshold(NAME, self.solved_at, self.chance)

    @property
    def order(self) -> int:
        """|G|: the number of tokens and of classes."""
        if self.group == "parity":
            return 2
        if self.group == "cyclic":
            return self.modulus
        return len(permutation_group(self.group)[0])

    @property
    def elements(self) -> tuple[Any, ...]:
        """Token index -> group element (an int for parity/cyclic, a permutation tuple for S5/A5)."""
        if self.group in ("parity", "cyclic"):
            return tuple(range(self.order))
        return permutation_group(self.group)[0]

    @property
    def chance(self) -> float:
        return 1.0 / self.order

    def spec(self, length: int | None = None) -> TaskSpec:
        return token_spec(self, length, self.order, self.order)

    def sample(self, n: int, length: int, generator: torch.Generator) -> Batch:
        tokens = torch.randint(0, self.order, (n, length), generator=generator)
        if self.group in ("parity", "cyclic"):
            states = tokens.cumsum(dim=1) % self.order
        else:
            table = permutation_group(self.group)[1]
            states = torch.empty_like(tokens)
            state = tokens[:, 0]
            states[:, 0] = state
            for t in range(1, length):
                state = table[state, tokens[:, t]]
                states[:, t] = state
        return Batch(tokens, states, torch.ones(n, length, dtype=torch.bool))
