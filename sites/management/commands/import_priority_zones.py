from __future__ import annotations

from argparse import RawDescriptionHelpFormatter
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from sites.territories import PriorityZonesError, import_priority_zones, read_priority_zones

SAMPLE = 5


class Command(BaseCommand):
    help = """Flag the priority zones: exactly the territories whose EPCI SIREN is listed in FILE.

Every other territory is unflagged (unless --keep-others). FILE is a CSV file with a header
line holding a `siren` column, one SIREN number (9 digits) per line; other columns (such as
`name`) are ignored; `;` or `,` separated; UTF-8, with or without a byte-order mark:

    siren;name
    200049484;CC Berry Grand Sud
    200040558;CC Écueillé-Valençay

A bad line or a SIREN that matches no territory (run load_territories first) refuses the whole
file: nothing changes."""

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = RawDescriptionHelpFormatter
        return parser

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="CSV file with a `siren` column")
        parser.add_argument(
            "--keep-others",
            action="store_true",
            help="only add flags: leave the territories that are not listed as they are",
        )

    def handle(self, *args, file: Path, keep_others: bool, **options):
        try:
            content = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.") from None
        try:
            report = import_priority_zones(read_priority_zones(content), keep_others=keep_others)
        except PriorityZonesError as exc:
            raise CommandError(
                f"{file}: refused, nothing changed.\n" + "\n".join(exc.problems)
            ) from None
        self.stdout.write(f"{report.listed} territories listed in {file}.")
        self.stdout.write(
            f"Flagged as priority zones: {len(report.flagged)} "
            f"({report.already} already were)." + _sample(report.flagged)
        )
        if keep_others:
            self.stdout.write("Territories not listed were left as they were (--keep-others).")
        else:
            self.stdout.write(
                f"No longer priority zones (not listed): {len(report.unflagged)}."
                + _sample(report.unflagged)
            )
        self.stdout.write(self.style.SUCCESS("Priority zones imported."))


def _sample(sirens: list[str]) -> str:
    if not sirens:
        return ""
    more = f", … ({len(sirens) - SAMPLE} more)" if len(sirens) > SAMPLE else ""
    return " SIREN: " + ", ".join(sirens[:SAMPLE]) + more
