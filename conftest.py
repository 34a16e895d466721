"""Personas shared by every test (healthchecks style), and the suite's shared fixtures.

Clinic "North": therapists Alice and Bob (each with their own patient), manager Carol, researcher
Rita. Clinic "South": therapist Dave with his patient. Admin Zoe is a superuser without a clinic.
Every surface is checked against all of them.

The personas' builders and name checks are here (``make_patient``, ``names_in``), and the real
components as fixtures, each defined once: the Redis ``broker``, an embedded Celery ``worker``, a
``daphne`` server process and a Chromium ``browser_context``/``page``. The other plain helpers
(recordings, result documents, logins, waiting, processes) are in ``analysis/tests/support.py``.
"""

import datetime as dt
import os
from pathlib import Path

import pytest
import redis
from django.contrib.auth.models import Group
from django.db import connections, transaction
from django.db.backends.postgresql.operations import DatabaseOperations as PostgresOperations
from playwright.sync_api import sync_playwright

from analysis.tests.support import DaphneProcess, embedded_worker, purge_broker, worker_env
from clinic.models import Clinic, User
from clinic.roles import CLINIC_MANAGER, RESEARCHER, THERAPIST
from patients.models import Patient
from sessions.models import TherapySession

REPO_ROOT = Path(__file__).resolve().parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
# The system Chromium (Debian package), started so that it never reaches for the network.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct horse battery staple"  # noqa: S105 - test fixture password


_execute_sql_flush = PostgresOperations.execute_sql_flush


def _flush_past_the_audit_guard(self, sql_list):
    """The test flush (``transaction=True`` and live-server tests) empties every table with
    TRUNCATE, which the audit trail refuses (its ``no_truncate`` trigger). The flush alone runs
    with ``session_replication_role = replica``, under which no ordinary trigger fires: only a
    superuser (the test database's owner) may set it, never the application's role
    (``clinic/tests/test_audit_truncate.py``)."""
    with transaction.atomic(using=self.connection.alias):
        with self.connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
        _execute_sql_flush(self, sql_list)


PostgresOperations.execute_sql_flush = _flush_past_the_audit_guard


def pytest_collection_modifyitems(items):
    """Transactional tests restore the migrated data (role groups, permissions) after their flush.

    A `transaction=True` or live-server test ends with a flush that empties every table,
    including what the data migrations created; Django's remedy is `serialized_rollback`, which
    reloads that state. Applied here once so no test has to remember it.
    """
    for item in items:
        marker = item.get_closest_marker("django_db")
        kwargs = dict(marker.kwargs) if marker else {}
        fixtures = getattr(item, "fixturenames", ())
        transactional = kwargs.get("transaction") or {"transactional_db", "live_server"} & set(
            fixtures
        )
        if transactional and not kwargs.get("serialized_rollback"):
            kwargs.update(transaction=True, serialized_rollback=True)
            item.add_marker(
                pytest.mark.django_db(*(marker.args if marker else ()), **kwargs), append=False
            )


def pytest_collection_finish(session):
    """Refuse a run where a database test comes after a transactional one.

    A transactional test ends with a flush (its data comes back only at the next transactional
    test's start), so pytest-django runs them after every other database test. pytest's own
    grouping by session-scoped parameters can undo that: a test whose parameter is named like
    a browser fixture (``page``) is given the browser's parameter and moved among the browser
    tests, and every database test after it then finds no role groups. Found at collection,
    with the test's name, instead of as a thousand setup errors.
    """
    transactional_seen = None
    for item in session.items:
        marker = item.get_closest_marker("django_db")
        fixtures = set(getattr(item, "fixturenames", ()))
        if (marker and marker.kwargs.get("transaction")) or {
            "transactional_db",
            "live_server",
        } & fixtures:
            transactional_seen = transactional_seen or item
        elif (marker or "db" in fixtures) and transactional_seen:
            raise pytest.UsageError(
                f"{item.nodeid} uses the database but is ordered after the transactional "
                f"{transactional_seen.nodeid}, whose flush would leave it an empty database "
                "(a parameter named like a fixture of the browser tests, such as 'page'?)"
            )


def shared_c3d_dir() -> Path:
    """The real recordings beside the repository; in CI their absence fails, never skips."""
    folder = SHARED_DATA / "c3d"
    if not folder.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{folder} is missing: CI must run with ../shared beside the repository")
        pytest.skip(f"{folder} is not present on this machine")
    return folder


def make_staff(email, full_name, clinic, *roles):

    user = User.objects.create_user(email=email, password=PASSWORD, full_name=full_name)
    user.clinic = clinic
    user.save()
    for role in roles:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def north(db):

    return Clinic.objects.create(name="North Rehab", code="north")


@pytest.fixture
def south(db):

    return Clinic.objects.create(name="South Rehab", code="south")


@pytest.fixture
def alice(north):
    return make_staff("alice@north.test", "Alice Therapist", north, THERAPIST)


@pytest.fixture
def bob(north):
    return make_staff("bob@north.test", "Bob Therapist", north, THERAPIST)


@pytest.fixture
def carol(north):
    return make_staff("carol@north.test", "Carol Manager", north, CLINIC_MANAGER)


@pytest.fixture
def rita(north):
    return make_staff("rita@north.test", "Rita Researcher", north, RESEARCHER)


@pytest.fixture
def dave(south):
    return make_staff("dave@south.test", "Dave Elsewhere", south, THERAPIST)


@pytest.fixture
def zoe(db):

    return User.objects.create_superuser(email="zoe@admin.test", password=PASSWORD)


def make_patient(clinic, code, first, last, *therapists, **extra):

    patient = Patient.objects.create(
        clinic=clinic,
        code=code,
        first_name=first,
        last_name=last,
        mrn=extra.pop("mrn", f"MRN-{code}"),
        date_of_birth=extra.pop("date_of_birth", dt.date(1950, 5, 17)),
        sex=extra.pop("sex", "F"),
        **extra,
    )
    patient.therapists.set(therapists)
    return patient


@pytest.fixture
def alices_patient(alice):
    return make_patient(alice.clinic, "P001", "Agatha", "Aldersley", alice)


@pytest.fixture
def bobs_patient(bob):
    return make_patient(bob.clinic, "P002", "Bertram", "Brockhurst", bob)


@pytest.fixture
def daves_patient(dave):
    return make_patient(dave.clinic, "S001", "Desmond", "Dunleavy", dave)


@pytest.fixture
def session_of(db):
    """Factory: a therapy session for a patient, by its therapist."""

    def make(patient, therapist=None, **extra):
        therapist = therapist or patient.therapists.first()
        return TherapySession.objects.create(patient=patient, therapist=therapist, **extra)

    return make


@pytest.fixture
def everyone(alice, bob, carol, rita, dave, zoe, alices_patient, bobs_patient, daves_patient):
    """All personas and their patients, for access matrices."""
    return {
        "alice": alice,
        "bob": bob,
        "carol": carol,
        "rita": rita,
        "dave": dave,
        "zoe": zoe,
        "alices_patient": alices_patient,
        "bobs_patient": bobs_patient,
        "daves_patient": daves_patient,
    }


# Who sees whose records: every surface is checked against this one table.
PATIENT_KEYS = ("alices_patient", "bobs_patient", "daves_patient")
PATIENTS_SEEN_BY = {
    "alice": {"alices_patient"},
    "bob": {"bobs_patient"},
    "carol": {"alices_patient", "bobs_patient"},
    "rita": {"alices_patient", "bobs_patient"},
    "dave": {"daves_patient"},
    "zoe": set(PATIENT_KEYS),
}

# Names that must never leak outside their scope.
FOREIGN_NAMES = {
    "alices_patient": ("Agatha", "Aldersley"),
    "bobs_patient": ("Bertram", "Brockhurst"),
    "daves_patient": ("Desmond", "Dunleavy"),
}


def names_in(body: str) -> set[str]:
    """Every patient name of FOREIGN_NAMES that appears in ``body``."""
    return {name for names in FOREIGN_NAMES.values() for name in names if name in body}


def names_of(*patient_keys) -> set[str]:
    """The names of these patients (keys of FOREIGN_NAMES)."""
    return {name for key in patient_keys for name in FOREIGN_NAMES[key]}


# ---------------------------------------------------------------------------------------------
# Real components: the broker, a Celery worker, a Daphne server, a browser
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def broker(settings):
    """The test Redis broker as a client, with this run's queue emptied before and after."""

    purge_broker()
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    yield client
    purge_broker()
    client.close()


@pytest.fixture
def worker(transactional_db):
    """A real Celery worker (embedded: a thread of this process) on the real Redis broker.

    Not eager: messages go through Redis and are acknowledged as in production. The test
    needs ``django_db(transaction=True)`` so that the worker's connection sees its rows.
    """

    with embedded_worker() as running:
        yield running


@pytest.fixture
def server_env():
    """The environment of server and worker subprocesses: this test's database and Redis."""

    return worker_env(ALLOWED_HOSTS="127.0.0.1,localhost")


@pytest.fixture
def daphne(server_env, tmp_path):
    """A real Daphne serving config.asgi (pages, static files, websockets): its base URL."""

    server = DaphneProcess(server_env, tmp_path / "daphne.log").start()
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright's launch arguments, pointed at /usr/bin/chromium (never a download)."""
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture
def browser_context(monkeypatch, browser_type_launch_args):
    """A fresh Chromium context per test, its Playwright (and event loop) stopped afterwards.

    pytest-playwright's own fixtures hang off a session-wide Playwright whose event loop keeps
    running in the main thread until the end of the run, which breaks every asyncio test
    (websockets, channels) collected after the first browser test. Playwright's sync API runs
    that loop in this thread, so Django's async-safety check is lifted for the test only. While
    the loop runs, Django keeps the thread's database connection per context: it is closed
    before the loop stops, or it would block dropping the test database at the end of the run.
    """

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**browser_type_launch_args)
        context = browser.new_context(viewport={"width": 1366, "height": 900})
        try:
            yield context
        finally:
            context.close()
            browser.close()
            connections.close_all()


@pytest.fixture
def page(browser_context):
    """A Chromium page (replaces pytest-playwright's session-wide one, see browser_context)."""
    return browser_context.new_page()
