"""A throwaway PostgreSQL cluster for the suite: initdb in a temp folder, a free port, torn down after."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

PG_BIN = Path(os.environ.get("WAREHOUSE_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    def __init__(self) -> None:
        if not (PG_BIN / "initdb").exists():
            raise RuntimeError(f"PostgreSQL server binaries not found in {PG_BIN}: run `make test` (it installs them)")
        self.dir = Path(tempfile.mkdtemp(prefix="warehouse-pg-"))
        self.port = _free_port()
        self._as_root = os.geteuid() == 0
        if self._as_root:  # initdb refuses to run as root
            shutil.chown(self.dir, "postgres", "postgres")
        self._run(f"{PG_BIN}/initdb -D {self.dir}/data -A trust -U postgres -E UTF8 --no-sync >/dev/null")
        opts = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(f"{PG_BIN}/pg_ctl -D {self.dir}/data -l {self.dir}/log -w -o '{opts}' start >/dev/null")
        self._n = 0

    def _run(self, cmd: str) -> None:
        args = ["su", "postgres", "-s", "/bin/sh", "-c", cmd] if self._as_root else ["sh", "-c", cmd]
        subprocess.run(args, check=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        import psycopg

        self._n += 1
        name = f"t{os.getpid()}_{self._n}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run(f"{PG_BIN}/pg_ctl -D {self.dir}/data -m immediate stop >/dev/null")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
