"""A throwaway PostgreSQL 15 cluster for the tests that need one: `postgres_url`, `fresh_database`.

`postgres_url` (session-scoped) initialises a cluster in a temp dir, starts it on 127.0.0.1 at a
free port (its socket inside that dir, trust authentication, user `postgres`), creates a database
and yields its URL; at the end it stops the server (`pg_ctl -m fast`) and removes the dir. The
server refuses to run as root, so as root it runs as the `postgres` user (`runuser`). Without the
binaries (/usr/lib/postgresql/15/bin or on PATH), or as root without `runuser` or a `postgres`
user, the tests that use it are skipped, naming what is missing. `fresh_database` makes a new
database per test, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

BIN_DIRS = (Path("/usr/lib/postgresql/15/bin"),)
START_TIMEOUT_S = 60


def _binary(name: str) -> str | None:
    for directory in BIN_DIRS:
        if (directory / name).is_file():
            return str(directory / name)
    return shutil.which(name)


def _as_server_user() -> tuple[list[str], str | None]:
    """The command prefix that runs a server binary (`runuser -u postgres --` as root), or why it cannot."""
    if os.geteuid() != 0:
        return [], None
    runuser = shutil.which("runuser")
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return [], "running as root and there is no `postgres` user to run the server as"
    if runuser is None:
        return [], "running as root and `runuser` is not installed (the server refuses to run as root)"
    return [runuser, "-u", "postgres", "--"], None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=START_TIMEOUT_S, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed ({done.returncode}): {(done.stderr or done.stdout)[-2000:]}")


def create_database(url: str, name: str) -> str:
    """Create database `name` on the server at `url`; its URL."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True, connect_timeout=10) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return url.rsplit("/", 1)[0] + "/" + name


def fresh_database(postgres_url: str) -> str:
    """A new, empty database on the test cluster; its URL."""
    return create_database(postgres_url, f"ao_{secrets.token_hex(6)}")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """`postgresql://postgres@127.0.0.1:PORT/ao_tests` on a cluster of its own, removed at the end."""
    binaries = {name: _binary(name) for name in ("initdb", "pg_ctl")}
    missing = sorted(name for name, path in binaries.items() if path is None)
    if missing:
        pytest.skip(f"PostgreSQL 15 is not installed: no {', '.join(missing)} in {BIN_DIRS[0]} or on PATH")
    prefix, problem = _as_server_user()
    if problem is not None:
        pytest.skip(problem)
    initdb, pg_ctl = str(binaries["initdb"]), str(binaries["pg_ctl"])
    root = Path(tempfile.mkdtemp(prefix="ao-postgres-"))
    data = root / "data"
    started = False
    try:
        if prefix:
            shutil.chown(root, "postgres", "postgres")
        _run(
            [*prefix, initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"],
            "initdb",
        )
        port = _free_port()
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c max_connections=200 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        log = str(root / "server.log")
        _run(
            [*prefix, pg_ctl, "-D", str(data), "-l", log, "-o", options, "-w", "-t", "30", "start"], "pg_ctl start"
        )
        started = True
        yield create_database(f"postgresql://postgres@127.0.0.1:{port}/postgres", "ao_tests")
    finally:
        if started:
            subprocess.run(
                [*prefix, pg_ctl, "-D", str(data), "-m", "fast", "-w", "-t", "30", "stop"],
                capture_output=True,
                timeout=START_TIMEOUT_S,
                check=False,
            )
        shutil.rmtree(root, ignore_errors=True)
