"""The application's PostgreSQL connections run without JIT compilation unless DB_JIT is set
(issue 17: compiling cost a manager's dashboard more than its query), and prepare the
statements they run again unless told not to (issue 17: parsing on every request)."""

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


def _prepared_after_three_runs(extra):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DB_SERVER_SIDE_BINDING", "DB_PREPARE_THRESHOLD"}
    }
    return subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "-c", PREPARED_PROBE],
        cwd=REPO_ROOT,
        env={**env, **extra},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_statements_are_prepared_unless_turned_off():
    """By default a statement run twice on a connection is prepared there (PostgreSQL no
    longer parses it per request); DB_PREPARE_THRESHOLD=off keeps server-side binding and
    prepares nothing (PgBouncer in transaction pooling mode), DB_SERVER_SIDE_BINDING=false
    gives back client-side binding."""
    prepared = {}
    for name, extra in (
        ("default", {}),
        ("threshold 5", {"DB_PREPARE_THRESHOLD": "5"}),
        ("threshold off", {"DB_PREPARE_THRESHOLD": "off"}),
        ("client-side binding", {"DB_SERVER_SIDE_BINDING": "false"}),
    ):
        result = _prepared_after_three_runs(extra)
        assert result.returncode == 0, result.stderr[-2000:]
        prepared[name] = int(result.stdout.strip())
    assert prepared == {
        "default": 1,
        "threshold 5": 0,
        "threshold off": 0,
        "client-side binding": 0,
    }


def test_a_bad_prepare_threshold_is_a_clear_error():
    result = _prepared_after_three_runs({"DB_PREPARE_THRESHOLD": "sometimes"})
    assert result.returncode != 0
    assert "DB_PREPARE_THRESHOLD must be a whole number or 'off'" in result.stderr
