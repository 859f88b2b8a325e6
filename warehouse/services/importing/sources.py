"""Where the planned rows come from: this process for a small file, a reader process for a big one.

The reader process is `python -m warehouse.services.importing` (the package's `__main__`), which runs
`_read_in_child`; the chunks it pickles are `planner` classes, found by the same module path here.
"""

from __future__ import annotations

import gc
import logging
import os
import pickle
import queue
import resource
import signal
import subprocess
import sys
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from warehouse import transfer_act
from warehouse.services.importing.errors import ActImportError
from warehouse.services.importing.planner import _Chunk, _Plan, _Planner
from warehouse.transfer_act import ActFormatError, Problem, Reason

log = logging.getLogger("warehouse.services.importing")
READER_NICENESS = 10  # the reader process yields the CPU to scans (it holds no lock, unlike the writer)
READ_AHEAD = 3  # chunks of rows the writer may have waiting from the reader process (about 8 MB each)
# The reader process's address space, in MB (RLIMIT_AS): no file, however made, can make it take more.
# A full truck (a million codes) reads in about 300 MB; the environment variable sets another limit.
MEMORY_ENV = "WAREHOUSE_READER_MEMORY_MB"
DEFAULT_MEMORY_MB = 512
MEMORY_EXIT = 75  # the reader process's exit code when it ran out of memory


def reader_memory_mb() -> int:
    """The reader process's memory limit in MB (`WAREHOUSE_READER_MEMORY_MB`, 512 by default; 0: none)."""
    return int(os.environ.get(MEMORY_ENV, DEFAULT_MEMORY_MB))


def out_of_memory() -> ActImportError:
    return ActImportError([Problem("file", Reason.OUT_OF_MEMORY, str(reader_memory_mb()))])


class _InlineSource:
    """The file's lines read and planned in this process (small files: a reader process costs more)."""

    def __init__(self, reader: transfer_act.ActReader, act_id: int, base: int) -> None:
        self.reader = reader
        self.planner = _Planner(act_id, base)
        self.problems: list[Problem] = []
        self.plan = self.planner.plan

    def __iter__(self) -> Iterator[_Chunk]:
        yield from self.planner.chunks(self.reader.lines())
        self.problems = list(self.reader.problems)

    def close(self) -> None:
        pass


class _ProcessSource:
    """The file's lines parsed, checked and planned in a child process, streamed back in chunks of rows.

    Reading and checking a million codes costs about as much CPU as writing them; in two processes the
    two halves overlap on a 2-core machine. The pipe holds at most a chunk or two, so memory stays flat.
    A child that cannot start or fails before its first chunk is replaced by reading in this process.
    """

    def __init__(self, path: Path, reader: transfer_act.ActReader, act_id: int, base: int) -> None:
        self.reader, self.act_id, self.base = reader, act_id, base
        root = str(Path(__file__).resolve().parents[3])  # the checkout: warehouse/services/importing/ is 3 up
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
        self.proc = subprocess.Popen(  # noqa: S603 (our own interpreter and module, a path as the argument)
            [sys.executable, "-m", "warehouse.services.importing", str(path), str(act_id), str(base)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            env=env,
        )
        self.problems: list[Problem] = []
        self.plan = _Plan()

    def _messages(self) -> Iterator[tuple[str, Any]]:
        """The child's messages, read ahead by a thread, up to READ_AHEAD chunks: the child never waits for
        the writer, and unpickling overlaps the database's work (the drivers release the GIL meanwhile)."""
        stdout = self.proc.stdout
        assert stdout is not None
        ahead: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=READ_AHEAD)
        stop = threading.Event()

        def pump() -> None:
            kind = "chunk"
            while kind == "chunk" and not stop.is_set():
                try:
                    kind, payload = pickle.load(stdout)  # noqa: S301 (our own child process)
                except (EOFError, pickle.UnpicklingError, OSError, ValueError):
                    code = self.proc.wait()
                    # Out of memory, or killed (the kernel's OOM killer, a C library that aborted on it).
                    killed = code == MEMORY_EXIT or (code < 0 and code != -signal.SIGTERM)
                    kind = "killed" if killed else "error"
                    payload = f"ended early (exit code {code})"
                while not stop.is_set():
                    try:
                        ahead.put((kind, payload), timeout=0.1)
                        break
                    except queue.Full:
                        continue

        threading.Thread(target=pump, name="act-reader-pipe", daemon=True).start()
        try:
            while True:
                message = ahead.get()
                yield message
                if message[0] != "chunk":
                    return
        finally:
            stop.set()  # the writer gave up early: the pump ends when close() kills the child

    def __iter__(self) -> Iterator[_Chunk]:
        started = False
        for kind, payload in self._messages():
            if kind == "chunk":
                started = True
                yield payload
            elif kind == "end":
                self.problems, self.plan = payload
                return
            elif kind == "killed":
                # Never read again in this process: the file is what took the memory.
                log.warning("act reader process ran out of memory: %s", payload)
                raise out_of_memory()
            elif started:
                raise RuntimeError(f"act reader process failed: {payload}")
            else:
                log.warning("act reader process failed, reading in this process: %s", payload)
                inline = _InlineSource(self.reader, self.act_id, self.base)
                yield from inline
                self.problems, self.plan = inline.problems, inline.plan
                return

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@contextmanager
def _few_collections() -> Iterator[None]:
    """Collect the young generation every 20,000 new objects instead of 700 while an act is read.

    A million rows and lines are allocated and live on for a while, none in a reference cycle: at the
    default threshold the collector walks them thousands of times, about a sixth of the reading time.
    """
    threshold = gc.get_threshold()
    gc.set_threshold(20_000, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)


@contextmanager
def _line_source(
    path: Path, reader: transfer_act.ActReader, act_id: int, base: int, parallel_min_bytes: int
) -> Iterator[_InlineSource | _ProcessSource]:
    """A file of `parallel_min_bytes` or more is read in a second process."""
    source: _InlineSource | _ProcessSource
    try:
        big = path.stat().st_size >= parallel_min_bytes
        source = _ProcessSource(path, reader, act_id, base) if big else _InlineSource(reader, act_id, base)
    except OSError:
        source = _InlineSource(reader, act_id, base)
    try:
        yield source
    finally:
        source.close()


def _read_in_child(path: str, act_id: int, base: int) -> None:
    """The reader process: pickled chunks of rows on stdout, then the reader's problems and the plan."""
    out = sys.stdout.buffer
    # On a 2-core station the reader and the writer of a big import would take both cores from the request
    # threads that record scans; the writer holds the write lock, so only the reader is made to wait.
    os.nice(READER_NICENESS)
    limit = reader_memory_mb()
    if limit > 0:
        resource.setrlimit(resource.RLIMIT_AS, (limit << 20, limit << 20))
    try:
        reader = transfer_act.read_act(path)
        gc.set_threshold(20_000)  # see _few_collections
        planner = _Planner(act_id, base)
        for chunk in planner.chunks(reader.lines()):
            pickle.dump(("chunk", chunk), out, protocol=pickle.HIGHEST_PROTOCOL)
        pickle.dump(("end", (reader.problems, planner.plan)), out, protocol=pickle.HIGHEST_PROTOCOL)
    except ActFormatError as e:  # the parent read the header already: only a changed file gets here
        pickle.dump(("end", (e.problems, _Plan())), out)
    except MemoryError:
        # Nothing more is written (even a pickle may need memory); the exit code says why.
        os._exit(MEMORY_EXIT)
    except Exception:  # reported to the parent, which raises
        pickle.dump(("error", traceback.format_exc(limit=5)), out)
    out.flush()
