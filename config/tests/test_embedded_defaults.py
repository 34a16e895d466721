"""The one smoke test of the embedded defaults (SQLite, in-memory layer, in-process tasks).

Everything else in the suite runs on PostgreSQL and Redis. This runs what the README's first
command runs, in subprocesses with no DATABASE_URL or REDIS_URL: migrate, seed the demo, start
Daphne, and log in as the demo therapist; debug pages are off there (the friendly 404 answers
another therapist's patient) and static files are served by WhiteNoise.
"""

import http.cookiejar
import os
import re
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from analysis.tests.support import free_port, http_answers, wait_for
from conftest import REPO_ROOT

DEMO_THERAPIST = "therapist@demo.myoclinic.org"
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - the documented demo password


def embedded_env(var_dir: Path) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "MEDIA_ROOT", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(DJANGO_SETTINGS_MODULE="config.settings.local", MYOCLINIC_VAR_DIR=str(var_dir))
    return env


def manage(env, *args, timeout=600):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )


def test_the_embedded_defaults_run_the_demo_on_sqlite(tmp_path):
    env = embedded_env(tmp_path / "var")
    manage(env, "migrate", "--noinput")
    first = manage(env, "seed_demo").stdout
    assert DEMO_THERAPIST in first
    manage(env, "seed_demo")  # idempotent
    database = tmp_path / "var" / "db.sqlite3"
    assert database.is_file()
    # Tasks run in-process here: every demo recording is analysed, none left pending.
    with sqlite3.connect(database) as db:
        statuses = dict(
            db.execute(
                "SELECT status, COUNT(*) FROM therapy_sessions_recording GROUP BY status"
            ).fetchall()
        )
    assert statuses.get("done", 0) > 0, statuses
    assert set(statuses) == {"done"}, statuses
    with sqlite3.connect(database) as db:
        # D005 is the other demo therapist's patient only.
        (others_patient,) = db.execute(
            "SELECT id FROM patients_patient WHERE code = 'D005'"
        ).fetchone()

    port = free_port()
    server = subprocess.Popen(  # noqa: S603 - fixed argv
        [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "config.asgi:application",
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"

        def serving():
            assert server.poll() is None, server.communicate()[1].decode()[-2000:]
            return http_answers(f"{base}/healthz")

        wait_for(serving, timeout=30, interval=0.2, what="daphne to answer /healthz")
        assert urllib.request.urlopen(f"{base}/healthz", timeout=5).status == 200

        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        login_page = opener.open(f"{base}/accounts/login/").read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page).group(1)
        form = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": token, "login": DEMO_THERAPIST, "password": DEMO_PASSWORD}
        ).encode()
        request = urllib.request.Request(
            f"{base}/accounts/login/", data=form, headers={"Referer": f"{base}/accounts/login/"}
        )
        dashboard = opener.open(request)
        assert dashboard.url.rstrip("/") == base
        body = dashboard.read().decode()
        assert "Log out" in body or "Sign out" in body

        # Debug is off by default: out of scope answers the site's own 404 page in its layout,
        # not Django's debug page listing the URL patterns.
        with pytest.raises(urllib.error.HTTPError) as answer:
            opener.open(f"{base}/patients/{others_patient}/")
        assert answer.value.code == 404
        not_found = answer.value.read().decode()
        assert "Page not found" in not_found
        assert "Back to the dashboard" in not_found
        assert 'class="site-header' in not_found
        assert "URLconf" not in not_found
        assert "DEBUG = True" not in not_found
        with pytest.raises(urllib.error.HTTPError) as answer:
            opener.open(f"{base}/no-such-page/")
        assert answer.value.code == 404
        assert "URLconf" not in answer.value.read().decode()
        # Static files (ours and the admin's) come through WhiteNoise with debug off.
        for path in ("/static/css/app.css", "/static/admin/css/base.css"):
            assert opener.open(f"{base}{path}").status == 200, path
    finally:
        server.terminate()
        try:
            _, stderr = server.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            stderr = b""
    assert b"Traceback" not in stderr, stderr.decode()[-2000:]


@pytest.mark.parametrize("module", ["config.settings.test"])
def test_the_suite_refuses_sqlite(module, tmp_path):
    env = embedded_env(tmp_path / "var")
    env["DJANGO_SETTINGS_MODULE"] = module
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "runs on PostgreSQL and Redis" in result.stderr
