from __future__ import annotations

import os
import socket

from django.db import OperationalError

from config.celery import app as celery_app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_it_reports_the_database_and_the_broker(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok"}


def test_the_broker_is_redis_when_configured_and_the_filesystem_otherwise(client, db):
    # CI runs the suite twice: embedded (no REDIS_URL) and against the machine's Redis.
    expected = "redis://" if os.environ.get("REDIS_URL") else "filesystem://"

    assert celery_app.conf.broker_url.startswith(expected)
    assert client.get("/healthz").json()["broker"] == "ok"


def test_a_broker_outage_is_reported_but_does_not_fail_the_probe(client, db, monkeypatch):
    monkeypatch.setattr(celery_app.conf, "broker_url", f"redis://127.0.0.1:{free_port()}/0")

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "down"}


def test_a_database_outage_answers_503(client, db, monkeypatch):
    class DownConnection:
        def cursor(self):
            raise OperationalError("connection refused")

    monkeypatch.setattr("config.views.connection", DownConnection())

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["database"] == "down"
