"""The secret of a site's calendar feed moves onto the site (it was `vacations.SiteCalendar`):
the sites app can then rotate it when someone leaves the team. Each existing site gets a new
secret here; vacations' next migration carries over the secrets already handed out."""

import secrets

from django.db import migrations, models

import sites.models.places


def fill(apps, schema_editor):
    HostSite = apps.get_model("sites", "HostSite")
    for site in HostSite.objects.filter(calendar_token__isnull=True).only("pk"):
        HostSite.objects.filter(pk=site.pk).update(calendar_token=secrets.token_urlsafe(24))


class Migration(migrations.Migration):
    dependencies = [("sites", "0004_equipment_and_readiness_catalogues")]

    operations = [
        migrations.AddField(
            model_name="hostsite",
            name="calendar_token",
            field=models.CharField(editable=False, max_length=64, null=True),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="hostsite",
            name="calendar_token",
            field=models.CharField(
                default=sites.models.places.new_calendar_token,
                editable=False,
                max_length=64,
                unique=True,
            ),
        ),
    ]
