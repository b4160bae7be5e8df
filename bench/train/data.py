"""Training, validation and test streams for a task, generated in whole batches.

Streams use disjoint seeds derived from the run seed (`stable_seed(seed, stream, length)`), so the
training data never overlaps validation or test data and every stream is reproducible.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import IterableDataset

from bench.contract.seeds import stable_seed
from bench.contract.spec import Batch
from bench.contract.task import Task


def stream_generator(seed: int, stream: str, length: int) -> torch.Generator:
    """The generator of one stream ("train", "val", "test") at one length."""
    return torch.Generator().manual_seed(stable_seed(seed, stream, length))


def fixed_set(task: Task, n: int, length: int, seed: int, stream: str, chunk: int = 4096) -> Batch:
    """`n` examples of `stream`, generated in chunks so large sets do not spike memory."""
    generator = stream_generator(seed, stream, length)
    parts = [task.sample(min(chunk, n - start), length, generator) for start in range(0, n, chunk)]
    return Batch(*(torch.cat(t) for t in zip(*parts)))


class TrainStream(IterableDataset):
    """Endless whole batches: fresh samples each step (online) or reshuffled passes over `n_train`."""

    def __init__(self, task: Task, batch_size: int, seed: int, n_train: int | None) -> None:
        super().__init__()
        self.task, self.batch_size, self.seed, self.n_train = task, batch_size, seed, n_train

    def __iter__(self) -> Iterator[Batch]:
        generator = stream_generator(self.seed, "train", self.task.length)
        if self.n_train is None:
            while True:
                yield self.task.sample(self.batch_size, self.task.length, generator)
        data = fixed_set(self.task, self.n_train, self.task.length, self.seed, "train")
        order_generator = stream_generator(self.seed, "order", self.task.length)
        batch = min(self.batch_size, self.n_train)
        while True:
            order = torch.randperm(self.n_train, generator=order_generator)
            for start in range(0, self.n_train - batch + 1, batch):
                index = order[start : start + batch]
                yield Batch(data.x[index], data.y[index], data.mask[index])
