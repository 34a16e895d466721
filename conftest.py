"""Personas shared by every test (healthchecks style).

Clinic "North": therapists Alice and Bob (each with their own patient), manager Carol, researcher
Rita. Clinic "South": therapist Dave with his patient. Admin Zoe is a superuser without a clinic.
Every surface is checked against all of them.
"""

import datetime as dt
import os
from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from clinic.roles import CLINIC_MANAGER, RESEARCHER, THERAPIST

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


def shared_c3d_dir() -> Path:
    """The real recordings beside the repository; in CI their absence fails, never skips."""
    folder = SHARED_DATA / "c3d"
    if not folder.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{folder} is missing: CI must run with ../shared beside the repository")
        pytest.skip(f"{folder} is not present on this machine")
    return folder


def make_staff(email, full_name, clinic, *roles):
    from clinic.models import User

    user = User.objects.create_user(email=email, password=PASSWORD, full_name=full_name)
    user.clinic = clinic
    user.save()
    for role in roles:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def north(db):
    from clinic.models import Clinic

    return Clinic.objects.create(name="North Rehab", code="north")


@pytest.fixture
def south(db):
    from clinic.models import Clinic

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
    from clinic.models import User

    return User.objects.create_superuser(email="zoe@admin.test", password=PASSWORD)


def make_patient(clinic, code, first, last, *therapists, **extra):
    from patients.models import Patient

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
    from sessions.models import TherapySession

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


# Names that must never leak outside their scope.
FOREIGN_NAMES = {
    "alices_patient": ("Agatha", "Aldersley"),
    "bobs_patient": ("Bertram", "Brockhurst"),
    "daves_patient": ("Desmond", "Dunleavy"),
}
