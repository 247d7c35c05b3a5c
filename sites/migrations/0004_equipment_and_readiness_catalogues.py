"""Seed the equipment and readiness catalogues of information sheets."""

from django.db import migrations

from sites.catalogues import EQUIPMENT, READINESS


def load(apps, schema_editor):
    EquipmentItem = apps.get_model("sites", "EquipmentItem")
    ReadinessItem = apps.get_model("sites", "ReadinessItem")
    for position, (code, label, addition) in enumerate(EQUIPMENT):
        EquipmentItem.objects.update_or_create(
            code=code, defaults={"label": label, "field_addition": addition, "position": position}
        )
    for position, (code, label, mandatory) in enumerate(READINESS):
        ReadinessItem.objects.update_or_create(
            code=code, defaults={"label": label, "mandatory": mandatory, "position": position}
        )


class Migration(migrations.Migration):
    dependencies = [("sites", "0003_host_sites_and_info_sheets")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
