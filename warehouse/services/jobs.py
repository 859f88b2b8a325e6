"""Long work (importing a million-code act, big reports) in a background thread with visible progress.

Jobs live in this process only: their results are in the database or a file, so losing the job table in
a restart loses the progress bar, never data.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from warehouse.timeutil import utcnow


@dataclass
class Job:
    id: str
    kind: str
    owner: int | None
    done: int = 0
    total: int | None = None
    finished: bool = False
    result: Any = None
    error: Any = None
    started_at: Any = field(default_factory=utcnow)
    _over: threading.Event = field(default_factory=threading.Event, repr=False)

    def wait(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the job to finish; whether it has."""
        return self._over.wait(timeout)

    @property
    def percent(self) -> int | None:
        if self.total:
            return min(100, int(self.done * 100 / self.total))
        return None


class Jobs:
    def __init__(self, keep: int = 100) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._keep = keep

    def start(self, kind: str, owner: int | None, work: Callable[[Job], Any], total: int | None = None) -> Job:
        job = Job(uuid.uuid4().hex, kind, owner, total=total)
        with self._lock:
            self._jobs[job.id] = job
            if len(self._jobs) > self._keep:
                for old in [j for j in self._jobs.values() if j.finished][: len(self._jobs) - self._keep]:
                    del self._jobs[old.id]

        def run() -> None:
            try:
                job.result = work(job)
            except Exception as e:  # handed to the page that polls the job; never lost silently
                job.error = e
            finally:
                job.finished = True
                job._over.set()

        threading.Thread(target=run, name=f"job-{kind}-{job.id[:8]}", daemon=True).start()
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)


jobs = Jobs()
