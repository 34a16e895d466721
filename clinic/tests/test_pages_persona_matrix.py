"""Every staff page against every persona: status codes, and no name outside one's scope.

Out of scope is 404, a missing permission 403, anonymous is sent to the login page; researchers
see no patient names at all. Bodies are checked against conftest.FOREIGN_NAMES. The pages of
every app are here (patients, sessions and their recordings, results, clinic settings), each
against the three patients, so one matrix shows the access policy holds everywhere.
"""

import pytest
from django.urls import reverse

from analysis.tests.support import analysed
from conftest import PATIENT_KEYS, PATIENTS_SEEN_BY, names_in, names_of

pytestmark = pytest.mark.django_db

SCOPE = {**PATIENTS_SEEN_BY, "anonymous": set()}
# Which personas hold the permission each page needs (from the role groups; zoe is superuser).
CLINICAL = {"alice", "bob", "carol", "dave", "zoe"}
MANAGERS = {"carol", "zoe"}
EVERY_ROLE = CLINICAL | {"rita"}
# URL name (with a query string where the page has a variant) -> who may open it.
GLOBAL_PAGES = {
    "clinic:dashboard": EVERY_ROLE,
    "clinic:settings": MANAGERS,
    "patients:list": EVERY_ROLE,
    "patients:create": CLINICAL,
    "analysis:stateless": EVERY_ROLE,  # "try a file" depends on no patient
}
PATIENT_PAGES = {
    "patients:detail": EVERY_ROLE,
    "patients:edit": CLINICAL,
    "patients:void": MANAGERS,
    "patients:session-create": CLINICAL,
    "patients:calibrations": EVERY_ROLE,
    "patients:protocol": EVERY_ROLE,
    "patients:progress": EVERY_ROLE,
}
SESSION_PAGES = {
    "sessions:detail": EVERY_ROLE,
    "sessions:edit": CLINICAL,
    "sessions:void": MANAGERS,
    "sessions:upload": EVERY_ROLE,  # read-only for researchers: no upload form
    "analysis:session_score": EVERY_ROLE,
}
RECORDING_PAGES = {
    "sessions:recording": EVERY_ROLE,
    "sessions:recording-download": CLINICAL,  # researchers never get identifiable files
    "analysis:recording_results": EVERY_ROLE,
    "analysis:recording_results?fragment=1": EVERY_ROLE,
    "analysis:recording_row?results=1": EVERY_ROLE,
    "sessions:recording-void": CLINICAL,  # therapy_sessions.void_recording (issue 16)
    "sessions:recording-move": CLINICAL,
}
# The pages about a patient's treatment and results (the pipeline's pages).
PIPELINE_PAGES = (
    "patients:calibrations",
    "patients:protocol",
    "patients:progress",
    "sessions:upload",
    "analysis:session_score",
    "analysis:recording_results",
    "analysis:recording_results?fragment=1",
    "analysis:recording_row?results=1",
)


@pytest.fixture
def world(everyone, session_of):
    objects = dict(everyone)
    for key in PATIENT_KEYS:
        session = session_of(everyone[key], notes="seen", rpe=4)
        objects[f"{key}:session"] = session
        # Analysed, so that the result pages show everything they can (charts, metrics).
        objects[f"{key}:recording"] = analysed(session, f"{key}.c3d")
    return objects


def url_of(page, *args):
    name, _, query = page.partition("?")
    return reverse(name, args=args) + (f"?{query}" if query else "")


def page_url(world, page, key):
    """The URL of ``page`` about patient ``key`` (its patient, session or recording)."""
    if page in PATIENT_PAGES:
        return url_of(page, world[key].pk)
    if page in SESSION_PAGES:
        return url_of(page, world[f"{key}:session"].pk)
    return url_of(page, world[f"{key}:recording"].pk)


def expected(persona, allowed, target=None):
    if persona == "anonymous":
        return 302
    if target is not None and target not in SCOPE[persona]:
        return 404
    return 200 if persona in allowed else 403


def pages(world):
    """(description, url, who may open it, patient key or None)."""
    for page, allowed in GLOBAL_PAGES.items():
        yield page, url_of(page), allowed, None
    for key in PATIENT_KEYS:
        for table in (PATIENT_PAGES, SESSION_PAGES, RECORDING_PAGES):
            for page, allowed in table.items():
                yield f"{page} {key}", page_url(world, page, key), allowed, key


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


def test_researchers_work_with_the_pseudonymous_code(client, world):
    client.force_login(world["rita"])
    html = client.get(reverse("patients:progress", args=[world["alices_patient"].pk]))
    assert "P001" in html.content.decode()


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


@pytest.mark.parametrize(
    ("persona", "status"),
    [("alice", 302), ("bob", 404), ("carol", 302), ("rita", 403), ("dave", 404)],
)
def test_pipeline_changes_need_scope_then_permission(client, world, persona, status):
    client.force_login(world[persona])
    pk = world["alices_patient"].pk
    posts = [
        (reverse("analysis:session_reanalyse", args=[world["alices_patient:session"].pk]), {}),
        (
            reverse("patients:calibrations", args=[pk]),
            {
                "action": "enter",
                "enter-side": "left",
                "enter-muscle": "quadriceps",
                "enter-value_uv": "850",
            },
        ),
        (reverse("patients:protocol", args=[pk]), {"target_pct_mvc": "70"}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == status, (persona, url)


def test_a_voided_patients_pipeline_pages_are_hidden_except_from_those_who_may_void(client, world):
    # As on the staff pages: voided records stay readable to managers, who review the trail.
    world["alices_patient"].void(by=world["carol"], reason="duplicate record")
    urls = [page_url(world, page, "alices_patient") for page in PIPELINE_PAGES]
    client.force_login(world["alice"])
    assert {client.get(url).status_code for url in urls} == {404}
    client.force_login(world["carol"])
    assert {client.get(url).status_code for url in urls} == {200}
