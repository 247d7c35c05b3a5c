"""PostgreSQL backs the `overlap` rule: no two taken vacations of one volunteer overlap.

SQLite (the embedded default) has no exclusion constraints; there the service's row lock and
SQLite's single writer keep the rule.
"""

from django.db import migrations

TAKEN = "('requested', 'booked', 'done')"
CREATE = f"""
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE vacations_vacation ADD CONSTRAINT vacation_no_overlap_per_volunteer
    EXCLUDE USING gist (volunteer_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)
    WHERE (volunteer_id IS NOT NULL AND status IN {TAKEN});
"""
DROP = "ALTER TABLE vacations_vacation DROP CONSTRAINT vacation_no_overlap_per_volunteer;"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("vacations", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
