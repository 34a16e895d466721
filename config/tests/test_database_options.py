"""The application's PostgreSQL connections run without JIT compilation unless DB_JIT is set
(issue 17: compiling cost a manager's dashboard more than its query)."""

import os
import subprocess
import sys

from django.db import connection

from conftest import REPO_ROOT


def test_the_applications_connections_do_not_jit_compile(db):
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


def test_db_jit_gives_the_servers_setting_back():
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.DATABASES['default'].get('OPTIONS', {}).get('options', ''))"
    )
    for value, expected in (("1", ""), ("0", "-c jit=off")):
        result = subprocess.run(  # noqa: S603 - fixed argv
            [sys.executable, "-c", code],
            cwd=REPO_ROOT,
            env={**os.environ, "DB_JIT": value},
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        assert result.stdout.strip() == expected
