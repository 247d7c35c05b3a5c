"""Reference data: the 18 regions and 101 departments of France (INSEE codes)."""

from django.db import migrations

from sites.reference import DEPARTMENTS, REGIONS


def load(apps, schema_editor):
    Region = apps.get_model("sites", "Region")
    Department = apps.get_model("sites", "Department")
    for code, name in REGIONS:
        Region.objects.update_or_create(code=code, defaults={"name": name})
    for code, name, region in DEPARTMENTS:
        Department.objects.update_or_create(code=code, defaults={"name": name, "region_id": region})


class Migration(migrations.Migration):
    dependencies = [("sites", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
