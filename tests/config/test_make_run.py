"""`make run` prints one clear block (URL, accounts, where mail goes), does not flood the console
with the seeded emails, and leaves `git status` clean (issue 12, "The demo tells the whole
story")."""

from __future__ import annotations

import io
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core import mail
from django.core.management import call_command

from accounts import delivery
from accounts.models import Notification

ROOT = Path(settings.BASE_DIR)


def test_seeding_twice_sends_no_email_for_the_seeds_own_messages(
    db, django_capture_on_commit_callbacks
):
    # The commit hands the messages to the worker (eager here), as in `make run`.
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", stdout=io.StringIO())
    written = Notification.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", stdout=io.StringIO())

    assert written > 0  # bookings, assignments, escalations: in the inboxes
    assert Notification.objects.count() == written
    assert mail.outbox == []
    assert set(Notification.objects.values_list("status", "channel")) == {("sent", "inapp")}
    # Nor will the sweeper send them later.
    assert delivery.stale_ids() == []


def test_the_summary_block_lists_the_url_the_accounts_and_where_mail_goes(db, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(ROOT / "var" / "mail")
    call_command("seed_demo", stdout=io.StringIO())
    out = io.StringIO()

    call_command("seed_demo", "--summary-only", "--url", "http://127.0.0.1:8000/", stdout=out)

    block = out.getvalue()
    assert "Relève demo: http://127.0.0.1:8000/" in block
    for email in (
        "national@demo.releve.fr", "ars@demo.releve.fr", "cpts@demo.releve.fr",
        "secretariat@demo.releve.fr", "infirmiere@demo.releve.fr", "dr.martin@demo.releve.fr",
        "dr.bernard@demo.releve.fr", "dr.petit@demo.releve.fr",
    ):  # fmt: skip
        assert re.search(rf"^  {re.escape(email)} +\S", block, re.M), email
    assert "Password: releve-demo" in block
    assert "Second factor:" in block
    assert "Mail: written as files under var/mail/" in block
    assert "Ctrl-C" in block


def test_every_path_make_run_writes_is_git_ignored():
    written = [
        "db.sqlite3", "db.sqlite3-journal", "var/mail/20260101-000000-1.log",
        "var/log/worker.log", "var/log/beat.log", "var/run/worker.pid", "var/run/beat.pid",
        "var/celery/queue/1_x.celery.msg", "var/celery/control/celery.exchange",
        "var/media/photo.jpg", "var/staticfiles/css/app.css", "var/cache/x",
        "releve.egg-info/PKG-INFO", "build/lib/config/settings.py", ".venv/.installed",
    ]  # fmt: skip
    result = subprocess.run(
        ["git", "check-ignore", "--no-index", "--verbose", "--non-matching", *written],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    not_ignored = [line.split("\t")[-1] for line in result.stdout.splitlines() if line[:2] == "::"]
    assert not_ignored == []
    tracked = subprocess.run(
        ["git", "ls-files", "releve.egg-info", "build", "var", "db.sqlite3"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert tracked == ""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


FAKE_CELERY = """#!/bin/sh
echo "celery $* [INFO] a worker's chatter"
exec sleep 60
"""
# `python manage.py runserver` answers on the port; `seed_demo --summary-only` prints a block.
FAKE_PYTHON = """#!/bin/sh
if [ "$2" = runserver ]; then
  exec {python} -m http.server --bind 127.0.0.1 "${{3##*:}}" >/dev/null 2>&1
fi
echo "BLOCK $*"
"""


def test_run_all_sends_the_worker_and_beat_to_var_log_and_ends_on_the_block(tmp_path):
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "run-all.sh", tmp_path / "scripts" / "run-all.sh")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "celery").write_text(FAKE_CELERY)
    (bin_dir / "python").write_text(FAKE_PYTHON.format(python=sys.executable))
    for name in ("celery", "python"):
        (bin_dir / name).chmod(0o755)
    port = _free_port()
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "PORT": str(port)}
    process = subprocess.Popen(
        ["bash", str(tmp_path / "scripts" / "run-all.sh")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        lines = []
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            lines.append(line)
            if line.startswith("BLOCK"):
                break
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    console = "".join(lines)

    assert f"BLOCK manage.py seed_demo --summary-only --url http://127.0.0.1:{port}/" in console
    assert "chatter" not in console
    assert "worker" in (tmp_path / "var" / "log" / "worker.log").read_text()
    assert "beat" in (tmp_path / "var" / "log" / "beat.log").read_text()
    assert (tmp_path / "var" / "mail").is_dir()


def test_make_run_writes_emails_to_var_mail_and_seeds_quietly():
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "django.core.mail.backends.filebased.EmailBackend" in makefile.split("\nrun:", 1)[0]
    assert "$(RUN_ENV)" in recipe
    assert "seed_demo --verbosity 0" in recipe
    assert "migrate --noinput --verbosity 0" in recipe
