from __future__ import annotations

from django.core.management.base import BaseCommand

from config import demo
from sites import demo as sites_demo
from sites import territories


class Command(BaseCommand):
    help = (
        "Load the demo world (idempotent: a second run changes nothing), then print where it "
        "lives: the address, the accounts, where mail goes."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--summary-only",
            action="store_true",
            help="Seed nothing: print the block of a running demo (scripts/run-all.sh).",
        )
        parser.add_argument("--url", default=demo.URL, help="The address the block names.")

    def handle(self, *args, **options):
        verbosity = options["verbosity"]
        if not options["summary_only"]:
            self._seed(verbosity=verbosity)
        if verbosity >= 1:
            self.stdout.write(demo.summary(url=options["url"], running=options["summary_only"]))

    def _seed(self, *, verbosity: int) -> None:
        # France's real territories first: the demo's places are four of them.
        sites_demo.renumber_placeholder_territories()
        loaded = territories.load_territories()
        # Only adds the demo's flags: a list of priority zones imported before stays flagged.
        zones = (territories.DATA_DIR / "priority_zones_demo.csv").read_bytes()
        territories.import_priority_zones(territories.read_priority_zones(zones), keep_others=True)
        days, exams, _delivered = demo.seed()
        if verbosity >= 1 and (days or exams):  # a first run; a second one changes nothing
            self.stdout.write(loaded.lines()[1])
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo world ready: {days} vacation days, {exams} exams with their results "
                    "and follow-up tasks."
                )
            )
