"""Faults on the way of a notification, with real processes: a private `redis-server` on a free
port as the broker, real Celery workers, and a database file they share with the Django side
(`tests/config/fault_cli.py`, run as a process of its own). The shared Redis and database of
the machine are never touched.

Emails are files (one per message, `tests.config.mail_backends.HoldingFileBackend`), counted by
their Message-ID header: "delivered once" is one file, at the end, whatever happened on the way.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
LEASE_SECONDS = 3  # RELEVE_NOTIFICATION_LEASE_SECONDS of every process here


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition, *, timeout: float, what: str, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            details = log.read_text(errors="replace")[-4000:] if log and log.exists() else ""
            pytest.fail(f"timed out waiting for {what}\n{details}")
        time.sleep(0.1)


class RedisServer:
    """A private redis-server, without persistence: stopping it loses what it held."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = (self.folder / "redis.log").open("a")
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        wait_for(lambda: self._pings(client), timeout=10, what="redis-server")

    @staticmethod
    def _pings(client) -> bool:
        try:
            return client.ping()
        except redis.ConnectionError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


class Worker:
    """`celery worker --pool=solo`: the task runs in the worker process itself, so SIGKILL on
    it is a worker dying in the middle of a delivery."""

    count = 0

    def __init__(self, env: dict, folder: Path) -> None:
        Worker.count += 1
        self.name = f"fault{Worker.count}"
        self.log = folder / f"{self.name}.log"
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                [CELERY, "-A", "config", "worker", "--pool=solo", "--loglevel=INFO",
                 f"--hostname={self.name}@%h", "--without-gossip", "--without-mingle",
                 "--without-heartbeat"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        wait_for(
            lambda: " ready." in self.log.read_text(), timeout=45, what="the worker", log=self.log
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def migrated_database(tmp_path_factory) -> Path:
    """One migrated SQLite file for the module; each test works on a copy of it."""
    path = tmp_path_factory.mktemp("faults") / "template.sqlite3"
    env = {**os.environ, "DEBUG": "true", "DATABASE_URL": f"sqlite:///{path}"}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT, env=env, check=True, timeout=120,
    )  # fmt: skip
    return path


class World:
    """The environment every process of a test shares, its private Redis and its workers."""

    def __init__(self, folder: Path, database: Path) -> None:
        self.folder = folder
        self.hold = folder / "hold"
        self.redis = RedisServer(folder)
        self.workers: list[Worker] = []
        self.env = {
            **os.environ,
            "DEBUG": "true",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": f"sqlite:///{database}",
            "CELERY_BROKER_URL": self.redis.url,
            # A killed worker's task comes back from the broker soon (see the SIGKILL test).
            "CELERY_VISIBILITY_TIMEOUT": "2",
            "EMAIL_BACKEND": "tests.config.mail_backends.HoldingFileBackend",
            "EMAIL_FILE_PATH": str(folder / "mail"),
            "EMAIL_TIMEOUT": "1",
            "RELEVE_NOTIFICATION_LEASE_SECONDS": str(LEASE_SECONDS),
            "RELEVE_TEST_HOLD": str(self.hold),
        }
        self.env.pop("REDIS_URL", None)  # the cache stays off Redis: it comes and goes here

    def worker(self) -> Worker:
        self.workers.append(Worker(self.env, self.folder))
        return self.workers[-1]

    def django(self, *args: str):
        """Run a `tests/config/fault_cli.py` command; its JSON answer."""
        result = subprocess.run(
            [sys.executable, "-m", "tests.config.fault_cli", *args],
            cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-4000:]
        return json.loads(result.stdout.strip().splitlines()[-1])

    def emails(self) -> list[str]:
        return emails_in(self.folder / "mail")

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.redis.stop()


@pytest.fixture
def world(tmp_path, migrated_database):
    database = tmp_path / "db.sqlite3"
    shutil.copy(migrated_database, database)
    world = World(tmp_path, database)
    world.redis.start()
    try:
        yield world
    finally:
        world.close()


def emails_in(folder: Path) -> list[str]:
    """The recipients of the emails written so far, one entry per message."""
    if not folder.exists():
        return []
    return [
        line[4:].strip()
        for path in sorted(folder.iterdir())
        for line in path.read_text(errors="replace").splitlines()
        if line.startswith("To: ")
    ]


def test_a_day_booked_while_redis_is_down_is_notified_once_redis_is_back(world):
    worker = world.worker()
    world.redis.stop()

    booked = world.django("book")

    # The request succeeded and the message waits in the database.
    assert (booked["status_code"], booked["day"]) == (302, "booked")
    assert booked["seconds"] < 10
    [queued] = booked["notifications"]
    assert (queued["kind"], queued["status"]) == ("vacation_booked", "queued")
    assert world.emails() == []

    world.redis.start()
    # The beat's sweeper, as it runs once the message is STALE_AFTER old.
    assert world.django("sweep", "6") == {"requeued": 1}
    wait_for(world.emails, timeout=30, what="the email", log=worker.log)
    assert world.django("sweep", "6") == {"requeued": 0}
    time.sleep(2)  # anything sent twice would be written by now

    assert world.emails() == [booked["volunteer"]]
    [sent] = world.django("state")
    assert (sent["status"], sent["attempts"]) == ("sent", 1)


def test_a_worker_killed_in_the_middle_of_a_delivery_sends_it_once_after_a_restart(world):
    world.hold.write_text("hold")  # the first worker stops inside the email backend
    first = world.worker()

    booked = world.django("book")
    wait_for(
        lambda: Path(f"{world.hold}.reached").exists(),
        timeout=30, what="the delivery to start", log=first.log,
    )  # fmt: skip
    first.kill()
    [claimed] = world.django("state")
    assert (claimed["status"], claimed["attempts"]) == ("sending", 1)
    assert world.emails() == []

    world.hold.unlink()
    # Past the dead worker's lease, with no worker alive (so the broker has redelivered
    # nothing yet), the sweeper sees the abandoned claim and hands the message over again.
    time.sleep(LEASE_SECONDS + 0.5)
    assert world.django("sweep") == {"requeued": 1}
    # The new worker gets it twice: the sweeper's task and the broker's redelivery of the
    # unacknowledged one. One of them claims it, the other is skipped.
    second = world.worker()
    wait_for(world.emails, timeout=30, what="the email", log=second.log)
    time.sleep(3)  # the other hand-over is skipped by now
    assert world.django("sweep") == {"requeued": 0}

    assert world.emails() == [booked["volunteer"]]
    [sent] = world.django("state")
    assert (sent["status"], sent["attempts"]) == ("sent", 2)
