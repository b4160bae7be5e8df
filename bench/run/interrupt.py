"""Stopping a command cleanly on Ctrl-C (SIGINT) or SIGTERM: finished runs stay stored, the run in
progress is dropped (never stored half-trained), and the command says what it kept.

Why our own handlers: by default Ctrl-C raises `KeyboardInterrupt`, which Lightning catches inside
`Trainer.fit` and turns into `sys.exit(1)`, and SIGTERM makes Lightning raise `SIGTERMException`, a
`SystemExit` whose status is 0; so an interrupted command looked like a rule failure or a success.
`handle_signals` makes both raise `Interrupted`, a `BaseException` that Lightning re-raises after its
teardown and that the runner does not record as a failed run. A store append in progress is finished
first (`deferred`), so an interrupt never leaves a half-written record.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclass
class Kept:
    """What one batch of runs had when it was interrupted (filled by `bench.run.execute.execute`)."""

    total: int
    stored_before: int
    trained: int
    interrupted: list[str] = field(default_factory=list)  # labels of the runs that were training

    def describe(self) -> str:
        kept = self.stored_before + self.trained
        lost = ", ".join(self.interrupted) if self.interrupted else "none"
        return (
            f"{kept} of {self.total} runs stored ({self.trained} trained now, {self.stored_before} stored before); "
            f"interrupted, not stored: {lost}; {self.total - kept} left to train"
        )


class Interrupted(BaseException):
    """Raised in the main thread by SIGINT or SIGTERM under `handle_signals`.

    A `BaseException`, not an `Exception`: a run that is interrupted must not be recorded as failed.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.kept: Kept | None = None

    @property
    def exit_status(self) -> int:
        """The shell's convention: 128 + the signal number (130 for SIGINT, 143 for SIGTERM)."""
        return 128 + self.signum


class _State:
    def __init__(self) -> None:
        self.deferring = 0
        self.pending: int | None = None
        self.raised = False


_state = _State()


def _handler(signum: int, frame: Any) -> None:
    if _state.raised:  # already stopping: a second Ctrl-C must not break the clean-up of the first
        return
    if _state.deferring:
        _state.pending = signum
        return
    _state.raised = True
    raise Interrupted(signum)


@contextlib.contextmanager
def handle_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise `Interrupted` inside the block; the previous handlers come back after it.
    Outside the main thread (signals cannot be handled there) it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.getsignal(signum) for signum in SIGNALS}
    _state.deferring, _state.pending, _state.raised = 0, None, False
    for signum in SIGNALS:
        signal.signal(signum, _handler)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """A signal arriving inside the block takes effect when it ends (e.g. while a record is appended)."""
    _state.deferring += 1
    try:
        yield
    finally:
        _state.deferring -= 1
        if not _state.deferring and _state.pending is not None and not _state.raised:
            signum, _state.pending = _state.pending, None
            _state.raised = True
            raise Interrupted(signum)
