"""What every state-tracking task shares: the running product of group elements at every position.

Merrill, Petty, Sabharwal 2024, "The Illusion of State in State-Space Models"; Grazzi, Siems, Franke,
Zela, Hutter, Pontil 2024, "Unlocking State-Tracking in Linear RNNs Through Negative Eigenvalues".

Tokens index the elements of a finite group G, drawn uniformly and independently; the target at
position t is the index of the product g_1 g_2 ... g_t of the tokens so far (a class over G; mask True
everywhere, so `targets="several"`). A task (`StateTracking` subclass) names its group: its order |G|, its
elements and the running product of a batch of token sequences.

Permutations (`PermutationGroup`: S5, A5) are tuples p with p[i] the image of i, indexed in lexicographic
order (index 0 = identity); the product is composition, (a b)(i) = a(b(i)), so the state after t tokens
is state_{t-1} composed with g_t (applied first).

Metric: token accuracy over all positions (exact match of the whole state sequence would be stricter:
one early error usually ruins every later state). Chance 1/|G|: the product of t >= 1 uniform
elements is uniform, so every target is uniform over G whatever the position.
"""

from __future__ import annotations

import itertools
from abc import abstractmethod
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar

import torch

from bench.contract.spec import Batch, TaskSpec
from bench.contract.task import Task
from tasks.common import check_lengths, check_threshold, token_spec

FAMILY = "state_tracking"
PAPER = (
    "Merrill, Petty, Sabharwal 2024, The Illusion of State in State-Space Models; Grazzi et al. 2024, "
    "Unlocking State-Tracking in Linear RNNs Through Negative Eigenvalues"
)
# What the sources found, in words (bench.report.publish prints it under the task's heading).
REPORTED = (
    "Fixed-depth transformers and SSMs cannot express S5/A5 state tracking while RNNs can, and "
    "experiments agree (Merrill); linear RNNs solve parity only once negative eigenvalues are allowed"
    " (Grazzi)."
)


@dataclass
class StateTracking(Task):
    """Running product of the elements of a finite group at every position (not registered)."""

    metric = "accuracy"
    paper = PAPER
    reported = REPORTED
    family = FAMILY
    profile_params: ClassVar[dict[str, dict[str, Any]]] = {
        "smoke": {"length": 6, "eval_lengths": (10,)},
        "paper": {"length": 40, "eval_lengths": (128, 256)},
    }

    length: int = 20
    eval_lengths: tuple[int, ...] = (40, 100)
    solved_at: float = 0.95

    def __post_init__(self) -> None:
        check_lengths(self.name, self.length, self.eval_lengths)
        check_threshold(self.name, self.solved_at, self.chance)

    @property
    @abstractmethod
    def order(self) -> int:
        """|G|: the number of tokens and of classes."""

    @property
    @abstractmethod
    def elements(self) -> tuple[Any, ...]:
        """Token index -> group element (an int for a cyclic group, a permutation tuple for S5/A5)."""

    @abstractmethod
    def running_product(self, tokens: torch.Tensor) -> torch.Tensor:
        """`(n, T)` element indices -> `(n, T)` indices of the products of each prefix."""

    @property
    def chance(self) -> float:
        return 1.0 / self.order

    def spec(self, length: int | None = None) -> TaskSpec:
        return token_spec(self, length, self.order, self.order, targets="several")

    def sample(self, n: int, length: int, generator: torch.Generator) -> Batch:
        tokens = torch.randint(0, self.order, (n, length), generator=generator)
        return Batch(tokens, self.running_product(tokens), torch.ones(n, length, dtype=torch.bool))


@dataclass
class CyclicGroup(StateTracking):
    """Z_m (not registered): tokens 0..m-1, the state is the running sum mod m."""

    @property
    def elements(self) -> tuple[Any, ...]:
        return tuple(range(self.order))

    def running_product(self, tokens: torch.Tensor) -> torch.Tensor:
        return tokens.cumsum(dim=1) % self.order


def _is_even(perm: tuple[int, ...]) -> bool:
    inversions = sum(1 for i in range(len(perm)) for j in range(i + 1, len(perm)) if perm[i] > perm[j])
    return inversions % 2 == 0


@cache
def permutation_group(even_only: bool) -> tuple[tuple[tuple[int, ...], ...], torch.Tensor]:
    """Elements of S5 (or of A5, its even permutations) in lexicographic order, and the composition table
    `table[a, b] = index(a b)`."""
    elements = tuple(p for p in itertools.permutations(range(5)) if not even_only or _is_even(p))
    index = {p: i for i, p in enumerate(elements)}
    table = torch.tensor(
        [[index[tuple(a[b[i]] for i in range(5))] for b in elements] for a in elements], dtype=torch.long
    )
    return elements, table


@dataclass
class PermutationGroup(StateTracking):
    """S5 or A5 (not registered): permutations of {0..4}, composed through the group's table."""

    even_only: ClassVar[bool]  # True: A5, the even permutations; False: all of S5

    @property
    def order(self) -> int:
        return len(self.elements)

    @property
    def elements(self) -> tuple[Any, ...]:
        return permutation_group(self.even_only)[0]

    def running_product(self, tokens: torch.Tensor) -> torch.Tensor:
        table = permutation_group(self.even_only)[1]
        states = torch.empty_like(tokens)
        state = tokens[:, 0]
        states[:, 0] = state
        for t in range(1, tokens.shape[1]):
            state = table[state, tokens[:, t]]
            states[:, t] = state
        return states
