"""What the six MAD tasks share: source, vocabulary convention, metric, chance rule, validation, key-value recall.

Poli, Thomas, Nguyen, Ponnusamy, Deiseroth, Kersting, Suzuki, Hie, Ermon, Ré, Zhang, Massaroli 2024,
"Mechanistic Design and Scaling of Hybrid Architectures" (ICML 2024), and its code, MAD-Lab
(github.com/athms/mad-lab): the generators in `mad/data/instances.py`, the benchmark settings in
`configs/tasks/*.yml` (a baseline plus a grid of "changes", each trained separately), the metric in
`mad/metrics.py` and `mad/model/pl_model_wrapper.py`. The distributions are re-expressed here with a
`torch.Generator` (same distributions, not MAD's numpy random streams); every place where one differs from
MAD-Lab's generator is listed in the task module's docstring.

Conventions every task keeps from MAD:
- `vocab_size` is MAD's: all tokens, the task's special tokens included, with MAD's token layout (e.g. keys in
  the lower half, values in the upper half of the non-special tokens). It is also the number of output
  classes: MAD's language-model head predicts over the whole vocabulary, so a model can be wrong by
  predicting a special token. (Compression adds one input-only readout token; see its module.)
- `length` is MAD's `seq_len`; `spec(length).seq_len` is the number of positions MAD's generator hands the
  model (`length - 1` for in-context and noisy recall, whose multi-query sequences lose one token to the
  autoregressive shift).
- Metric `macro_accuracy`: MAD scores with torchmetrics' `MulticlassAccuracy(num_classes=vocab_size,
  ignore_index=-100)`, whose default average is "macro": per-class recall over the scored (non-ignored)
  positions, pooled over the whole test set, averaged over the classes that occur as a target or a prediction.
- Multi-query recall (MAD's `multi_query: True` in every recall config): every value of a key already seen in
  the sequence is a target, so targets sit at several positions (`targets="several"` for all six tasks).

Chance (the best constant class, `MadTask.chance`): a constant prediction c is right on every target equal
to c and wrong on all others, so under the macro average it scores recall 1 on class c and 0 on each of the
other target classes, i.e. exactly 1/K, where K is the number of classes the scored targets take (any c among
them; a c outside them scores 0). Over any input-independent random guess q the macro average is
the sum of q_c over the target classes, divided by at least K classes, again at most 1/K. This is the large-test-set
value: on a test set in which only K' < K target classes occur, the constant scores 1/K'.

Departures common to all six tasks (each module lists its own on top):
- Training signal: MAD trains the recall tasks as language models (loss on every next token, the generator's
  `is_training=True` branch) and scores only the recall targets; archbench trains where it scores (one mask
  per batch), so the loss here covers the scored positions only. Compression, memorization and selective
  copying train on their scored positions in MAD too.
- Training-set size (MAD's `num_train_examples`, 12 800 at baseline, varied down to 800; 256 for memorization)
  is a training setting here (the harness's `n_train` and the sample-complexity search), not a task parameter.
- MAD trains each difficulty setting of its grid separately and never evaluates at another length; here the
  `paper` profile is MAD's baseline setting and the grid's longer sequence lengths are out-of-distribution
  evaluation lengths (archbench's length generalization, which MAD does not measure).
"""

from __future__ import annotations

from abc import abstractmethod

import torch

from bench.contract.errors import require
from bench.contract.spec import Batch, TaskSpec
from bench.contract.task import Task
from tasks.common import check_lengths, check_threshold, token_spec

FAMILY = "mad"
PAPER = (
    "Poli, Thomas, Nguyen, Ponnusamy, Deiseroth, Kersting, Suzuki, Hie, Ermon, Ré, Zhang, Massaroli 2024, "
    "Mechanistic Design and Scaling of Hybrid Architectures (ICML 2024)"
)
_FINDING = (
    "MAD's synthetic scores track compute-optimal perplexity at scale, and the hybrid architectures found with "
    "them (attention combined with gated convolutions or recurrences, plus sparsity) scale better than "
    "Transformer++, Hyena and Mamba"
)


def reported(per_architecture: str) -> str:
    """The `reported` line of a MAD task: MAD's headline finding, then the per-architecture picture on this task
    from the MAD table of Yang, Wang, Zhang, Shen, Kim 2024, "Parallelizing Linear Transformers with the Delta
    Rule over Sequence Length" (which adds DeltaNet to MAD's Transformer, Hyena, Mamba and GLA)."""
    return f"{_FINDING} (Poli et al. 2024). On this task, in the MAD table of Yang et al. 2024 (DeltaNet): {per_architecture}."


class MadTask(Task):
    """A MAD task (not registered): the source, the metric, the family and the chance rule 1 / K."""

    metric = "macro_accuracy"
    paper = PAPER
    family = FAMILY

    vocab_size: int

    @property
    @abstractmethod
    def target_classes(self) -> int:
        """K: the number of classes the scored targets take, each with positive probability."""

    @property
    def chance(self) -> float:
        return 1.0 / self.target_classes

    def check_common(self, minimum_length: int, even: bool = False) -> None:
        """Training and evaluation lengths (>= `minimum_length`, longer evaluation lengths, even when `even`),
        then `solved_at` above chance; call after the task's own checks (chance needs a valid vocabulary)."""
        check_lengths(self.name, self.length, self.eval_lengths, minimum_length)
        if even:
            for length in self.all_lengths:
                require(
                    length % 2 == 0,
                    f"task {self.name!r}: every length must be even (key-value pairs); got {length}",
                )
        check_threshold(self.name, self.solved_at, self.chance)


def check_at_least(task: str, name: str, value: int, minimum: int, why: str) -> None:
    """One-line error for an integer parameter below its minimum, saying why the minimum is what it is."""
    require(value >= minimum, f"task {task!r}: {name} must be >= {minimum} ({why}); got {value}")


class KeyValueRecall(MadTask):
    """MAD's multi-query in-context recall with optional noise pairs (not registered).

    Shared by `mad_in_context_recall` (no noise) and `mad_noisy_recall`. Token layout (MAD, multi-query):
    the non-special tokens are the first `vocab_size - noise_vocab_size`; keys are their lower half
    0..K-1 (K = non-special // 2), values the rest, noise tokens the top `noise_vocab_size` tokens.
    A sequence of MAD length L holds L/2 - 1 context pairs then one final query pair; each context pair is,
    with probability `frac_noise`, two uniform noise tokens, else a uniform key followed by its value (drawn
    uniformly from the values the first time the key occurs in the sequence, repeated afterwards). The final
    pair's key is uniform over the distinct keys already shown. After MAD's autoregressive shift the model
    sees the L - 1 tokens up to the final key, and the target at a key position is that key's value when the
    key was shown before (every repeated key and the final query): mask True exactly there.
    """

    length: int

    def noise(self) -> tuple[int, float]:
        """(noise_vocab_size, frac_noise): no noise unless a subclass says so."""
        return 0, 0.0

    @property
    def num_keys(self) -> int:
        return (self.vocab_size - self.noise()[0]) // 2

    @property
    def num_values(self) -> int:
        return self.vocab_size - self.noise()[0] - self.num_keys

    @property
    def target_classes(self) -> int:
        # every target is a value; each value is uniform over the value tokens whatever the sequence
        return self.num_values

    def check_vocabulary(self) -> None:
        noise_vocab, _ = self.noise()
        check_at_least(
            self.name,
            "vocab_size - noise_vocab_size" if noise_vocab else "vocab_size",
            self.vocab_size - noise_vocab,
            4,
            "at least 2 keys and 2 values",
        )

    def spec(self, length: int | None = None) -> TaskSpec:
        return token_spec(self, length, self.vocab_size, self.vocab_size, positions=lambda n: n - 1)

    def sample(self, n: int, length: int, generator: torch.Generator) -> Batch:
        require(length >= 4 and length % 2 == 0, f"task {self.name!r}: length must be even and >= 4; got {length}")
        noise_vocab, frac_noise = self.noise()
        keys_n, values_n = self.num_keys, self.num_values
        pairs = length // 2 - 1  # context pairs before the final query
        keys = torch.randint(0, keys_n, (n, pairs), generator=generator)
        value_of = torch.randint(keys_n, keys_n + values_n, (n, keys_n), generator=generator)  # per key, per row
        values = value_of.gather(1, keys)
        noisy = torch.zeros(n, pairs, dtype=torch.bool)
        if frac_noise > 0:
            noisy = torch.rand(n, pairs, generator=generator) < frac_noise
            kept = torch.randint(0, pairs, (n,), generator=generator)  # one context pair is never noise
            noisy[torch.arange(n), kept] = False
            first_noise = keys_n + values_n
            noise = torch.randint(first_noise, first_noise + noise_vocab, (n, pairs, 2), generator=generator)
            keys = torch.where(noisy, noise[..., 0], keys)
            values = torch.where(noisy, noise[..., 1], values)
        # the first context pair showing each key (`pairs` if none), without an (n, pairs, keys) table
        slot = keys.clamp(max=keys_n - 1)  # noise pairs point anywhere but never count
        position = torch.arange(pairs).expand(n, pairs).masked_fill(noisy, pairs)
        first = torch.full((n, keys_n), pairs).scatter_reduce(1, slot, position, reduce="amin")
        repeated = ~noisy & (position > first.gather(1, slot))
        present = first < pairs  # (n, keys): the distinct keys shown
        scores = torch.rand(n, keys_n, generator=generator).masked_fill(~present, -1.0)
        query = scores.argmax(1)  # uniform over the keys shown
        x = torch.empty(n, 2 * pairs + 1, dtype=torch.long)
        x[:, 0 : 2 * pairs : 2], x[:, 1 : 2 * pairs : 2], x[:, -1] = keys, values, query
        y = torch.zeros_like(x)
        mask = torch.zeros_like(x, dtype=torch.bool)
        y[:, 0 : 2 * pairs : 2] = torch.where(repeated, values, 0)
        mask[:, 0 : 2 * pairs : 2] = repeated
        y[:, -1], mask[:, -1] = value_of.gather(1, query.unsqueeze(1)).squeeze(1), True
        return Batch(x, y, mask)
