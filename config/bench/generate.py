"""The benchmark's data set, written in bulk on PostgreSQL (`manage.py bench`).

Everything goes through the models' rules, checked here rather than by the services (which
would take hours at national size): valid and unique RPPS numbers (Luhn), published sheets with
every section filled and every readiness item done, one day per site and date (a room each), a
volunteer never holds two days on one date nor more than its monthly maximum, past days done and
closed (exams listed, handover written), future days open, requested or booked, exams in every
state and tasks at every escalation level (0 course nurse, 1 territory manager, 2 ARS).

The big tables (days, exams, tasks, handovers) are written with COPY and explicit ids; the
sequences are moved past them afterwards. A marker table (`bench_marker`) records the scale and
the generator's version: a database already generated at the same scale and version is reused.
"""

from __future__ import annotations

import json
import random
import time as clock
from dataclasses import dataclass
from datetime import date as Date
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from continuity.models import ExamLeg, FollowUpTask, Handover, PendingExam
from sites.models import (
    EquipmentItem,
    HostSite,
    InfoSheet,
    KeyContact,
    ReadinessItem,
    Region,
    SheetEquipment,
    SheetReadiness,
    Territory,
)
from sites.models.places import Membership
from sites.validators import luhn_is_valid
from vacations.models import PARIS, Vacation, slot_bounds
from volunteers.models import Commitment, Volunteer

GENERATOR_VERSION = 2  # 2: the legs of closed exams
# Every bench account signs in with this password (the bench opens sessions directly; the
# password only matters to someone exploring the data set by hand).
PASSWORD = "releve-bench"
DOMAIN = "bench.releve.invalid"


@dataclass(frozen=True)
class Scale:
    name: str
    regions: int
    priority_territories: int
    sites: int
    volunteers: int
    days: int
    exams: int
    tasks: int


SCALES = {
    "tiny": Scale("tiny", 2, 4, 6, 40, 600, 1_200, 1_200),
    "small": Scale("small", 2, 10, 20, 200, 5_000, 10_000, 10_000),
    "large": Scale("large", 6, 60, 500, 4_000, 50_000, 100_000, 100_000),
    "national": Scale("national", 18, 200, 3_000, 20_000, 500_000, 1_000_000, 1_000_000),
}
# The regions, in the order a smaller scale takes them (Centre-Val de Loire and Occitanie first,
# as in the demo world).
REGION_ORDER = ["24", "76", "84", "27", "53", "28", "32", "44", "52", "75", "93", "11", "94",
                "01", "02", "03", "04", "06"]  # fmt: skip

MARKER_TABLE = "bench_marker"


def marker() -> dict | None:
    """The marker of a generated data set in the current database, if any."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [MARKER_TABLE])
        if not cursor.fetchone()[0]:
            return None
        cursor.execute(f"SELECT payload FROM {MARKER_TABLE} ORDER BY id DESC LIMIT 1")
        row = cursor.fetchone()
    if row is None:
        return None
    return row[0] if isinstance(row[0], dict) else json.loads(row[0])


def _write_marker(payload: dict) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {MARKER_TABLE} "
            "(id serial PRIMARY KEY, payload jsonb NOT NULL, at timestamptz DEFAULT now())"
        )
        cursor.execute(f"INSERT INTO {MARKER_TABLE} (payload) VALUES (%s)", [json.dumps(payload)])


def rpps(n: int) -> str:
    """The n-th fictitious RPPS number: 11 digits, Luhn check digit (unique per n)."""
    base = f"19{n:08d}"
    return next(base + str(d) for d in range(10) if luhn_is_valid(base + str(d)))


def _copy(model, columns: list[str], rows) -> int:
    """COPY `rows` (tuples in `columns` order) into `model`'s table; the other columns get
    their field's default. Returns the number of rows written."""
    fields = {f.attname: f for f in model._meta.concrete_fields}
    extra = [name for name in fields if name not in columns]
    defaults = []
    for name in extra:
        field = fields[name]
        value = field.get_default()
        if value is None and not field.null:
            raise ValueError(f"{model.__name__}.{name} needs a value")
        defaults.append(json.dumps(value) if isinstance(value, (list, dict)) else value)
    names = ", ".join(f'"{fields[c].column}"' for c in [*columns, *extra])
    count = 0
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f'COPY "{model._meta.db_table}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row((*row, *defaults))
                count += 1
    return count


def _reset_sequences(*models) -> None:
    with connection.cursor() as cursor:
        for model in models:
            table = model._meta.db_table
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                f'COALESCE((SELECT max(id) FROM "{table}"), 1))'
            )


def _next_id(model) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT COALESCE(max(id), 0) + 1 FROM "{model._meta.db_table}"')
        return cursor.fetchone()[0]


class Generator:
    def __init__(self, scale: Scale, *, today: Date | None = None, seed: int = 14, log=print):
        self.scale = scale
        self.today = today or timezone.localdate()
        self.now = timezone.now()
        self.random = random.Random(seed)
        self.log = log
        self.timings: dict[str, float] = {}

    def _step(self, name: str, started: float) -> None:
        self.timings[name] = round(clock.perf_counter() - started, 2)
        self.log(f"  {name}: {self.timings[name]:.1f} s")

    def run(self) -> dict:
        started = clock.perf_counter()
        with transaction.atomic():
            self.places()
            self.people()
            self.sheets()
            self.days()
            self.exams_and_tasks()
        t = clock.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        self._step("analyze", t)
        payload = {
            "scale": self.scale.name,
            "version": GENERATOR_VERSION,
            "today": self.today.isoformat(),
            "counts": self.counts(),
            "seconds": round(clock.perf_counter() - started, 1),
            "steps": self.timings,
        }
        _write_marker(payload)
        return payload

    @staticmethod
    def counts() -> dict[str, int]:
        return {
            "regions": Region.objects.count(),
            "territories": Territory.objects.count(),
            "priority_territories": Territory.objects.filter(is_priority=True).count(),
            "sites": HostSite.objects.count(),
            "volunteers": Volunteer.objects.count(),
            "vacations": Vacation.objects.count(),
            "exams": PendingExam.objects.count(),
            "tasks": FollowUpTask.objects.count(),
            "handovers": Handover.objects.count(),
        }

    # --- Places ---------------------------------------------------------------------------
    def places(self) -> None:
        t = clock.perf_counter()
        if Territory.objects.count() < 1000:
            from sites.territories import load_territories

            load_territories()
        codes = [c for c in REGION_ORDER if Region.objects.filter(code=c).exists()]
        self.regions = codes[: self.scale.regions]
        Territory.objects.update(is_priority=False)
        candidates = list(
            Territory.objects.filter(department__region__in=self.regions)
            .order_by("epci_siren")
            .values_list("pk", "department_id", "department__region_id")
        )
        # Spread the priority zones over the regions (round robin), as many as asked.
        by_region: dict[str, list] = {}
        for row in candidates:
            by_region.setdefault(row[2], []).append(row)
        chosen = []
        while len(chosen) < self.scale.priority_territories and any(by_region.values()):
            for region in self.regions:
                if by_region.get(region) and len(chosen) < self.scale.priority_territories:
                    chosen.append(by_region[region].pop(0))
        Territory.objects.filter(pk__in=[pk for pk, *_ in chosen]).update(is_priority=True)
        self.territories = chosen  # (pk, department, region)
        self.departments = sorted({d for _pk, d, _r in candidates})
        self._step("places", t)

    # --- People and sites -----------------------------------------------------------------
    def people(self) -> None:
        t = clock.perf_counter()
        scale, rnd = self.scale, self.random
        password = make_password(PASSWORD)

        def users(prefix: str, n: int, last: str) -> list[User]:
            return User.objects.bulk_create(
                (
                    User(email=f"{prefix}{i}@{DOMAIN}", password=password, first_name="Bench",
                         last_name=f"{last} {i}", is_active=True)
                    for i in range(n)
                ),
                batch_size=2000,
            )  # fmt: skip

        sites = []
        for i in range(scale.sites):
            territory, department, _region = self.territories[i % len(self.territories)]
            sites.append(
                HostSite(
                    name=f"Maison de santé bench {i}", kind=HostSite.Kind.MSP,
                    territory_id=territory, address=f"{1 + i % 90} rue de la Santé",
                    postal_code=f"{department[:2]}{i % 1000:03d}"
                    if department[:2].isdigit() else "20000",
                    city=f"Bourg {i}", phone="02 48 61 23 45", email=f"site{i}@{DOMAIN}",
                    days_wanted_per_month=8, rooms=1, status=HostSite.Status.ACTIVE,
                )
            )  # fmt: skip
        self.sites = HostSite.objects.bulk_create(sites, batch_size=2000)
        self.site_territory = {s.pk: s.territory_id for s in self.sites}
        territory_region = {pk: region for pk, _d, region in self.territories}
        self.site_region = {s.pk: territory_region[s.territory_id] for s in self.sites}

        self.national = users("national", 1, "National")[0]
        ars = users("ars", len(self.regions), "ARS")
        used_territories = sorted({s.territory_id for s in self.sites})
        managers = users("cpts", len(used_territories), "CPTS")
        secretaries = users("secretary", scale.sites, "Secrétaire")
        nurses = users("nurse", scale.sites, "Infirmière")
        doctors = users("doctor", scale.volunteers, "Médecin")
        memberships = [Membership(user=self.national, role=Role.NATIONAL_MANAGER)]
        memberships += [
            Membership(user=u, role=Role.ARS_MANAGER, region_id=r)
            for u, r in zip(ars, self.regions, strict=True)
        ]
        memberships += [
            Membership(user=u, role=Role.TERRITORY_MANAGER, territory_id=t)
            for u, t in zip(managers, used_territories, strict=True)
        ]
        for site, secretary, nurse in zip(self.sites, secretaries, nurses, strict=True):
            memberships.append(Membership(user=secretary, role=Role.SECRETARY, site=site))
            memberships.append(Membership(user=nurse, role=Role.COURSE_NURSE, site=site))
        memberships += [Membership(user=u, role=Role.VOLUNTEER) for u in doctors]
        Membership.objects.bulk_create(memberships, batch_size=5000)
        self.ars_of_region = {r: u.pk for u, r in zip(ars, self.regions, strict=True)}
        self.manager_of_territory = {
            t: u.pk for u, t in zip(managers, used_territories, strict=True)
        }
        self.secretary_of_site = {s.pk: u.pk for s, u in zip(self.sites, secretaries, strict=True)}
        self.nurse_of_site = {s.pk: u.pk for s, u in zip(self.sites, nurses, strict=True)}

        statuses = list(Volunteer.PracticeStatus.values)
        volunteers = Volunteer.objects.bulk_create(
            (
                Volunteer(user=u, rpps=rpps(i), practice_status=statuses[i % len(statuses)],
                          home_department_id=self.departments[i % len(self.departments)],
                          status=Volunteer.Status.VERIFIED, verified_at=self.now,
                          mss_address=f"doctor{i}@medecin.mssante.fr",
                          phone="06 12 34 56 78",
                          max_days_per_month=Decimal(settings.RELEVE_MAX_DAYS_PER_MONTH))
                for i, u in enumerate(doctors)
            ),
            batch_size=2000,
        )  # fmt: skip
        self.volunteers = [v.pk for v in volunteers]
        self.volunteer_user = {v.pk: v.user_id for v in volunteers}
        self.quota = int(settings.RELEVE_MAX_DAYS_PER_MONTH)
        Commitment.objects.bulk_create(
            (
                Commitment(volunteer=v, charter_version="1", channels=["mssante", "phone"],
                           response_hours=72, accepted_at=self.now - timedelta(days=30),
                           valid_until=self.today + timedelta(days=335))
                for v in volunteers
            ),
            batch_size=5000,
        )  # fmt: skip
        through = Volunteer.preferred_territories.through
        territory_pks = [pk for pk, *_ in self.territories]
        through.objects.bulk_create(
            (
                through(volunteer_id=v.pk, territory_id=pk)
                for v in volunteers
                for pk in rnd.sample(territory_pks, min(2, len(territory_pks)))
            ),
            batch_size=5000,
        )
        self._step("people", t)

    def sheets(self) -> None:
        """Every site's sheet published, every section filled, every readiness item done."""
        t = clock.perf_counter()
        text = "Patientèle rurale, âgée ; consultations sans rendez-vous le matin."
        fields = {
            "patients_profile": text,
            "daily_consultations": 24,
            "practice_modes": ["on_site", "home_visits"],
            "team_description": "Deux médecins, trois infirmières, une kinésithérapeute.",
            "secretariat_description": "Secrétariat sur place de 8 h à 18 h.",
            "functioning_description": "Dossier partagé, staff le lundi midi.",
            "protocols": "Protocoles de coopération ASALEE.",
            "information_system": "Weda",
            "remuneration": "200 € la journée, versés par l'ARS.",
            "accommodation": "Studio meublé au-dessus de la maison de santé.",
            "transport": "Gare à 12 km ; navette sur demande.",
            "consultation_minutes": 20,
        }
        sheets = InfoSheet.objects.bulk_create(
            (
                InfoSheet(site=site, status=InfoSheet.Status.PUBLISHED, submitted_at=self.now,
                          published_at=self.now, published_content={"pending": True}, **fields)
                for site in self.sites
            ),
            batch_size=2000,
        )  # fmt: skip
        services = [KeyContact.Service.LABORATORY, KeyContact.Service.RADIOLOGY,
                    KeyContact.Service.PHARMACY]  # fmt: skip
        KeyContact.objects.bulk_create(
            (
                KeyContact(sheet=sheet, service=service, name=f"{service.label} du canton",
                           phone="02 48 00 00 0" + str(n), priority=n == 0, position=n)
                for sheet in sheets
                for n, service in enumerate(services)
            ),
            batch_size=5000,
        )  # fmt: skip
        equipment = list(EquipmentItem.objects.all())
        SheetEquipment.objects.bulk_create(
            (SheetEquipment(sheet=s, item=i, available=True) for s in sheets for i in equipment),
            batch_size=5000,
        )
        readiness = list(ReadinessItem.objects.all())
        SheetReadiness.objects.bulk_create(
            (
                SheetReadiness(sheet=s, item=i, status=SheetReadiness.Status.OK)
                for s in sheets
                for i in readiness
            ),
            batch_size=5000,
        )
        # Every sheet holds the same content: its validated version is frozen once.
        from sites.revisions import sheet_content

        content = sheet_content(InfoSheet.objects.get(pk=sheets[0].pk))
        # history: none for a generated benchmark data set
        InfoSheet.objects.filter(pk__in=[s.pk for s in sheets]).update(published_content=content)
        self._step("sheets", t)

    # --- Days -----------------------------------------------------------------------------
    def days(self) -> None:
        """Over two years around today: one day per site and date (one room), each taken
        day given to a volunteer free that date and under its monthly maximum."""
        t = clock.perf_counter()
        scale, rnd, today = self.scale, self.random, self.today
        span = [today + timedelta(days=n) for n in range(-365, 365)]
        span = [d for d in span if d.weekday() < 5]  # weekdays
        per_site = scale.days // scale.sites
        extra = scale.days - per_site * scale.sites
        planned = []  # (site, date)
        for i, site in enumerate(self.sites):
            n = min(len(span), per_site + (1 if i < extra else 0))
            planned += [(site.pk, d) for d in rnd.sample(span, n)]
        planned.sort(key=lambda row: row[1])
        used: set[tuple[int, Date]] = set()
        month_count: dict[tuple[int, int, int], int] = {}
        pointer = {}
        vols = self.volunteers

        def volunteer_for(day: Date) -> int | None:
            key = (day.year, day.month)
            start = pointer.get(key, rnd.randrange(len(vols)))
            for step in range(len(vols)):
                v = vols[(start + step) % len(vols)]
                if (v, day) not in used and month_count.get((v, *key), 0) < self.quota:
                    pointer[key] = (start + step + 1) % len(vols)
                    used.add((v, day))
                    month_count[(v, *key)] = month_count.get((v, *key), 0) + 1
                    return v
            return None

        self.first_vacation = _next_id(Vacation)
        self.done_days = []  # (id, site, volunteer, date)
        rows = []
        now = self.now
        indemnity = Decimal("200.00")
        for n, (site, day) in enumerate(planned):
            pk = self.first_vacation + n
            starts_at, ends_at = slot_bounds(day, "day")
            created = datetime.combine(day - timedelta(days=40), time(9), tzinfo=PARIS)
            past = day < today
            roll = rnd.random()
            if past:
                status = (
                    Vacation.Status.DONE if roll < 0.90
                    else Vacation.Status.NO_SHOW if roll < 0.92
                    else Vacation.Status.CANCELLED
                )  # fmt: skip
            else:
                status = (
                    Vacation.Status.OPEN if roll < 0.45
                    else Vacation.Status.REQUESTED if roll < 0.60
                    else Vacation.Status.BOOKED
                )  # fmt: skip
            volunteer = None
            if status != Vacation.Status.OPEN:
                volunteer = volunteer_for(day)
                if volunteer is None:
                    status = Vacation.Status.CANCELLED if past else Vacation.Status.OPEN
            requested_at = booked_at = done_at = cancelled_at = None
            consultations = None
            pay = None
            if volunteer is not None:
                requested_at = created + timedelta(days=5)
                if requested_at > now:
                    requested_at = now - timedelta(hours=rnd.randrange(1, 120))
                if status != Vacation.Status.REQUESTED:
                    booked_at = requested_at + timedelta(hours=20)
            if status == Vacation.Status.DONE:
                done_at = datetime.combine(day, time(19), tzinfo=PARIS)
                consultations = 18 + n % 10
                pay = indemnity
                self.done_days.append((pk, site, volunteer, day))
            elif status == Vacation.Status.CANCELLED:
                cancelled_at = created + timedelta(days=10)
            rows.append(
                (pk, site, day, "day", starts_at, ends_at, status, volunteer, 20, False,
                 consultations, pay, "", requested_at, booked_at, done_at, cancelled_at,
                 created, created)
            )  # fmt: skip
        columns = ["id", "site_id", "date", "period", "starts_at", "ends_at", "status",
                   "volunteer_id", "consultation_minutes", "no_exams", "consultations_count",
                   "indemnity", "cancellation_reason", "requested_at", "booked_at", "done_at",
                   "cancelled_at", "created_at", "updated_at"]  # fmt: skip
        _copy(Vacation, columns, rows)
        _reset_sequences(Vacation)
        # Each day done is closed with its handover.
        first = _next_id(Handover)
        _copy(
            Handover,
            ["id", "vacation_id", "author_id", "text", "patient_refs", "created_at"],
            (
                (first + i, pk, self.volunteer_user[v], "RAS ; deux patients à revoir.", "[]",
                 datetime.combine(day, time(19, 30), tzinfo=PARIS))
                for i, (pk, _site, v, day) in enumerate(self.done_days)
            ),
        )  # fmt: skip
        _reset_sequences(Handover)
        self._step("days", t)

    # --- Exams and tasks ------------------------------------------------------------------
    def exams_and_tasks(self) -> None:
        t = clock.perf_counter()
        scale, rnd, today, now = self.scale, self.random, self.today, self.now
        kinds = ["biology", "biology", "biology", "imaging", "ecg", "pathology", "specialist"]
        days = self.done_days
        if not days:
            return
        per_day = scale.exams / len(days)
        first_exam = _next_id(PendingExam)
        first_task = _next_id(FollowUpTask)
        exam_rows, task_rows = [], []
        exam_id = first_exam
        carry = 0.0
        no_exam_days = []
        closing = {}
        closed_legs = []
        for pk, site, volunteer, day in days:
            carry += per_day
            count = int(carry)
            carry -= count
            if count == 0:
                no_exam_days.append(pk)
                continue
            age = (today - day).days
            for k in range(count):
                kind = kinds[(exam_id + k) % len(kinds)]
                expected = day + timedelta(days=7 if kind == "biology" else 21)
                roll = rnd.random()
                if age < 3:
                    status = "awaiting" if roll < 0.7 else "received"
                elif age < 30:
                    status = ("awaiting" if roll < 0.15 else "received" if roll < 0.30
                              else "reviewed" if roll < 0.45 else "cancelled" if roll < 0.48
                              else "closed")  # fmt: skip
                else:
                    status = ("awaiting" if roll < 0.01 else "received" if roll < 0.015
                              else "reviewed" if roll < 0.02 else "cancelled" if roll < 0.05
                              else "closed")  # fmt: skip
                received_at = reviewed_at = closed_at = closed_by = None
                abnormal = None
                summary = ""
                if status in ("received", "reviewed", "closed"):
                    received_at = datetime.combine(
                        min(expected, today), time(10), tzinfo=PARIS
                    ) - timedelta(days=1 if expected >= today else 0)
                    received_at = min(received_at, now - timedelta(hours=1))
                    abnormal = roll < 0.2
                    summary = "Kaliémie 5,8 mmol/L" if abnormal else "Résultat normal"
                if status in ("reviewed", "closed"):
                    reviewed_at = received_at + timedelta(hours=6)
                treating = ""
                if status == "closed":
                    closed_at = received_at + timedelta(days=1)
                    closed_by = self.nurse_of_site[site]
                    closing[exam_id] = closed_at
                    # The treating doctor: at the site (70 %), elsewhere (25 %: a letter to
                    # send, still pending for a tenth of the recent ones), none (5 %).
                    cut = rnd.random()
                    treating = "at_site" if cut < 0.7 else "elsewhere" if cut < 0.95 else "none"
                    letter = (
                        "na" if treating != "elsewhere"
                        else "pending" if rnd.random() < (0.1 if age < 30 else 0.01)
                        else "done"
                    )  # fmt: skip
                    closed_legs.append((exam_id, closed_at, closed_by, letter, treating))
                exam_rows.append(
                    (exam_id, pk, site, volunteer, f"P{exam_id:07d}", "AB", 1940 + exam_id % 60,
                     kind, "Bilan de contrôle", f"B{exam_id}", day, expected, "LBM du canton",
                     status, received_at, abnormal, summary, reviewed_at, closed_at, closed_by,
                     "site_doctor" if status == "closed" else "",
                     treating, "", status == "closed",
                     status == "closed", status == "closed", self.secretary_of_site[site],
                     datetime.combine(day, time(18), tzinfo=PARIS))
                )  # fmt: skip
                exam_id += 1
                if len(exam_rows) < scale.tasks and status in ("received", "reviewed", "closed"):
                    task_rows.append(self._task_for_exam(exam_rows[-1], len(task_rows)))
                elif status == "awaiting" and expected < today:
                    task_rows.append(self._chase_task(exam_rows[-1], len(task_rows)))
        columns = ["id", "vacation_id", "site_id", "prescriber_id", "patient_ref",
                   "patient_initials", "patient_birth_year", "kind", "description",
                   "order_number", "ordered_on", "expected_by", "performer", "status",
                   "received_at", "abnormal", "result_summary", "reviewed_at", "closed_at",
                   "closed_by_id", "responsible", "treating_doctor_status", "review_note",
                   "dmp_deposited", "sent_to_patient_space", "sent_to_prescriber",
                   "created_by_id", "created_at"]  # fmt: skip
        _copy(PendingExam, columns, exam_rows)
        _reset_sequences(PendingExam)
        _copy(
            ExamLeg,
            ["id", "exam_id", "leg", "status", "at", "by_id", "reason"],
            self._legs(closed_legs, first=_next_id(ExamLeg)),  # read before the COPY starts
        )
        _reset_sequences(ExamLeg)
        # history: none for a generated benchmark data set
        Vacation.objects.filter(pk__in=no_exam_days).update(no_exams=True)
        # The rest of the tasks: handovers to follow and other work, not tied to an exam.
        site_pks = [s.pk for s in self.sites]
        while len(task_rows) < scale.tasks:
            n = len(task_rows)
            site = site_pks[n % len(site_pks)]
            created = now - timedelta(days=1 + n % 700, hours=n % 24)
            task_rows.append(
                self._task(n, site, None, "other", "Rappeler le patient", created, done=True)
            )
        task_columns = ["id", "site_id", "exam_id", "kind", "title", "assignee_id", "due_at",
                        "priority", "status", "escalation_level", "escalated_at", "note",
                        "created_at", "done_at", "done_by_id"]  # fmt: skip
        _copy(
            FollowUpTask,
            task_columns,
            ((first_task + n, *row) for n, row in enumerate(task_rows[: scale.tasks])),
        )
        _reset_sequences(FollowUpTask)
        self._step("exams and tasks", t)

    @staticmethod
    def _legs(closed, *, first: int):
        """The legs of the closed exams: the three routing legs done at the closing, the
        treating doctor's letter done, pending or not applicable (with its reason)."""
        leg_id = first
        reasons = {"at_site": "Le médecin traitant exerce sur le site.",
                   "none": "Le patient n'a pas de médecin traitant."}  # fmt: skip
        for exam_id, closed_at, closed_by, letter, treating in closed:
            for leg in ("dmp", "patient_space", "prescriber"):
                yield (leg_id, exam_id, leg, "done", closed_at, closed_by, "")
                leg_id += 1
            if letter == "na":
                row = ("not_applicable", None, None, reasons[treating])
            elif letter == "done":
                row = ("done", closed_at, closed_by, "")
            else:
                row = ("pending", None, None, "")
            yield (leg_id, exam_id, "treating_doctor", *row)
            leg_id += 1

    def _task(self, n, site, exam, kind, title, created, *, done: bool):
        """One task row (without its id): done, or active at a level chosen by `n`."""
        due = created + timedelta(days=2)
        nurse = self.nurse_of_site[site]
        if done:
            return (site, exam, kind, title, nurse, due, "normal", "done", 0, None, "",
                    created, created + timedelta(days=1), nurse)  # fmt: skip
        level = n % 3  # every level: nurse, territory manager, ARS
        assignee = (
            nurse if level == 0
            else self.manager_of_territory[self.site_territory[site]] if level == 1
            else self.ars_of_region[self.site_region[site]]
        )  # fmt: skip
        escalated = created + timedelta(days=2) if level else None
        status = ("open", "in_progress", "waiting")[n % 3]
        # Most active tasks are within their deadline; one in five is overdue (the backlog
        # `escalate_tasks` moves up).
        due = self.now + (timedelta(hours=-3) if n % 5 == 0 else timedelta(hours=30))
        priority = "urgent" if n % 7 == 0 else "normal"
        return (site, exam, kind, title, assignee, due, priority, status, level, escalated, "",
                created, None, None)  # fmt: skip

    def _task_for_exam(self, exam, n):
        exam_id, site, status, received_at = exam[0], exam[2], exam[13], exam[14]
        return self._task(
            n,
            site,
            exam_id,
            "review_result",
            "Lire le résultat",
            received_at,
            done=status == "closed",
        )

    def _chase_task(self, exam, n):
        exam_id, site, expected = exam[0], exam[2], exam[11]
        created = datetime.combine(expected + timedelta(days=1), time(9), tzinfo=PARIS)
        created = min(created, self.now - timedelta(hours=2))
        return self._task(n, site, exam_id, "chase_result", "Relancer le résultat", created,
                          done=False)  # fmt: skip


def generate(scale_name: str, *, log=print) -> dict:
    """Generate the data set of `scale_name` in the current (migrated, empty) database."""
    existing = marker()
    if existing:
        raise RuntimeError(f"This database already holds a bench data set: {existing['scale']}")
    return Generator(SCALES[scale_name], log=log).run()
