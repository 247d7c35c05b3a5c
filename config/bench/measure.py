"""HTTP measurements against the bench's gunicorn on loopback (bounded loops, loopback only)."""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from config.bench.middleware import HEADER

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    """gunicorn, 2 sync workers, on a free loopback port; stopped by its pid."""

    def __init__(self, env: dict[str, str], *, workers: int = 2, log: Path | None = None):
        self.port = free_port()
        self.env = env
        self.workers = workers
        self.log = log
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi:application",
             "--workers", str(self.workers), "--bind", f"{HOST}:{self.port}",
             "--timeout", "120", "--graceful-timeout", "5"],
            env={**os.environ, **self.env}, stdout=out, stderr=out,
            cwd=Path(__file__).resolve().parents[2],
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.process.returncode}); see {self.log}")
            try:
                status, _h, _b, _t = request(self.port, "/healthz")
                if status < 500:
                    return self
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError("gunicorn did not answer within 60 s")

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


_local = threading.local()


def request(port, path, *, cookie="", method="GET", body=None, headers=None):
    """One request; returns (status, query count, body length, seconds)."""
    conn = getattr(_local, "conn", None)
    if conn is None or conn.port != port:
        conn = _local.conn = http.client.HTTPConnection(HOST, port, timeout=120)
    sent = {"Host": "127.0.0.1", "Accept-Language": "fr", **(headers or {})}
    if cookie:
        sent["Cookie"] = cookie
    started = time.perf_counter()
    try:
        conn.request(method, path, body=body, headers=sent)
        response = conn.getresponse()
        data = response.read()
    except (http.client.HTTPException, OSError):
        conn.close()
        _local.conn = None
        raise
    elapsed = time.perf_counter() - started
    if response.getheader("Connection", "").lower() == "close":
        conn.close()
    queries = response.getheader(HEADER)
    return response.status, int(queries) if queries else None, data, elapsed


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    k = (len(ordered) - 1) * p / 100
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def query_counts(port: int, plan: dict) -> dict[str, int | None]:
    """One warm request, then one counted, per page."""
    counts = {}
    for page in plan["pages"]:
        cookie = plan["cookies"][page["persona"]]
        request(port, page["path"], cookie=cookie)
        status, queries, _body, _t = request(port, page["path"], cookie=cookie)
        counts[page["name"]] = queries if status == 200 else None
    return counts


def sequential(port: int, plan: dict, *, n: int, warmup: int = 2) -> dict[str, dict]:
    results = {}
    for page in plan["pages"]:
        cookie = plan["cookies"][page["persona"]]
        times, statuses, queries, size = [], set(), None, 0
        for _ in range(warmup):
            request(port, page["path"], cookie=cookie)
        for _ in range(n):
            status, queries, body, elapsed = request(port, page["path"], cookie=cookie)
            statuses.add(status)
            times.append(elapsed)
            size = len(body)
        results[page["name"]] = {
            "kind": page["kind"],
            "path": page["path"],
            "persona": page["persona"],
            "status": sorted(statuses),
            "n": n,
            "p50_ms": ms(statistics.median(times)),
            "p95_ms": ms(percentile(times, 95)),
            "max_ms": ms(max(times)),
            "queries": queries,
            "bytes": size,
        }
    return results


CONCURRENT_MIX = [
    "site month calendar", "day page", "my planning", "open-days search", "API vacations "
    "(volunteer)", "API vacations (secretary)", "iCal feed", "public site sheet",
]  # fmt: skip


def concurrent(port: int, plan: dict, *, clients: int = 8, seconds: float = 15) -> dict:
    """`clients` threads on a mix of volunteer and secretary pages for `seconds`."""
    pages = [p for p in plan["pages"] if p["name"] in CONCURRENT_MIX]
    times: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(index: int) -> None:
        nonlocal errors
        rnd = random.Random(index)
        while time.monotonic() < stop:
            page = rnd.choice(pages)
            try:
                status, _q, _b, elapsed = request(
                    port, page["path"], cookie=plan["cookies"][page["persona"]]
                )
            except OSError:
                status, elapsed = 599, 0.0
            with lock:
                times.append(elapsed)
                errors += status >= 400

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    wall = time.perf_counter() - started
    return {
        "clients": clients,
        "seconds": round(wall, 1),
        "requests": len(times),
        "errors": errors,
        "requests_per_s": round(len(times) / wall, 1),
        "p50_ms": ms(statistics.median(times)) if times else None,
        "p95_ms": ms(percentile(times, 95)),
        "pages": [p["name"] for p in pages],
    }


def _hl7(order_number: str, patient_ref: str, n: int) -> str:
    segments = [
        "MSH|^~\\&|SIL_BIO|LBM_BENCH|RELEVE|MSP|20261120101500||ORU^R01^ORU_R01|"
        f"BENCH-{order_number}-{n}|P|2.5|||||FRA|UNICODE UTF-8",
        f"PID|1||{patient_ref}^^^MSP^PI||BENCH^PATIENT||1958|M",
        f"ORC|RE|{order_number}^RELEVE|LAB-{n}^SIL_BIO||CM",
        f"OBR|1|{order_number}^RELEVE|LAB-{n}^SIL_BIO|BIOCH^Ionogramme^L|||20261120074500|||||||"
        "||||||||20261120101200||CH|F",
        "OBX|1|NM|2823-3^Potassium^LN||4.2|mmol/L|3.5-5.0|N|||F",
        "OBX|2|NM|2951-2^Sodium^LN||137|mmol/L|136-145|N|||F",
    ]
    return "\r".join(segments) + "\r"


def _fhir(order_number: str, patient_ref: str) -> dict:
    sample = Path(__file__).resolve().parents[2] / "tests/continuity/samples"
    path = sample / "fhir_report_identifier.json"
    report = json.loads(path.read_text()) if path.exists() else {}
    report.setdefault("resourceType", "DiagnosticReport")
    report["identifier"] = [{"value": order_number}]
    report["subject"] = {"identifier": {"value": patient_ref}}
    report["status"] = "final"
    return report


def ingestion(port: int, plan: dict, *, singles: int = 50, batch: int = 50) -> dict:
    """HL7 and FHIR messages on the results API, one at a time then in batches."""
    token = plan["ingestion"]["token"]
    exams = list(plan["ingestion"]["exams"])
    auth = {"Authorization": f"Token {token}"}
    out: dict[str, dict] = {}

    def take(n):
        nonlocal exams
        chunk, exams = exams[:n], exams[n:]
        return chunk

    def warm_up(body: str, content_type: str, path: str) -> None:
        """As for the pages: a worker's first requests pay its imports, templates and
        translations. Messages of the same mix (exams awaiting and unknown orders), not
        counted; each caller sends two, so that both workers are likely warm."""
        request(
            port, path, method="POST", body=body.encode(),
            headers={**auth, "Content-Type": content_type},
        )  # fmt: skip

    def run_singles(name, make, content_type, path):
        for n, (order, patient) in enumerate(take(2)):
            warm_up(make(order, patient, n), content_type, path)
        chunk = take(singles)
        if not chunk:
            return
        times, statuses, queries = [], {}, []
        for n, (order, patient) in enumerate(chunk):
            body = make(order, patient, n)
            status, q, _b, elapsed = request(
                port, path, method="POST", body=body.encode(),
                headers={**auth, "Content-Type": content_type},
            )  # fmt: skip
            times.append(elapsed)
            statuses[status] = statuses.get(status, 0) + 1
            queries.append(q or 0)
        out[name] = {
            "messages": len(chunk),
            "statuses": statuses,
            "p50_ms": ms(statistics.median(times)),
            "p95_ms": ms(percentile(times, 95)),
            "messages_per_s": round(len(chunk) / sum(times), 1),
            "queries_per_message": round(statistics.median(queries), 1),
        }

    def run_batch(name, make_body, content_type, path):
        for _n in range(2):
            warm_up(make_body(take(5)), content_type, path)
        chunk = take(batch)
        if not chunk:
            return
        body = make_body(chunk)
        status, q, data, elapsed = request(
            port, path, method="POST", body=body.encode(),
            headers={**auth, "Content-Type": content_type},
        )  # fmt: skip
        try:
            results = json.loads(data).get("results", [])
        except (ValueError, AttributeError):
            results = []
        outcomes: dict[str, int] = {}
        for result in results:
            outcomes[result.get("status", "?")] = outcomes.get(result.get("status", "?"), 0) + 1
        out[name] = {
            "messages": len(chunk),
            "status": status,
            "answered": len(results),
            "outcomes": outcomes,
            "seconds": round(elapsed, 2),
            "messages_per_s": round(len(chunk) / elapsed, 1),
            "queries": q,
        }

    hl7_type = "application/hl7-v2"
    run_singles("HL7 single", _hl7, hl7_type, "/api/v1/results/hl7/")
    run_singles(
        "FHIR single",
        lambda o, p, n: json.dumps(_fhir(o, p)),
        "application/fhir+json",
        "/api/v1/results/fhir/",
    )
    run_batch(
        "HL7 batch",
        lambda chunk: "".join(_hl7(o, p, n) for n, (o, p) in enumerate(chunk)),
        hl7_type,
        "/api/v1/results/hl7/",
    )
    run_batch(
        "FHIR batch (Bundle)",
        lambda chunk: json.dumps(
            {
                "resourceType": "Bundle",
                "type": "batch",
                "entry": [{"resource": _fhir(o, p)} for o, p in chunk],
            }
        ),
        "application/fhir+json",
        "/api/v1/results/fhir/",
    )
    return out


def contention(port: int, plan: dict, *, seconds: float = 20) -> dict | None:
    """20 volunteers request the open days of one site and month at once while its secretary
    confirms each request as it comes: successes, refusals (409), requests/s."""
    setup = plan.get("contention")
    if not setup or not setup["days"] or not setup["tokens"]:
        return None
    days = setup["days"]
    pending: list[tuple[int, int]] = []
    lock = threading.Lock()
    tally = {"requested": 0, "booked": 0, "409": 0, "other": 0, "requests": 0}
    stop = time.monotonic() + seconds
    done = threading.Event()

    def volunteer(token: str, index: int) -> None:
        rnd = random.Random(index)
        order = days[:]
        rnd.shuffle(order)
        for pk in order:
            if time.monotonic() > stop:
                break
            status, _q, body, _t = request(
                port, f"/api/v1/vacations/{pk}/request/", method="POST", body=b"",
                headers={"Authorization": f"Token {token}"},
            )  # fmt: skip
            with lock:
                tally["requests"] += 1
                if status in (200, 201):
                    tally["requested"] += 1
                    pending.append((pk, json.loads(body)["volunteer"]))
                elif status == 409:
                    tally["409"] += 1
                else:
                    tally["other"] += 1
                    tally.setdefault("other_statuses", {}).setdefault(str(status), 0)
                    tally["other_statuses"][str(status)] += 1

    def secretary() -> None:
        headers = {
            "Authorization": f"Token {setup['secretary_token']}",
            "Content-Type": "application/json",
        }
        while not (done.is_set() and not pending) and time.monotonic() < stop + 10:
            with lock:
                item = pending.pop(0) if pending else None
            if item is None:
                time.sleep(0.01)
                continue
            pk, volunteer_id = item
            status, _q, _b, _t = request(
                port, f"/api/v1/vacations/{pk}/book/", method="POST",
                body=json.dumps({"volunteer": volunteer_id}).encode(), headers=headers,
            )  # fmt: skip
            with lock:
                tally["requests"] += 1
                if status in (200, 201):
                    tally["booked"] += 1
                elif status == 409:
                    tally["409"] += 1
                else:
                    tally["other"] += 1
                    tally.setdefault("other_statuses", {}).setdefault(str(status), 0)
                    tally["other_statuses"][str(status)] += 1

    started = time.perf_counter()
    with ThreadPoolExecutor(len(setup["tokens"]) + 1) as pool:
        booking = pool.submit(secretary)
        list(pool.map(volunteer, setup["tokens"], range(len(setup["tokens"]))))
        done.set()
        booking.result()
    wall = time.perf_counter() - started
    return {
        "clients": len(setup["tokens"]),
        "site": setup["site"],
        "month": f"{setup['year']}-{setup['month']:02d}",
        "open_days": len(days),
        **tally,
        "seconds": round(wall, 1),
        "requests_per_s": round(tally["requests"] / wall, 1),
    }
