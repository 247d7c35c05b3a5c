"""Email backends for the fault tests only (a worker subprocess loads them by name)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from django.core.mail.backends.filebased import EmailBackend


class HoldingFileBackend(EmailBackend):
    """The file backend (one file per message in EMAIL_FILE_PATH), which can be made to stop
    in the middle of a delivery: while the file named by RELEVE_TEST_HOLD exists, it writes
    `<that file>.reached` and waits there, before anything is written."""

    def send_messages(self, email_messages):
        hold = os.environ.get("RELEVE_TEST_HOLD")
        if hold and Path(hold).exists():
            Path(f"{hold}.reached").write_text(str(os.getpid()))
            while Path(hold).exists():
                time.sleep(0.05)
        return super().send_messages(email_messages)
