from __future__ import annotations

from django.core.management.base import BaseCommand

from accounts.models import User
from continuity import demo as continuity_demo
from sites import demo as sites_demo
from sites import territories
from vacations import demo as vacations_demo
from volunteers import demo as volunteers_demo


class Command(BaseCommand):
    help = "Load the demo world (idempotent: a second run changes nothing)."

    def handle(self, *args, **options):
        # France's real territories first: the demo's places are four of them.
        sites_demo.renumber_placeholder_territories()
        loaded = territories.load_territories()
        self.stdout.write(loaded.lines()[1])
        # Only adds the demo's flags: a list of priority zones imported before stays flagged.
        zones = (territories.DATA_DIR / "priority_zones_demo.csv").read_bytes()
        territories.import_priority_zones(territories.read_priority_zones(zones), keep_others=True)
        accounts = sites_demo.seed()
        verifier = User.objects.get(email="cpts@demo.releve.fr")
        accounts += volunteers_demo.seed(verifier=verifier)
        days = vacations_demo.seed(close_day=continuity_demo.close_day)
        exams = continuity_demo.seed()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo world ready. Accounts (password: {sites_demo.DEMO_PASSWORD}):"
            )
        )
        for email, role in accounts:
            self.stdout.write(f"  {email:32} {role}")
        if days:
            self.stdout.write(f"{days} vacation days created.")
        if exams:
            self.stdout.write(f"{exams} pending exams, with their results and follow-up tasks.")
