"""`SiteCalendar` is gone: its secret now lives on the site (`HostSite.calendar_token`). The
secrets already handed out are kept, so that subscribed calendars go on working."""

from django.db import migrations


def carry_over(apps, schema_editor):
    SiteCalendar = apps.get_model("vacations", "SiteCalendar")
    HostSite = apps.get_model("sites", "HostSite")
    for calendar in SiteCalendar.objects.all():
        HostSite.objects.filter(pk=calendar.site_id).update(calendar_token=calendar.token)


def carry_back(apps, schema_editor):
    SiteCalendar = apps.get_model("vacations", "SiteCalendar")
    HostSite = apps.get_model("sites", "HostSite")
    SiteCalendar.objects.bulk_create(
        SiteCalendar(site_id=pk, token=token)
        for pk, token in HostSite.objects.values_list("pk", "calendar_token")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("sites", "0005_site_calendar_token"),
        ("vacations", "0006_day_arrival_time"),
    ]

    operations = [
        migrations.RunPython(carry_over, carry_back),
        migrations.DeleteModel(name="SiteCalendar"),
    ]
