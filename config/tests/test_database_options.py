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


PREPARED_PROBE = (
    "import django; django.setup()\n"
    "from django.db import connection\n"
    "with connection.cursor() as cursor:\n"
    "    for n in range(3):\n"
    "        cursor.execute('SELECT %s::int AS myoclinic_probe', [n])\n"
    '    cursor.execute("SELECT count(*) FROM pg_prepared_statements"\n'
    "                   \" WHERE statement LIKE '%%myoclinic_probe%%'\")\n"
    "    print(cursor.fetchone()[0])\n"
)


def test_prepared_statements_only_when_asked():
    """DB_SERVER_SIDE_BINDING with DB_PREPARE_THRESHOLD prepares a statement run that many
    times on a connection (PostgreSQL no longer plans it per request); by default nothing is
    prepared, which keeps PgBouncer in transaction pooling mode working."""
    prepared = {}
    for name, extra in (
        ("default", {}),
        ("binding only", {"DB_SERVER_SIDE_BINDING": "true"}),
        ("prepared", {"DB_SERVER_SIDE_BINDING": "true", "DB_PREPARE_THRESHOLD": "2"}),
    ):
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"DB_SERVER_SIDE_BINDING", "DB_PREPARE_THRESHOLD"}
        }
        result = subprocess.run(  # noqa: S603 - fixed argv
            [sys.executable, "-c", PREPARED_PROBE],
            cwd=REPO_ROOT,
            env={**env, **extra},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        prepared[name] = int(result.stdout.strip())
    assert prepared == {"default": 0, "binding only": 0, "prepared": 1}
