"""Benchmark of `vacation_reminders`: N booked days on one date, each reminded to its volunteer
and its site's secretary (2 × N messages), timed; nothing is kept.

    python manage.py bench_reminders --days 2000

The days, sites and people are written in a transaction rolled back at the end. The run is the
job's code (`send_vacation_reminders`) at 07:00 seven days before the date; the messages it
writes are then handed to the broker exactly as its on-commit hook would, but on a throwaway
queue that is deleted afterwards (no worker sees them; `--no-broker` skips this step).
"""

from __future__ import annotations

import math
import secrets
from datetime import datetime, time, timedelta
from pathlib import Path
from time import perf_counter

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone
from kombu import Exchange, Queue

from accounts.models import Notification, User
from accounts.notifications import enqueue_many
from accounts.roles import Role
from config.celery import app
from sites.models import Department, HostSite, Membership, Territory
from vacations.models import PARIS, Vacation, slot_bounds
from vacations.reminders import send_vacation_reminders
from volunteers.models import Volunteer

TARGET_SECONDS = 10


class Command(BaseCommand):
    help = "Time vacation_reminders on N booked days of one date (rolled back afterwards)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=2000, help="booked days (default 2000)")
        parser.add_argument("--sites", type=int, default=200, help="host sites (default 200)")
        parser.add_argument(
            "--no-broker", action="store_true", help="don't time the hand-over to the broker"
        )

    def handle(self, *args, days: int, sites: int, no_broker: bool, **options):
        if days < 1 or not 1 <= sites <= days:
            raise CommandError("Need at least one day, and between 1 and --days sites.")
        # Far from any real day, so that the run reminds only the days written here.
        date = timezone.localdate() + timedelta(days=3650)
        now = datetime.combine(date - timedelta(days=7), time(7, 0), tzinfo=PARIS)
        queue = f"bench-reminders-{secrets.token_hex(4)}"
        with transaction.atomic():
            _populate(days=days, sites=sites, date=date)
            last_pk = Notification.objects.order_by("-pk").values_list("pk", flat=True).first()
            callbacks = len(connection.run_on_commit)
            started = perf_counter()
            written = send_vacation_reminders(now=now)
            wrote = perf_counter()
            # The job's on-commit hook would enqueue these: do it here, on the throwaway queue.
            del connection.run_on_commit[callbacks:]
            pks = list(
                Notification.objects.filter(pk__gt=last_pk or 0)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            handed_started = perf_counter()
            handed = 0 if no_broker else enqueue_many(pks, queue=queue)
            finished = perf_counter()
            transaction.set_rollback(True)
        if not no_broker:
            _drop_queue(queue)
        total = (wrote - started) + (finished - handed_started)
        vendor = connection.vendor
        self.stdout.write(
            f"{days} booked days on {date:%d/%m/%Y} at {sites} sites ({vendor}): "
            f"{written} notifications written in {wrote - started:.2f} s; "
            + (
                "broker skipped"
                if no_broker
                else f"{handed} enqueued in {finished - handed_started:.2f} s"
            )
            + f"; total {total:.2f} s (target < {TARGET_SECONDS} s). Rolled back."
        )
        if total >= TARGET_SECONDS:
            self.stderr.write(self.style.WARNING("Slower than the target."))


def _populate(*, days: int, sites: int, date) -> None:
    """`days` booked days on `date`, spread over `sites` sites with one secretary each."""
    tag = secrets.token_hex(4)
    rooms = math.ceil(days / sites)
    department = Department.objects.order_by("code").first()
    if department is None:
        raise CommandError("No department: run the migrations first.")
    territory = Territory.objects.create(
        name=f"Bench {tag}", epci_siren=f"9{secrets.randbelow(10**8):08d}", department=department
    )
    site_rows = HostSite.objects.bulk_create(
        HostSite(name=f"Bench site {n}", territory=territory, rooms=rooms, city="Bench",
                 status=HostSite.Status.ACTIVE)
        for n in range(sites)
    )  # fmt: skip
    unusable = make_password(None)  # nobody signs in as these people
    users = User.objects.bulk_create(
        User(email=f"bench-{tag}-{n}@bench.invalid", password=unusable, first_name="Bench",
             last_name=str(n))
        for n in range(days + sites)
    )  # fmt: skip
    secretaries, doctors = users[:sites], users[sites:]
    Membership.objects.bulk_create(
        Membership(user=user, role=Role.SECRETARY, site=site)
        for user, site in zip(secretaries, site_rows, strict=True)
    )
    prefix = f"8{secrets.randbelow(10**3):03d}"
    volunteers = Volunteer.objects.bulk_create(
        Volunteer(user=user, rpps=f"{prefix}{n:07d}", practice_status="retired",
                  home_department=department, status=Volunteer.Status.VERIFIED)
        for n, user in enumerate(doctors)
    )  # fmt: skip
    starts_at, ends_at = slot_bounds(date, "day")
    booked_at = timezone.now()
    Vacation.objects.bulk_create(
        (
            Vacation(site=site_rows[n % sites], date=date, period="day", starts_at=starts_at,
                     ends_at=ends_at, consultation_minutes=20, status=Vacation.Status.BOOKED,
                     volunteer=volunteer, booked_at=booked_at)
            for n, volunteer in enumerate(volunteers)
        ),
        batch_size=500,
    )  # fmt: skip


def _drop_queue(name: str) -> None:
    """Delete the throwaway queue, its messages and its exchange (declared again on this
    connection first: the transport only deletes the bindings it knows)."""
    with app.connection_for_write() as conn:
        queue = Queue(name, Exchange(name), routing_key=name)(conn.default_channel)
        queue.declare()
        queue.purge()
        queue.delete()
        queue.exchange.delete()
    options = app.conf.broker_transport_options or {}
    if str(app.conf.broker_url).startswith("filesystem://") and options.get("control_folder"):
        (Path(options["control_folder"]) / f"{name}.exchange").unlink(missing_ok=True)
