from __future__ import annotations

from django.core.management.base import BaseCommand

from sites.territories import load_territories


class Command(BaseCommand):
    help = (
        "Create or update France's territories (the EPCI à fiscalité propre) and their communes "
        "from the data vendored in sites/data/ (scripts/vendor-decoupage.sh). Idempotent; new "
        "territories are not priority zones (see import_priority_zones), existing ones keep "
        "their flag and managing structure."
    )

    def handle(self, *args, **options):
        report = load_territories()
        for line in report.lines():
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS("Territories loaded."))
