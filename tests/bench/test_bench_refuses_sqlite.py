from __future__ import annotations

from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db import connection


def test_the_bench_refuses_anything_but_postgresql():
    with mock.patch.object(connection, "vendor", "sqlite"), pytest.raises(CommandError) as error:
        call_command("bench", "--scale", "small")

    assert "PostgreSQL only" in str(error.value)
