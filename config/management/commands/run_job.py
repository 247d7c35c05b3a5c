from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from config.celery import app


class Command(BaseCommand):
    help = "Run one periodic job now, the same code Celery beat runs (CELERY_BEAT_SCHEDULE)."

    def add_arguments(self, parser):
        parser.add_argument("name", choices=sorted(settings.CELERY_BEAT_SCHEDULE))

    def handle(self, *args, name: str, **options):
        task_name = settings.CELERY_BEAT_SCHEDULE[name]["task"]
        app.loader.import_default_modules()
        task = app.tasks.get(task_name)
        if task is None:
            raise CommandError(f"Job {name!r} names an unknown task {task_name!r}.")
        # In-process, in this command's transaction scope: the job's own atomic blocks commit,
        # then the messages they wrote are enqueued for the worker.
        result = task.apply().get()
        self.stdout.write(self.style.SUCCESS(f"{name}: {result}"))
