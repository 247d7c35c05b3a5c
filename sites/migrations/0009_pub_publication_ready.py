"""Publication means ready (issue 13): access to the DMP, a lab results server and a secure
messaging address are mandatory readiness items, and each sheet's "course nurse" item is
recomputed from the site's staff (and its pôle mère's), as `follow_up_readiness_refresh` does."""

from django.db import migrations
from django.db.models import Exists, OuterRef, Q

# Frozen here: the catalogue's labels as of this migration (sites/catalogues.py).
CONTINUITY_ACCESS = (
    ("dmp_access", "Accès au DMP configuré"),
    ("lab_results_server", "Accès au serveur de résultats de biologie configuré"),
    ("mssante", "Messagerie sécurisée MSSanté configurée"),
)
FOLLOW_UP_ROLES = ("course_nurse", "medical_assistant")


def mandatory_access(apps, schema_editor):
    ReadinessItem = apps.get_model("sites", "ReadinessItem")
    for code, label in CONTINUITY_ACCESS:
        item = ReadinessItem.objects.filter(code=code).first()
        if item is None:
            last = ReadinessItem.objects.order_by("-position").first()
            ReadinessItem.objects.create(
                code=code, label=label, mandatory=True, position=last.position + 1 if last else 0
            )
        elif not item.mandatory:
            item.mandatory = True
            item.save(update_fields=["mandatory"])


def optional_dmp(apps, schema_editor):
    apps.get_model("sites", "ReadinessItem").objects.filter(code="dmp_access").update(
        mandatory=False
    )


def recompute_course_nurse(apps, schema_editor):
    Membership = apps.get_model("sites", "Membership")
    SheetReadiness = apps.get_model("sites", "SheetReadiness")
    staff = Membership.objects.filter(role__in=FOLLOW_UP_ROLES, user__is_active=True)
    staffed = Exists(
        staff.filter(Q(site=OuterRef("sheet__site")) | Q(site=OuterRef("sheet__site__parent")))
    )
    rows = SheetReadiness.objects.filter(item__code="course_nurse")
    rows.filter(staffed).exclude(status="ok").update(status="ok")
    rows.filter(~staffed).exclude(status="missing").update(status="missing")


class Migration(migrations.Migration):
    dependencies = [("sites", "0008_medical_assistant_role")]

    operations = [
        migrations.RunPython(mandatory_access, optional_dmp),
        migrations.RunPython(recompute_course_nurse, migrations.RunPython.noop),
    ]
