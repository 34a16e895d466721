"""A therapist uploads a game recording and watches it become results without reloading.

Everything is real: a Daphne server (HTTP and websockets) and a Celery worker as subprocesses on
the test database and the test Redis, the system Chromium driven by Playwright, and a real
GHOSTLY recording chosen through the file picker.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from analysis.tests.support import WorkerProcess, free_port, purge_broker, worker_env
from conftest import CHROMIUM, CHROMIUM_ARGS, shared_c3d_dir

pytestmark = [
    pytest.mark.browser,
    pytest.mark.worker,
    pytest.mark.server,
    pytest.mark.django_db(transaction=True),
]

REPO = Path(__file__).resolve().parents[2]
GHOSTLY = "ghostly/Ghostly_Emg_20230321_17-23-09-0409.c3d"


@pytest.fixture
def server_env(tmp_path):
    """The subprocesses' environment: this test's database, and static files collected once."""
    static_root = tmp_path / "static"
    env = worker_env(STATIC_ROOT=static_root)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=REPO,
        env=env,
        check=True,
        timeout=120,
    )
    return env


@pytest.fixture
def daphne(server_env, tmp_path):
    """A real Daphne serving config.asgi (pages, static files, websockets) on a free port."""
    port = free_port()
    log = open(tmp_path / "daphne.log", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [
            shutil.which("daphne", path=str(Path(sys.executable).parent)) or "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "config.asgi:application",
        ],
        cwd=REPO,
        env=server_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/accounts/login/", timeout=2)  # noqa: S310 - loopback
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                log.close()
                raise RuntimeError((tmp_path / "daphne.log").read_text()[-3000:]) from None
            time.sleep(0.2)
    yield url
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
    log.close()


@pytest.fixture
def worker(server_env, tmp_path):
    purge_broker()
    running = WorkerProcess(server_env, tmp_path / "worker.log").start()
    yield running
    running.stop()


@pytest.fixture
def browser_page(monkeypatch):
    """A Chromium page; Playwright's sync API runs an event loop, so Django must allow it.

    While that loop runs, Django keeps this thread's database connection per context (as in
    async code), apart from the thread's usual one: it is closed before the loop stops, or it
    would stay open and block dropping the test database at the end of the run.
    """
    from django.db import connections
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1366, "height": 900})
        try:
            yield context
        finally:
            context.close()
            browser.close()
            connections.close_all()


def signed_in(context, client, user, base_url):
    """Share a real login session (database sessions) between the test client and Chromium."""
    client.force_login(user)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base_url}]
    )
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # Failed requests are reported by URL below; a CSP violation or a script error lands here.
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on(
        "response",
        lambda response: (
            errors.append(f"{response.status} {response.url}")
            if response.status >= 400 and not response.url.endswith("/favicon.ico")
            else None
        ),
    )
    return page, errors


def test_a_therapist_watches_an_upload_become_results_without_reloading(
    daphne, worker, browser_page, client, alice, alices_patient, session_of
):
    from django.urls import reverse

    path = shared_c3d_dir() / GHOSTLY
    session = session_of(alices_patient)
    page, errors = signed_in(browser_page, client, alice, daphne)
    page.goto(daphne + reverse("sessions:detail", args=[session.pk]))
    page.wait_for_selector("[data-recording-list][data-live=connected]", timeout=15000)
    # A marker that a reload would wipe out.
    page.evaluate("window.__noReload = 'still here'")

    # A file that is not C3D is refused at once, with the reason, and never becomes a row.
    page.set_input_files(
        "[data-upload-form] input[type=file]",
        files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not EMG\n" * 200}],
    )
    refused = page.wait_for_selector("[data-upload-list] .upload-refused", timeout=15000)
    assert "notes.txt is not a C3D recording" in refused.inner_text()
    assert page.locator("[data-recording-id]").count() == 0

    page.set_input_files("[data-upload-form] input[type=file]", str(path))

    row = page.wait_for_selector("[data-recording-id]", timeout=15000)
    first_status = row.get_attribute("data-status")
    assert first_status in {"pending", "processing"}
    page.wait_for_selector("[data-recording-id][data-status=done]", timeout=90000)
    page.wait_for_selector("[data-recording-id] svg.chart", timeout=15000)
    # The session score panel follows without a reload too.
    page.wait_for_selector(
        '[data-session-score] [data-score="overall"]:not(.metric-missing)', timeout=15000
    )

    assert page.evaluate("window.__noReload") == "still here"
    assert page.locator("[data-recording-id] svg.chart").count() == 2
    assert page.locator('[data-recording-id] [data-metric="count"]').count() == 2
    assert page.locator('[data-recording-id] [data-metric="game_count"]').count() == 2
    assert "Done" in page.locator("[data-status-badge]").first.inner_text()
    assert page.locator("[data-upload-list] .upload-ok").count() == 1
    # The refusal answered 400 by design; nothing else failed.
    expected = {f"400 {daphne}/sessions/{session.pk}/upload/"}
    assert [e for e in errors if e not in expected] == [], errors
    assert os.path.basename(path) in page.content()
