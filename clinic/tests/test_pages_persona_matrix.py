"""Every staff page against every persona: status codes, and no name outside one's scope.

Out of scope is 404, a missing permission 403, anonymous is sent to the login page; researchers
see no patient names at all. Bodies are checked against conftest.FOREIGN_NAMES.
"""

import pytest
from django.urls import reverse

from clinic.tests.pages_support import make_recording, names_in, names_of

pytestmark = pytest.mark.django_db

PATIENTS = ("alices_patient", "bobs_patient", "daves_patient")
SCOPE = {
    "alice": {"alices_patient"},
    "bob": {"bobs_patient"},
    "carol": {"alices_patient", "bobs_patient"},
    "rita": {"alices_patient", "bobs_patient"},
    "dave": {"daves_patient"},
    "zoe": set(PATIENTS),
    "anonymous": set(),
}
# Which personas hold the permission each page needs (from the role groups; zoe is superuser).
CLINICAL = {"alice", "bob", "carol", "dave", "zoe"}
MANAGERS = {"carol", "zoe"}
EVERY_ROLE = CLINICAL | {"rita"}
GLOBAL_PAGES = {  # name -> who may open it
    "dashboard": EVERY_ROLE,
    "patients:list": EVERY_ROLE,
    "patients:create": CLINICAL,
}
PATIENT_PAGES = {
    "patients:detail": EVERY_ROLE,
    "patients:edit": CLINICAL,
    "patients:void": MANAGERS,
    "patients:session-create": CLINICAL,
}
SESSION_PAGES = {
    "sessions:detail": EVERY_ROLE,
    "sessions:edit": CLINICAL,
    "sessions:void": MANAGERS,
}
RECORDING_PAGES = {
    "sessions:recording": EVERY_ROLE,
    "sessions:recording-download": CLINICAL,  # researchers never get identifiable files
}


@pytest.fixture
def world(everyone, session_of):
    objects = dict(everyone)
    for key in PATIENTS:
        session = session_of(everyone[key], notes="seen")
        objects[f"{key}:session"] = session
        objects[f"{key}:recording"] = make_recording(session, name=f"{key}.c3d")
    return objects


def expected(persona, allowed, target=None):
    if persona == "anonymous":
        return 302
    if target is not None and target not in SCOPE[persona]:
        return 404
    return 200 if persona in allowed else 403


def pages(world):
    """(description, url, who may open it, patient key or None)."""
    for name, allowed in GLOBAL_PAGES.items():
        yield name, reverse(name), allowed, None
    for key in PATIENTS:
        for name, allowed in PATIENT_PAGES.items():
            yield f"{name} {key}", reverse(name, args=[world[key].pk]), allowed, key
        for name, allowed in SESSION_PAGES.items():
            url = reverse(name, args=[world[f"{key}:session"].pk])
            yield f"{name} {key}", url, allowed, key
        for name, allowed in RECORDING_PAGES.items():
            url = reverse(name, args=[world[f"{key}:recording"].pk])
            yield f"{name} {key}", url, allowed, key


@pytest.mark.parametrize("persona", list(SCOPE))
def test_every_page_answers_as_the_access_policy_says(client, world, persona):
    if persona != "anonymous":
        client.force_login(world[persona])
    visible_names = set() if persona == "rita" else names_of(*SCOPE[persona])
    problems = []
    for description, url, allowed, target in pages(world):
        response = client.get(url)
        want = expected(persona, allowed, target)
        if response.status_code != want:
            problems.append(f"{description}: {response.status_code}, expected {want}")
        if want == 302 and "/accounts/login/" not in response.get("Location", ""):
            problems.append(f"{description}: redirected elsewhere than the login page")
        if getattr(response, "streaming", False):
            continue
        leaked = names_in(response.content.decode()) - visible_names
        if leaked:
            problems.append(f"{description}: shows {sorted(leaked)}")
    assert problems == []


@pytest.mark.parametrize("persona", ["alice", "carol", "zoe"])
def test_in_scope_pages_do_show_the_names_clinical_staff_need(client, world, persona):
    # The matrix above would pass on pages that show no names at all: check they appear.
    client.force_login(world[persona])
    body = client.get(reverse("patients:detail", args=[world["alices_patient"].pk]))
    assert "Aldersley" in body.content.decode()


def test_posting_to_forbidden_actions_changes_nothing(client, world):
    alice, rita = world["alice"], world["rita"]
    bobs = world["bobs_patient"]
    client.force_login(alice)
    assert client.post(reverse("patients:void", args=[bobs.pk]), {"reason": "x"}).status_code == 404
    assert client.post(reverse("patients:edit", args=[bobs.pk]), {"code": "Z"}).status_code == 404
    client.force_login(rita)
    own = world["alices_patient"]
    assert client.post(reverse("patients:edit", args=[own.pk]), {"code": "Z"}).status_code == 403
    session = world["alices_patient:session"]
    assert (
        client.post(reverse("sessions:void", args=[session.pk]), {"reason": "x"}).status_code == 403
    )
    bobs.refresh_from_db()
    own.refresh_from_db()
    session.refresh_from_db()
    assert (bobs.is_voided, own.code, session.is_voided) == (False, "P001", False)
