"""Executors: where the runs of a sweep train — one after another here, in a pool of local worker
processes, or as tasks on a Ray cluster.

archbench grows no scheduler of its own: independent runs go to an existing engine (multiprocessing,
Ray), big single runs to Lightning's strategies. Every executor has one job, `map`: train the runs and
yield `(run, record)` as each finishes. The records come back to the driver, which appends them to the
results store (`bench.run.plan.execute`), so every executor writes the same store the same way and a
sweep interrupted under one executor resumes under another. A run that raises gives a failed record
inside the worker (`bench.run.plan.run_record`); a worker that dies (the out-of-memory killer, a
segfault, SIGKILL) gives a failed record naming the signal, made by the driver, and the sweep goes on.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import signal
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any

from bench.contract.errors import ArchbenchError, require
from bench.results.schema import RunRecord
from bench.run.job import make_run_record, run_record
from bench.run.plan import PlannedRun
from bench.train.config import ProgressFn

EXECUTORS = ("serial", "local", "ray")
ProgressFor = Callable[[PlannedRun], "ProgressFn | None"]  # called when a run starts; returns its step reporter
Outcome = tuple[PlannedRun, RunRecord]
RAY_HINT = "the ray executor needs Ray: pip install 'archbench[ray]'"


class Executor(ABC):
    """Trains planned runs somewhere and hands their records back, as they finish, in any order."""

    name: str = ""

    @abstractmethod
    def map(
        self, runs: Sequence[PlannedRun], command: str | None = None, progress_for: ProgressFor | None = None
    ) -> Iterator[Outcome]:
        """Train every run; yield `(run, record)` (the same `run` object) as each finishes. Records are
        not stored here: the caller appends them."""

    def describe(self) -> str:
        return self.name


class SerialExecutor(Executor):
    """One run after another in this process (the default; what `archbench run` uses). With `threads`
    it sets this process's torch threads first; without, it leaves them as they are (a library caller's)."""

    name = "serial"

    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads

    def map(
        self, runs: Sequence[PlannedRun], command: str | None = None, progress_for: ProgressFor | None = None
    ) -> Iterator[Outcome]:
        if self.threads:
            set_threads(self.threads)
        for run in runs:
            yield run, run_record(run, command, progress_for(run) if progress_for else None)

    def describe(self) -> str:
        import torch

        return f"serial (one process, {self.threads or torch.get_num_threads()} threads)"


def usable_cores() -> int:
    """Cores this process may use (its CPU affinity, e.g. under taskset or a container), not the machine's."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


THREADS_ENV = "OMP_NUM_THREADS"


def default_threads(requested: int | None = None) -> int:
    """Torch threads for each training process: `requested` (`--threads`), else an explicit
    `OMP_NUM_THREADS`, else 1.

    Why 1 and not torch's default (one intra-op thread per core): with another process on the machine,
    runs of small models on the default were measured many times slower than on one thread, and one
    thread per run (per worker of a pool) never asks for more cores than there are. The count a run
    trained with is stored in its record (`environment.torch_threads`).
    """
    if requested is not None:
        require(requested > 0, f"--threads must be > 0; got {requested}")
        return requested
    text = os.environ.get(THREADS_ENV, "").strip()
    if not text:
        return 1
    try:
        value = int(text.split(",")[0])  # OpenMP allows a nested list, "4,2": the outer level is ours
    except ValueError:
        value = 0
    require(value > 0, f"{THREADS_ENV} must be a positive integer when set; got {text!r}")
    return value


def set_threads(threads: int) -> None:
    """Intra-op threads of this process (before any training, so that workers do not oversubscribe)."""
    import torch

    torch.set_num_threads(threads)


def death_reason(exitcode: int | None) -> str:
    """Why a worker process ended, from its exit code (negative: the signal that killed it)."""
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = str(-exitcode)
        hint = ": killed, e.g. by the out-of-memory killer" if -exitcode == signal.SIGKILL else ""
        return f"worker process died (signal {name}{hint})"
    return f"worker process died (exit code {exitcode})"


class LocalExecutor(Executor):
    """A pool of worker processes on this machine, each training one run at a time.

    Workers are long-lived (torch and Lightning import once per worker) and started from a fork server
    that has already imported archbench (spawn where there is no fork server), never forked from a
    driver that may hold threads. Each run travels to its worker through its own pipe, so the driver
    always knows which run a dead worker held; it records that run as failed, starts a new worker and
    goes on. Step progress comes back through the same pipe, so the display is the serial one.

    Default layout: one worker per usable core, each on `default_threads()` (one thread). Measured on a
    2-core machine with small models (README, "Scaling"): two one-thread workers gave more total
    throughput than one two-thread worker, because tiny models do not keep two intra-op threads busy
    while the Python and Lightning overhead of a step runs on one core either way.
    """

    name = "local"

    def __init__(
        self, workers: int | None = None, threads_per_worker: int | None = None, plugins: Sequence[str] = ()
    ) -> None:
        self.workers = max(1, usable_cores()) if workers is None else workers
        require(self.workers > 0, f"--workers must be > 0; got {self.workers}")
        self.threads = default_threads(threads_per_worker)
        self.plugins = list(plugins)

    def describe(self) -> str:
        return f"local ({self.workers} worker processes x {self.threads} threads)"

    def map(
        self, runs: Sequence[PlannedRun], command: str | None = None, progress_for: ProgressFor | None = None
    ) -> Iterator[Outcome]:
        todo = deque(runs)
        idle: list[_Worker] = []
        busy: dict[_Worker, tuple[PlannedRun, ProgressFn | None]] = {}
        try:
            while todo or busy:
                while todo and len(busy) < self.workers:
                    worker = idle.pop() if idle else _Worker(self.threads, self.plugins)
                    run = todo.popleft()
                    busy[worker] = (run, progress_for(run) if progress_for else None)
                    worker.send((run, command))
                wait([w.conn for w in busy] + [w.process.sentinel for w in busy])
                for worker in list(busy):
                    run, report = busy[worker]
                    record = worker.collect(run, report, command)
                    if record is None:
                        continue
                    del busy[worker]
                    if worker.process.is_alive():
                        idle.append(worker)
                    else:
                        worker.close()
                    yield run, record
        finally:
            for worker in idle:
                worker.stop()
            for worker in busy:  # interrupted (Ctrl-C, an exception in the caller): do not wait for them
                worker.kill()


class _Worker:
    """One worker process and the driver's end of its pipe."""

    def __init__(self, threads: int, plugins: list[str]) -> None:
        ctx = _context()
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, args=(child, threads, plugins), daemon=True)
        self.process.start()
        child.close()

    def send(self, job: tuple[PlannedRun, str | None]) -> None:
        try:
            self.conn.send(job)
        except OSError:  # died while idle; `collect` reports it against this run
            pass

    def collect(self, run: PlannedRun, report: ProgressFn | None, command: str | None) -> RunRecord | None:
        """Forward progress; the run's record once it is done (or failed because the worker died), else None."""
        try:
            while self.conn.poll():
                kind, payload = self.conn.recv()
                if kind == "progress" and report is not None:
                    report(*payload)
                elif kind == "done":
                    return payload
                elif kind == "error":
                    return make_run_record(run, None, f"worker could not load the run: {payload}", command)
        except (EOFError, OSError):
            pass  # the worker is gone; its pipe closed
        if self.process.is_alive():
            return None
        self.process.join()
        return make_run_record(run, None, death_reason(self.process.exitcode), command)

    def stop(self) -> None:
        self.send(None)  # type: ignore[arg-type]
        self.process.join(timeout=10)
        self.kill()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.close()

    def close(self) -> None:
        self.conn.close()


def _context() -> Any:  # a forkserver or spawn context (typeshed's BaseContext lacks Process)
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["bench.run.plan"])  # each new worker starts with torch and Lightning imported
        return ctx
    return mp.get_context("spawn")


def _worker_main(conn: Connection, threads: int, plugins: list[str]) -> None:
    """Worker loop: receive `(run, command)`, send back progress and the record; `None` ends it."""
    # Ctrl-C reaches the whole process group: the driver alone decides (it stops the workers and stores
    # only finished runs), so a worker must not turn it into a failed run of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        set_threads(threads)
        from bench.contract.registry import load_builtins, load_plugins

        # Before the first run arrives: unpickling it imports its task's module by name, which must find
        # archbench's own `tasks` (not a user's `tasks.py` on the path) or a plugin file's.
        load_builtins()
        load_plugins(plugins)
        while True:
            try:
                job = conn.recv()
            except (EOFError, OSError):
                return
            except Exception as exc:  # a run that cannot be unpickled here fails alone
                conn.send(("error", f"{type(exc).__name__}: {exc}"))
                continue
            if job is None:
                return
            run, command = job

            def report(step: int, max_steps: int, val: float | None) -> None:
                conn.send(("progress", (step, max_steps, val)))

            conn.send(("done", run_record(run, command, report)))
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group; the driver reports it
        return


class RayExecutor(Executor):
    """Each run a Ray task with its own CPU/GPU request, on the cluster at `address` (or on a Ray
    instance started here). Ray schedules; the records come back to the driver, which stores them, so
    the cluster's nodes need archbench (and any plugin) installed but no shared results directory."""

    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        cpus_per_run: float = 1,
        gpus_per_run: float = 0,
        threads_per_run: int | None = None,
        plugins: Sequence[str] = (),
    ) -> None:
        require(cpus_per_run > 0, f"--cpus-per-run must be > 0; got {cpus_per_run}")
        require(gpus_per_run >= 0, f"--gpus-per-run must be >= 0; got {gpus_per_run}")
        self.address, self.cpus, self.gpus = address, cpus_per_run, gpus_per_run
        self.threads = threads_per_run or max(1, int(cpus_per_run))
        self.plugins = list(plugins)
        import_ray()  # fail before planning output, not after

    def describe(self) -> str:
        where = self.address or "a local Ray instance"
        return f"ray ({where}; {self.cpus:g} CPU{f', {self.gpus:g} GPU' if self.gpus else ''} per run)"

    def map(
        self, runs: Sequence[PlannedRun], command: str | None = None, progress_for: ProgressFor | None = None
    ) -> Iterator[Outcome]:
        ray = import_ray()
        from ray.util.queue import Queue

        connected_here = not ray.is_initialized()
        if connected_here:
            ray.init(address=self.address, include_dashboard=False, log_to_driver=False, logging_level="error")
        try:
            events = Queue(actor_options={"num_cpus": 0})
            task = ray.remote(_ray_run).options(num_cpus=self.cpus, num_gpus=self.gpus, max_retries=0)
            # The run goes as pickled bytes: the task loads the plugins before unpickling it.
            pending = {
                task.remote(i, pickle.dumps(run), command, self.threads, self.plugins, events): i
                for i, run in enumerate(runs)
            }
            reports: dict[int, ProgressFn | None] = {}

            def forward_events() -> None:
                while not events.empty():
                    index, kind, payload = events.get_nowait()
                    if kind == "start":
                        reports[index] = progress_for(runs[index]) if progress_for else None
                    elif reports.get(index) is not None:
                        reports[index](*payload)  # type: ignore[misc]

            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1, timeout=0.5)
                forward_events()
                for ref in ready:
                    index = pending.pop(ref)
                    run = runs[index]
                    if index not in reports and progress_for:
                        progress_for(run)  # died before it could say it started
                    try:
                        record = ray.get(ref)
                    except ray.exceptions.RayError as exc:  # the worker died (OOM, signal) or could not start
                        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                        record = make_run_record(
                            run, None, f"worker process died (ray {type(exc).__name__}: {first})", command
                        )
                    yield run, record
        finally:
            if connected_here:
                ray.shutdown()


def _ray_run(
    index: int, payload: bytes, command: str | None, threads: int, plugins: list[str], events: Any
) -> RunRecord:
    """The Ray task: one run, its progress sent through `events` (a Ray queue) to the driver."""
    set_threads(threads)
    from bench.contract.registry import load_builtins, load_plugins

    load_builtins()  # before unpickling the run (see `_worker_main`)
    load_plugins(plugins)
    run = pickle.loads(payload)
    events.put_nowait((index, "start", None))
    last = [0.0]

    def report(step: int, max_steps: int, val: float | None) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.5 or step >= max_steps:  # each put is a round trip to the queue actor
            last[0] = now
            events.put_nowait((index, "progress", (step, max_steps, val)))

    return run_record(run, command, report)


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ArchbenchError(RAY_HINT) from None
    return ray


def make_executor(
    name: str,
    workers: int | None = None,
    threads: int | None = None,
    ray_address: str | None = None,
    cpus_per_run: float | None = None,
    gpus_per_run: float = 0,
    plugins: Sequence[str] = (),
) -> Executor:
    """The executor a command line asked for (`--executor` and its options)."""
    if name == "serial":
        return SerialExecutor(default_threads(threads))
    if name == "local":
        return LocalExecutor(workers, threads, plugins)
    if name == "ray":
        return RayExecutor(ray_address, cpus_per_run or threads or 1, gpus_per_run, threads, plugins)
    raise ArchbenchError(f"unknown executor {name!r}; valid: {', '.join(EXECUTORS)}")
