"""A real Celery worker on a private filesystem broker: the embedded stack of `make run`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))


@pytest.fixture
def worker(tmp_path):
    env = {
        **os.environ,
        "DEBUG": "true",
        "CELERY_BROKER_URL": "filesystem://",
        "CELERY_BROKER_DIR": str(tmp_path / "broker"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'worker.sqlite3'}",
    }
    env.pop("REDIS_URL", None)
    log = tmp_path / "worker.log"
    pidfile = tmp_path / "worker.pid"
    with log.open("w") as out:
        process = subprocess.Popen(
            [CELERY, "-A", "config", "worker", "--pool=solo", "--loglevel=INFO",
             f"--pidfile={pidfile}", "--hostname=test@%h"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        yield env, log
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_a_worker_answers_ping_and_runs_a_task_without_any_server(worker):
    env, log = worker
    deadline = time.monotonic() + 60
    reply = ""
    while time.monotonic() < deadline:
        result = subprocess.run(
            [CELERY, "-A", "config", "inspect", "ping", "--timeout", "3"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        reply = result.stdout
        if "pong" in reply:
            break
        time.sleep(1)
    assert "pong" in reply, log.read_text()

    send = "from accounts.tasks import heartbeat; heartbeat.delay()"
    subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {send}"],
        cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"}, check=True, timeout=60,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while "heartbeat" not in log.read_text() or "succeeded" not in log.read_text():
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.5)
