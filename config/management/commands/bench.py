"""The benchmark: `python manage.py bench --scale small|large|national [--json PATH]`.

On PostgreSQL only. Generates (or reuses) a data set in its own database, `releve_bench_<scale>`
on the server of DATABASE_URL, starts gunicorn (2 workers) on loopback against it with the
bench's settings (`config.bench.settings`: a query count per response, the floor view), then
measures: a sequential pass over every page and API list (p50 / p95 / max, queries, ratio to the
floor), a concurrent pass (8 clients), HL7 and FHIR ingestion, contended booking (20 clients on
one site and month), and the periodic jobs (rolled back). Query counts are compared with the
same pages on a smaller data set (`tiny`). Budgets of issue 14 are shown met or missed; they are
not enforced (exit 0 unless the run itself fails).

The bench's accounts are opened directly as sessions (no sign-in, no second factor: the bench
server does not ask one) and API tokens. Ingestion and contended booking write to the data set
(a few hundred exams received, a month's open days taken); the jobs are rolled back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

SCALES = ("tiny", "small", "large", "national")
BASE_DIR = Path(settings.BASE_DIR)
SECRET = "bench-not-a-secret-" + "x" * 40

# (budget label, kind or name, metric, limit, comparison)
BUDGETS = {
    "page": ("page p95 ≤ 150 ms", 150),
    "api": ("API list p95 ≤ 100 ms", 100),
    "dashboard": ("dashboard/report p95 ≤ 300 ms", 300),
    "pdf": ("PDF p95 ≤ 50 ms", 50),
}
FLOOR_RATIO = 6
MAX_QUERIES = 15


class Command(BaseCommand):
    help = "Benchmark Relève on a generated data set (PostgreSQL): pages, API, jobs, ingestion."

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=SCALES, default="small")
        parser.add_argument("--json", dest="json_path", help="write the report there")
        parser.add_argument(
            "--reuse",
            action=__import__("argparse").BooleanOptionalAction,
            default=True,
            help="reuse the data set kept in releve_bench_<scale> (default); --no-reuse "
            "drops and generates it again",
        )
        parser.add_argument("--drop", action="store_true", help="drop the bench databases after")
        parser.add_argument("--requests", type=int, default=None, help="requests per page")
        parser.add_argument("--concurrent-seconds", type=float, default=None)
        parser.add_argument(
            "--compare",
            choices=SCALES,
            default="tiny",
            help="the smaller data set whose query counts are compared",
        )
        # Internal: a step run inside the bench database by the command itself.
        parser.add_argument("--phase", choices=["prepare", "jobs", "check"], help="(internal)")
        parser.add_argument("--out", help="(internal)")
        parser.add_argument("--check-args", help="(internal)")

    def handle(self, *args, scale, json_path, reuse, drop, phase, out, **options):
        if connection.vendor != "postgresql":
            raise CommandError(
                "bench runs on PostgreSQL only (set DATABASE_URL=postgres://...): SQLite says "
                "nothing about the production database's plans and locks."
            )
        if phase:
            return self._inside(phase, scale, out, options)
        started = time.monotonic()
        report = {
            "scale": scale,
            "command": " ".join(["python manage.py bench", *sys.argv[2:]]),
            "started_at": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
            "machine": _machine(),
        }
        n = options["requests"] or {"tiny": 10, "small": 20, "large": 30, "national": 40}[scale]
        seconds = options["concurrent_seconds"] or (10 if scale in ("tiny", "small") else 20)
        compare = options["compare"] if options["compare"] != scale else None
        databases = [compare, scale] if compare else [scale]
        plans, counts = {}, {}
        for name in databases:
            env = self._database(name, reuse=reuse)
            plans[name] = self._run_phase(env, "prepare", name)
            if name == compare:
                from config.bench.measure import Server, query_counts

                with Server(self._server_env(env), log=self._log(name)) as server:
                    counts[name] = query_counts(server.port, plans[name])
        env = self._env(scale)
        plan = plans[scale]
        report["data_set"] = plan["marker"]
        from config.bench import measure

        self.stdout.write(f"Measuring on releve_bench_{scale} (gunicorn, 2 workers)…")
        report["load_before"] = os.getloadavg()
        with measure.Server(self._server_env(env), log=self._log(scale)) as server:
            counts[scale] = measure.query_counts(server.port, plan)
            pages = measure.sequential(server.port, plan, n=n)
            concurrent = measure.concurrent(server.port, plan, seconds=seconds)
            ingestion = measure.ingestion(server.port, plan)
            contention = measure.contention(server.port, plan)
        report["load_after"] = os.getloadavg()
        if contention:
            contention["check"] = self._run_phase(
                env, "check", scale,
                extra=["--check-args", json.dumps(
                    [plan["contention"]["site"], plan["contention"]["year"],
                     plan["contention"]["month"]]
                )],
            )  # fmt: skip
        jobs = self._run_phase(env, "jobs", scale)
        floor = pages["floor"]["p50_ms"] or 0.001
        for name, row in pages.items():
            row["ratio_to_floor"] = round(row["p50_ms"] / floor, 1)
            row["queries_by_scale"] = {db: counts[db].get(name) for db in databases}
        report.update(
            pages=pages,
            concurrent=concurrent,
            ingestion=ingestion,
            contention=contention,
            jobs=jobs,
            budgets=_budgets(pages, concurrent, ingestion, jobs, databases),
            seconds=round(time.monotonic() - started, 1),
        )
        self._print(report)
        if json_path:
            Path(json_path).write_text(json.dumps(report, indent=2, default=str))
            self.stdout.write(f"Report written to {json_path}")
        if drop:
            for name in databases:
                _drop_database(name)

    # --- The bench database -----------------------------------------------------------------
    def _env(self, name: str) -> dict[str, str]:
        db = settings.DATABASES["default"]
        auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
        url = f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/"
        return {
            "DATABASE_URL": url + f"releve_bench_{name}",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or SECRET,
            "DEBUG": "false",
            "SECURE_SSL_REDIRECT": "false",
            "RELEVE_ENFORCE_MFA": "false",
            "PYTHONUNBUFFERED": "1",
        }

    def _server_env(self, env):
        return {**env, "DJANGO_SETTINGS_MODULE": "config.bench.settings", "CONN_MAX_AGE": "600"}

    def _log(self, name: str) -> Path:
        folder = BASE_DIR / "var" / "bench"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"gunicorn-{name}.log"

    def _database(self, name: str, *, reuse: bool) -> dict[str, str]:
        env = self._env(name)
        if not reuse:
            _drop_database(name)
        _create_database(name)
        self.stdout.write(f"releve_bench_{name}: migrating…")
        _manage(env, "migrate", "--noinput", "--verbosity", "0")
        return env

    def _run_phase(self, env, phase: str, scale: str, extra=()) -> dict:
        out = BASE_DIR / "var" / "bench" / f"{phase}-{scale}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        _manage(env, "bench", "--phase", phase, "--scale", scale, "--out", str(out), *extra,
                echo=self.stdout)  # fmt: skip
        return json.loads(out.read_text())

    def _inside(self, phase: str, scale: str, out: str, options) -> None:
        if phase == "prepare":
            from config.bench import generate, plan

            existing = generate.marker()
            if existing and (
                existing["scale"] != scale or existing["version"] != generate.GENERATOR_VERSION
            ):
                raise CommandError(
                    f"releve_bench_{scale} holds another data set ({existing}): run with --no-reuse"
                )
            if existing:
                self.stdout.write(f"releve_bench_{scale}: reusing the data set of "
                                  f"{existing['today']} ({existing['counts']})")  # fmt: skip
            else:
                self.stdout.write(f"releve_bench_{scale}: generating…")
                existing = generate.generate(scale, log=self.stdout.write)
                self.stdout.write(f"  generated in {existing['seconds']} s: {existing['counts']}")
            result = {**plan.build(), "marker": existing}
        elif phase == "jobs":
            from config.bench import jobs

            result = jobs.run()
        else:
            from config.bench import jobs

            result = jobs.double_bookings(*json.loads(options["check_args"]))
        Path(out).write_text(json.dumps(result, default=str))

    # --- Output -----------------------------------------------------------------------------
    def _print(self, report: dict) -> None:
        w = self.stdout.write
        dbs = list(next(iter(report["pages"].values()))["queries_by_scale"])
        w("")
        w(f"Relève bench — scale {report['scale']} — {report['started_at']} — "
          f"load {report['load_before'][0]:.1f} → {report['load_after'][0]:.1f}")  # fmt: skip
        w(f"Data set: {report['data_set']['counts']}")
        header = f"{'page':32} {'p50':>7} {'p95':>7} {'max':>7} {'×floor':>7} "
        header += " ".join(f"{'q ' + d:>9}" for d in dbs) + "  budget"
        w(header)
        verdicts = {b["name"]: b for b in report["budgets"] if "name" in b}
        for name, row in report["pages"].items():
            queries = " ".join(f"{row['queries_by_scale'][d]!s:>9}" for d in dbs)
            verdict = verdicts.get(name)
            mark = ""
            if verdict:
                mark = f"  {'met' if verdict['met'] else 'MISSED'} ({verdict['budget']})"
            w(f"{name[:32]:32} {row['p50_ms']:>7} {row['p95_ms']:>7} {row['max_ms']:>7} "
              f"{row['ratio_to_floor']:>7} {queries}{mark}")  # fmt: skip
        c = report["concurrent"]
        w(f"Concurrent ({c['clients']} clients, {c['seconds']} s): {c['requests_per_s']} req/s, "
          f"p50 {c['p50_ms']} ms, p95 {c['p95_ms']} ms, {c['errors']} errors")  # fmt: skip
        for name, row in report["ingestion"].items():
            w(f"Ingestion {name}: {json.dumps(row)}")
        if report["contention"]:
            w(f"Contended booking: {json.dumps(report['contention'])}")
        for name, row in report["jobs"].items():
            w(f"Job {name}: {json.dumps(row, default=str)}")
        w("Budgets (issue 14; not enforced):")
        for b in report["budgets"]:
            if "name" not in b:
                w(f"  {'met   ' if b['met'] else 'MISSED'} {b['budget']}: {b['value']}")
        w(f"Total {report['seconds']} s.")


def _budgets(pages, concurrent, ingestion, jobs, databases) -> list[dict]:
    budgets = []
    for name, row in pages.items():
        if row["kind"] in BUDGETS:
            label, limit = BUDGETS[row["kind"]]
            budgets.append({"name": name, "budget": label, "value": row["p95_ms"],
                            "met": row["p95_ms"] <= limit})  # fmt: skip
    ratios = {n: r["ratio_to_floor"] for n, r in pages.items() if r["kind"] != "floor"}
    worst = max(ratios, key=ratios.get)
    budgets.append({"budget": f"each page ≤ {FLOOR_RATIO}× the floor",
                    "value": f"worst {worst} {ratios[worst]}×",
                    "met": ratios[worst] <= FLOOR_RATIO})  # fmt: skip
    unequal = [n for n, r in pages.items() if len(set(r["queries_by_scale"].values())) > 1]
    budgets.append({"budget": f"queries equal at {' and '.join(databases)}",
                    "value": ", ".join(unequal) or "all equal", "met": not unequal})  # fmt: skip
    most = max(pages, key=lambda n: pages[n]["queries"] or 0)
    budgets.append({"budget": f"queries ≤ {MAX_QUERIES}",
                    "value": f"most {most} {pages[most]['queries']}",
                    "met": (pages[most]["queries"] or 0) <= MAX_QUERIES})  # fmt: skip
    rate, p95 = concurrent["requests_per_s"], concurrent["p95_ms"]
    budgets.append({"budget": "8 clients ≥ 75 req/s, p95 ≤ 200 ms",
                    "value": f"{rate} req/s, p95 {p95}",
                    "met": rate >= 75 and p95 <= 200})  # fmt: skip
    if "vacation_reminders" in jobs:
        budgets.append({"budget": "vacation_reminders for one day ≤ 10 s",
                        "value": jobs["vacation_reminders"]["seconds"],
                        "met": jobs["vacation_reminders"]["seconds"] <= 10})  # fmt: skip
    if "HL7 batch" in ingestion:
        rate = ingestion["HL7 batch"]["messages_per_s"]
        budgets.append({"budget": "HL7 batch ≥ 200 messages/s", "value": rate,
                        "met": rate >= 200})  # fmt: skip
    if "HL7 single" in ingestion:
        p50 = ingestion["HL7 single"]["p50_ms"]
        budgets.append({"budget": "HL7 single message p50 ≤ 20 ms", "value": p50,
                        "met": p50 <= 20})  # fmt: skip
    return budgets


def _machine() -> dict:
    info = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        info["memory_gib"] = round(pages / 2**30, 1)
    except (ValueError, OSError):
        pass
    try:
        info["os"] = Path("/etc/debian_version").read_text().strip()
    except OSError:
        pass
    with _maintenance() as conn:
        info["postgresql"] = conn.execute("SHOW server_version").fetchone()[0]
    return info


def _manage(env: dict, *args: str, echo=None) -> None:
    result = subprocess.run(
        [sys.executable, str(BASE_DIR / "manage.py"), *args],
        env={**os.environ, **env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True, text=True, cwd=BASE_DIR,
    )  # fmt: skip
    if echo is not None and result.stdout:
        echo.write(result.stdout.rstrip())
    if result.returncode != 0:
        raise CommandError(f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")


def _maintenance():
    import psycopg

    db = settings.DATABASES["default"]
    return psycopg.connect(
        host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"],
        password=db.get("PASSWORD") or None, dbname="postgres", autocommit=True,
    )  # fmt: skip


def _create_database(name: str) -> None:
    with _maintenance() as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [f"releve_bench_{name}"]
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "releve_bench_{name}"')


def _drop_database(name: str) -> None:
    with _maintenance() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "releve_bench_{name}" WITH (FORCE)')
