"""`manage.py bench --scale small` runs once, in CI's PostgreSQL pass: the report is complete
(every page and API list measured, jobs, ingestion, contended booking) and each page costs the
same queries on the small data set as on the tiny one. Figures are printed, budgets are not
enforced here (the machine is CI's)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from config.bench.plan import PAGE_KINDS

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    # The command makes its own databases (releve_bench_tiny, releve_bench_small) on the same
    # server, drops them afterwards; the name here only says which server.
    url = f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/postgres"
    path = tmp_path_factory.mktemp("bench") / "small.json"
    result = subprocess.run(
        [sys.executable, "manage.py", "bench", "--scale", "small", "--no-reuse", "--drop",
         "--requests", "3", "--concurrent-seconds", "3", "--json", str(path)],
        env={**os.environ, "DATABASE_URL": url}, cwd=ROOT, capture_output=True, text=True,
        timeout=900,
    )  # fmt: skip
    print(result.stdout[-6000:])
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(path.read_text())


def test_every_page_and_api_list_is_measured_and_answers(report):
    pages = report["pages"]
    assert {"floor", "site month calendar", "day page", "my planning", "open-days search",
            "nurse worklist", "exam tracker", "coverage", "dashboard (national)",
            "public catalogue", "sheet PDF", "iCal feed", "API exams", "API tasks",
            "API schema"} <= set(pages)  # fmt: skip
    for name, row in pages.items():
        assert row["status"] == [200], name
        assert row["kind"] in PAGE_KINDS
        assert row["p50_ms"] > 0, name
        assert row["p95_ms"] >= row["p50_ms"], name
        assert row["ratio_to_floor"] > 0, name


def test_each_page_costs_the_same_queries_at_both_scales(report):
    for name, row in report["pages"].items():
        counts = row["queries_by_scale"]
        assert set(counts) == {"tiny", "small"}
        assert counts["tiny"] == counts["small"], (name, counts)
    assert report["data_set"]["counts"]["vacations"] == 5000


def test_jobs_ingestion_and_contended_booking_are_reported(report):
    assert {"vacation_reminders", "escalate_tasks", "overdue_exams"} <= set(report["jobs"])
    assert {"HL7 single", "FHIR single", "HL7 batch", "FHIR batch (Bundle)"} <= set(
        report["ingestion"]
    )
    batch = report["ingestion"]["HL7 batch"]
    assert batch["answered"] == batch["messages"]
    # As a lab sends them: results for exams awaiting (matched) and unknown orders (quarantined).
    assert batch["outcomes"]["matched"] > 0
    assert batch["outcomes"]["quarantined"] > 0
    assert report["jobs"]["vacation_reminders_first_run"]["seconds"] >= 0
    contention = report["contention"]
    assert contention["requests"] > 0
    assert contention["requested"] > 0
    assert contention["check"] == {"same_date": 0, "over_quota": 0, "room_overbooked": 0}
    assert report["concurrent"]["requests"] > 0
    assert report["concurrent"]["errors"] == 0
    assert all("met" in budget for budget in report["budgets"])
