"""Helpers for tests that hammer the engine from threads and from other processes (Daphne,
the auction clock) against the one PostgreSQL test database pytest-django created."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from django.db import connection, connections

ROOT = Path(__file__).resolve().parents[2]
DAPHNE = str(Path(sys.executable).with_name("daphne"))


def shared_database_url() -> str:
    """DATABASE_URL of the test database this process uses (committed rows only reach another
    process from a transactional test)."""
    s = connection.settings_dict
    auth = s["USER"] or ""
    if s["PASSWORD"]:
        auth += f":{s['PASSWORD']}"
    host = s["HOST"] or "127.0.0.1"
    port = s["PORT"] or "5432"
    return f"postgres://{auth}@{host}:{port}/{s['NAME']}"


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment of a child Django process: the shared test database, quiet e-mail, a
    channel-layer prefix of its own so that parallel test runs never share groups."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="recycling.settings",
        DATABASE_URL=shared_database_url(),
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        CHANNELS_PREFIX=f"test-{uuid.uuid4().hex[:12]}",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_in_threads(fn: Callable[..., Any], args: Iterable[tuple], *, timeout: float = 120) -> list[Any]:
    """Run fn(*a) for each `a` in its own thread, all released together by a barrier; each thread
    has its own DB connection and closes it at the end. Returns the results in order; re-raises
    the first exception."""
    args = list(args)
    barrier = threading.Barrier(len(args))
    results: list[Any] = [None] * len(args)
    errors: list[BaseException] = []

    def run(index: int, a: tuple) -> None:
        try:
            barrier.wait(timeout=timeout)
            results[index] = fn(*a)
        except BaseException as exc:  # reported to the test below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, a), daemon=True) for i, a in enumerate(args)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), "a thread is still running (deadlock?)"
    if errors:
        raise errors[0]
    return results


class Daphne:
    """One `daphne recycling.asgi:application` process on a free loopback port."""

    def __init__(self, env: dict[str, str], *, name: str = "daphne") -> None:
        self.port = free_port()
        self.name = name
        self.log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"{name}-{self.port}-{uuid.uuid4().hex[:6]}.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [DAPHNE, "-b", "127.0.0.1", "-p", str(self.port), "recycling.asgi:application"],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str, scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not listen within {timeout}s:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL: no goodbye frames, no cleanup, like a crashed machine."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()
        self.log_path.unlink(missing_ok=True)

    def log(self) -> str:
        self._log.flush()
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""


def manage(*args: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
