"""In-context language learning (ICLL): continue strings of a regular language known only from the prompt.

Akyürek, Wang, Kim, Andreas 2024 (ICML), "In-Context Language Learning: Architectures and Algorithms"
(REGBENCH; generator modelled on the authors' code, github.com/berlino/seq_icl, src/dataloaders/dfa.py).

Every example draws its own random automaton: a number of states uniform in [min_states, max_states],
an alphabet of a size uniform in [min_alphabet, max_alphabet] drawn uniformly from the `vocab` symbols,
and for every state between 1 and min(max_out_edges, alphabet size) outgoing edges (uniform count),
labelled by distinct alphabet symbols, each to a uniformly random state. Most (state, symbol) pairs
therefore have no edge: not every symbol is valid everywhere. Every state accepts. State 0 starts.

Encoding (symbols 0..vocab-1, DELIM = vocab; vocabulary and classes vocab + 1): the prompt is DELIM
followed by strings separated by DELIM; each string is a random walk from the start state of a length
uniform in [1, max_string_length] (the authors' code also draws empty strings), every step choosing
uniformly among the current state's edges.
The prompt runs for `length` + 1 tokens (the last string is cut); x = prompt[:length], y =
prompt[1:], mask True everywhere: next-token prediction at every position, `seq_len == length`.

Metric: the stored metric, and the leaderboard's column, is next-token accuracy against the actual
next token. The next token is random, so even the automaton itself cannot reach 1: at the defaults
the oracle that knows the automaton and the string-length distribution scores about 0.48, an
in-context trigram counter that also knows the string-length distribution about 0.40 (0.37 without
it), chance 0.149; hence solved_at = 0.38. The paper's score (the fraction of predictions that are
valid continuations under the prompt's automaton) is available as `dfa_validity(preds, batch)`, from
`valid_next_tokens(batch)`; both need the automata, which `sample()` attaches to its batch
(`DFABatch.transitions`).

Chance (the best input-independent predictor, computed from the parameters): by symmetry every symbol
is equally frequent, so the best constant is DELIM or any symbol: chance = max(r, (1 - r) / vocab)
with r the expected fraction of DELIM targets, from the renewal recursion of the string lengths.

Disjoint automata: train, validation and test streams use disjoint generator seeds (bench.train.data), and
every example draws a fresh automaton from its stream's generator, so the streams see different
automata (the tests check that no transition table is shared).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from bench.contract.errors import ArchbenchError, require
from bench.contract.registry import register_task
from bench.contract.spec import Batch, TaskSpec
from bench.contract.task import Task
from tasks.common import check_lengths, check_positive, check_threshold, token_spec

NAME = "icll_dfa"


class DFABatch(Batch):
    """A `Batch` that also carries each example's automaton as `transitions`: `(B, max_states, vocab)`
    long, the next state of (state, symbol), -1 where there is no edge. Indexing or concatenating the
    tuple (e.g. `bench.train.data.fixed_set`) gives a plain `Batch` without it."""

    transitions: torch.Tensor


def _attach(batch: Batch, transitions: torch.Tensor) -> DFABatch:
    out = DFABatch(*batch)
    out.transitions = transitions
    return out


def valid_next_tokens(batch: Batch, transitions: torch.Tensor | None = None) -> torch.Tensor:
    """`(B, T, vocab + 1)` bool: which tokens are valid continuations after x[:, :t+1] under each
    example's automaton (symbols with an edge from the current state; DELIM after a non-empty string)."""
    table = getattr(batch, "transitions", None) if transitions is None else transitions
    if table is None:  # not `require`: the type checker narrows `table` only on an explicit branch
        raise ArchbenchError(
            "valid_next_tokens needs the automata: pass a batch from IcllDFA.sample() "
            "(a DFABatch) or transitions=...; fixed_set and slicing drop them"
        )
    x = batch.x
    n, positions = x.shape
    vocab = table.shape[-1]
    rows = torch.arange(n)
    valid = torch.zeros(n, positions, vocab + 1, dtype=torch.bool)
    state = torch.zeros(n, dtype=torch.long)  # -1 once the prefix has left the automaton
    for t in range(positions):
        token = x[:, t]
        is_delim = token == vocab
        step = table[rows, state.clamp(min=0), token.clamp(max=vocab - 1)]
        state = torch.where(is_delim, torch.zeros_like(state), torch.where(state < 0, state, step))
        valid[:, t, :vocab] = (table[rows, state.clamp(min=0)] >= 0) & (state >= 0)[:, None]
        valid[:, t, vocab] = ~is_delim
    return valid


def dfa_validity(preds: torch.Tensor, batch: Batch, transitions: torch.Tensor | None = None) -> float:
    """Fraction of masked positions whose predicted token (`(B, T)` indices, or `(B, T, C)` logits
    reduced by argmax) is a valid continuation under the example's automaton (the paper's score)."""
    picks = preds.argmax(-1) if preds.dim() == 3 else preds
    ok = valid_next_tokens(batch, transitions).gather(-1, picks.long().unsqueeze(-1)).squeeze(-1)
    return float((ok & batch.mask).sum() / batch.mask.sum().clamp_min(1))


@register_task(NAME)
@dataclass
class IcllDFA(Task):
    """Next-token prediction on strings of a random automaton given in context (Akyürek et al. 2024)."""

    metric = "accuracy"
    paper = "Akyürek, Wang, Kim, Andreas 2024, In-Context Language Learning: Architectures and Algorithms"
    # What the source found, in words (bench.report.publish prints it under the task's heading).
    reported = (
        "Transformers clearly beat recurrent and convolutional models on in-context language learning "
        "(REGBENCH), an advantage traced to n-gram heads."
    )
    profile_params: ClassVar[dict[str, dict[str, Any]]] = {
        # smoke: oracle ~0.55, in-context trigram + string lengths ~0.50, chance 0.21
        "smoke": {
            "vocab": 8,
            "min_states": 2,
            "max_states": 4,
            "min_alphabet": 2,
            "max_alphabet": 4,
            "max_string_length": 6,
            "length": 32,
            "eval_lengths": (48,),
            "solved_at": 0.45,
        },
        # the authors' code: strings up to 50 symbols, 10 to 20 of them per prompt
        "paper": {"max_string_length": 50, "length": 512, "eval_lengths": (1024, 2048)},
    }

    vocab: int = 20  # symbols every automaton draws its alphabet from; the model's vocabulary adds DELIM
    min_states: int = 4
    max_states: int = 12
    min_alphabet: int = 4
    max_alphabet: int = 8
    max_out_edges: int = 4
    max_string_length: int = 10
    length: int = 64  # prompt tokens seen by the model
    eval_lengths: tuple[int, ...] = (128, 256)
    solved_at: float = 0.38

    def __post_init__(self) -> None:
        check_positive(
            NAME,
            min_states=self.min_states,
            min_alphabet=self.min_alphabet,
            max_out_edges=self.max_out_edges,
            max_string_length=self.max_string_length,
        )
        require(self.vocab >= 2, f"task {NAME!r}: vocab must be >= 2; got {self.vocab}")
        require(
            self.min_states <= self.max_states,
            f"task {NAME!r}: max_states must be >= min_states={self.min_states}; got {self.max_states}",
        )
        require(
            self.min_alphabet <= self.max_alphabet <= self.vocab,
            f"task {NAME!r}: max_alphabet must be in [min_alphabet={self.min_alphabet}, vocab={self.vocab}]; got {self.max_alphabet}",
        )
        check_lengths(NAME, self.length, self.eval_lengths)
        check_threshold(NAME, self.solved_at, self.chance)

    @property
    def delim(self) -> int:
        return self.vocab

    def delim_rate(self, length: int | None = None) -> float:
        """Expected fraction of DELIM among the `length` targets: renewal recursion over string lengths."""
        length = self.length if length is None else length
        hit = [1.0] + [0.0] * length  # hit[j] = P(prompt[j] is DELIM); prompt[0] always is
        for j in range(1, length + 1):
            hit[j] = (
                sum(hit[j - s - 1] for s in range(1, self.max_string_length + 1) if j - s - 1 >= 0)
                / self.max_string_length
            )
        return sum(hit[1:]) / length

    @property
    def chance(self) -> float:
        rate = self.delim_rate()
        return max(rate, (1.0 - rate) / self.vocab)

    def spec(self, length: int | None = None) -> TaskSpec:
        return token_spec(self, length, self.vocab + 1, self.vocab + 1)

    def sample_dfas(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """`(n, max_states, vocab)` transition tables (-1: no edge), one random automaton per row."""
        states_max, vocab = self.max_states, self.vocab
        states = torch.randint(self.min_states, states_max + 1, (n,), generator=generator)
        alphabet_size = torch.randint(self.min_alphabet, self.max_alphabet + 1, (n,), generator=generator)
        in_alphabet = torch.rand(n, vocab, generator=generator).argsort(1).argsort(1) < alphabet_size[:, None]
        most = alphabet_size.clamp(max=self.max_out_edges)
        edges = 1 + (torch.rand(n, states_max, generator=generator) * most[:, None]).long()  # in [1, most]
        # rank the symbols of each state at random, alphabet first: the lowest `edges` ranks get an edge
        scores = torch.rand(n, states_max, vocab, generator=generator) + (~in_alphabet)[:, None, :].float()
        has_edge = scores.argsort(-1).argsort(-1) < edges[..., None]
        targets = (torch.rand(n, states_max, vocab, generator=generator) * states[:, None, None]).long()
        live = torch.arange(states_max)[None, :] < states[:, None]
        return torch.where(has_edge & live[..., None], targets, torch.full_like(targets, -1))

    def prompts(self, transitions: torch.Tensor, length: int, generator: torch.Generator) -> torch.Tensor:
        """`(n, length + 1)` prompts: DELIM, then random walks of the automata separated by DELIM."""
        n, vocab = transitions.shape[0], self.vocab
        rows = torch.arange(n)
        tokens = torch.full((n, length + 1), self.delim, dtype=torch.long)
        state = torch.zeros(n, dtype=torch.long)
        emitted = torch.zeros(n, dtype=torch.long)  # symbols of the current string so far
        planned = 1 + (torch.rand(n, generator=generator) * self.max_string_length).long()
        for t in range(1, length + 1):
            edges = transitions[rows, state]  # (n, vocab)
            scores = torch.rand(n, vocab, generator=generator).masked_fill(edges < 0, -1.0)
            symbol = scores.argmax(1)  # uniform among the state's edges (every state has one)
            fresh = 1 + (torch.rand(n, generator=generator) * self.max_string_length).long()
            done = emitted >= planned
            tokens[:, t] = torch.where(done, torch.full_like(symbol, self.delim), symbol)
            state = torch.where(done, torch.zeros_like(state), edges.gather(1, symbol[:, None])[:, 0])
            emitted = torch.where(done, torch.zeros_like(emitted), emitted + 1)
            planned = torch.where(done, fresh, planned)
        return tokens

    def sample(self, n: int, length: int, generator: torch.Generator) -> DFABatch:
        require(length >= 1, f"task {NAME!r}: length must be >= 1; got {length}")
        transitions = self.sample_dfas(n, generator)
        tokens = self.prompts(transitions, length, generator)
        batch = Batch(tokens[:, :-1].clone(), tokens[:, 1:].clone(), torch.ones(n, length, dtype=torch.bool))
        return _attach(batch, transitions)

    def valid_next_tokens(self, batch: Batch, transitions: torch.Tensor | None = None) -> torch.Tensor:
        """See the module function `valid_next_tokens`."""
        return valid_next_tokens(batch, transitions)

    def dfa_validity(self, preds: torch.Tensor, batch: Batch, transitions: torch.Tensor | None = None) -> float:
        """See the module function `dfa_validity`."""
        return dfa_validity(preds, batch, transitions)
