"""Every API endpoint x every persona: the status code, and no foreign data in any body.

The personas call with their own personal API tokens (the machine path); an expired and a
revoked token of Alice's, and no credentials at all, answer 401 everywhere. The objects are
Alice's patient, its session and a finished recording; Bob and Dave (another clinic) must get
404 for them, Rita (researcher) reads pseudonymised and writes nothing. Each request runs in a
transaction that is rolled back, so every request sees the same data.
"""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from analysis.tests.support import (
    AUDIT_ENTRY,
    AUDIT_LOOKUP,
    analysed,
    forget_token_failures,
    make_recording,
)
from clinic.models import ApiToken
from clinic.services import api_token_create, api_token_revoke, clinic_settings_create
from conftest import PATIENTS_SEEN_BY, make_patient, names_in, names_of
from patients.models import MvcCalibration

pytestmark = pytest.mark.django_db

NOT_C3D = b"this is not a C3D recording " * 40
VERSION = {
    "contractions_per_round": 10,
    "target_pct_mvc": 70,
    "hold_s": 2.5,
    "rounds_per_session": 3,
    "sessions_per_week": 4,
    "programme_weeks": 6,
    "bfr_safe_low_pct_aop": 40,
    "bfr_safe_high_pct_aop": 60,
}


def endpoints(o):
    """(name, method, url, body, format) of every endpoint, on Alice's objects ``o``."""
    p, s, r = o["patient"], o["session"], o["recording"]
    return [
        ("patient list", "get", "/api/v1/patients/", None, None),
        ("patient detail", "get", f"/api/v1/patients/{p}/", None, None),
        ("calibrations", "get", f"/api/v1/patients/{p}/calibrations/", None, None),
        ("protocol", "get", f"/api/v1/patients/{p}/protocol/", None, None),
        ("therapist list", "get", "/api/v1/therapists/", None, None),
        ("therapist detail", "get", f"/api/v1/therapists/{o['alice']}/", None, None),
        ("session list", "get", "/api/v1/sessions/", None, None),
        ("session detail", "get", f"/api/v1/sessions/{s}/", None, None),
        ("recording list", "get", f"/api/v1/recordings/?session={s}", None, None),
        ("recording detail", "get", f"/api/v1/recordings/{r}/", None, None),
        ("recording file", "get", f"/api/v1/recordings/{r}/file/", None, None),
        ("settings list", "get", "/api/v1/clinic-settings/", None, None),
        ("session report", "get", f"/api/v1/sessions/{s}/report/", None, None),
        ("progress report", "get", f"/api/v1/patients/{p}/progress-report/", None, None),
        ("fhir", "get", f"/api/v1/patients/{p}/fhir/", None, None),
        ("export json", "get", f"/api/v1/patients/{p}/export/", None, None),
        ("export csv", "get", f"/api/v1/patients/{p}/export.csv?table=recordings", None, None),
        ("research export", "get", "/api/v1/research-export/", None, None),
        (
            "patient create",
            "post",
            "/api/v1/patients/",
            {"code": "N1", "first_name": "Nia", "last_name": "Newby"},
            "json",
        ),
        ("patient update", "patch", f"/api/v1/patients/{p}/", {"notes": "x"}, "json"),
        ("patient void", "post", f"/api/v1/patients/{p}/void/", {"reason": "dup"}, "json"),
        (
            "calibration add",
            "post",
            f"/api/v1/patients/{p}/calibrations/",
            {"muscle": "quadriceps", "side": "left", "value_uv": 300},
            "json",
        ),
        ("protocol set", "put", f"/api/v1/patients/{p}/protocol/", {"hold_s": 3}, "json"),
        (
            "session create",
            "post",
            "/api/v1/sessions/",
            {"patient": p, "therapist": o["alice"]},
            "json",
        ),
        ("session update", "patch", f"/api/v1/sessions/{s}/", {"rpe": 5}, "json"),
        ("session void", "post", f"/api/v1/sessions/{s}/void/", {"reason": "dup"}, "json"),
        ("upload", "post", f"/api/v1/sessions/{s}/recordings/", "FILE", "multipart"),
        ("reanalyse", "post", f"/api/v1/recordings/{r}/reanalyse/", None, None),
        ("settings save", "post", "/api/v1/clinic-settings/", VERSION, "json"),
        ("analyze", "post", "/api/v1/analyze/", "FILE", "multipart"),
    ]


ANY = {"patient list", "therapist list", "session list", "recording list", "settings list"}
ALL_OK = {
    **dict.fromkeys(
        [
            "patient detail",
            "calibrations",
            "protocol",
            "therapist detail",
            "session detail",
            "recording detail",
            "recording file",
            "patient update",
            "protocol set",
            "session update",
            "session report",
            "progress report",
            "fhir",
            "export json",
            "export csv",
        ],
        200,
    ),
    **dict.fromkeys(ANY, 200),
    "patient create": 201,
    "calibration add": 201,
    "session create": 201,
    "upload": 400,  # allowed: the file's content is refused, not the user
    "reanalyse": 202,
    "analyze": 400,
    "research export": 403,  # managers and researchers only
}
OUT_OF_SCOPE = {
    **{name: 404 for name in ALL_OK},
    **dict.fromkeys(ANY, 200),
    "therapist detail": 200,
    "patient create": 201,
    "session create": 400,  # "patient: No such patient."
    "settings save": 403,
    "analyze": 400,
    "patient void": 404,
    "session void": 404,
    "research export": 403,
}
EXPECTED = {
    "alice": {**ALL_OK, "patient void": 403, "session void": 403, "settings save": 403},
    "bob": OUT_OF_SCOPE,
    "carol": {
        **ALL_OK,
        "patient void": 200,
        "session void": 200,
        "settings save": 201,
        "research export": 200,
    },
    "rita": {
        **{name: 403 for name in ALL_OK},
        **{name: 200 for name, code in ALL_OK.items() if code == 200},
        "recording file": 403,
        "patient update": 403,
        "protocol set": 403,
        "session update": 403,
        "patient void": 403,
        "session void": 403,
        "settings save": 403,
        "analyze": 400,  # stores nothing: researchers may analyse a file like on the page
        "research export": 200,
    },
    "dave": {**OUT_OF_SCOPE, "therapist detail": 404},
}
for unauthenticated in ("anonymous", "expired", "revoked"):
    EXPECTED[unauthenticated] = dict.fromkeys(
        ALL_OK | {"patient void": 0, "session void": 0, "settings save": 0, "research export": 0},
        401,
    )
SEES = {**PATIENTS_SEEN_BY, "anonymous": set(), "expired": set(), "revoked": set()}


@pytest.fixture(autouse=True)
def _no_token_failures_counted():
    forget_token_failures()
    yield
    forget_token_failures()


@pytest.fixture
def world(everyone, session_of, settings):
    settings.API_TOKEN_FAILURES_PER_MINUTE = 10_000
    for key in ("alices_patient", "bobs_patient", "daves_patient"):
        session = session_of(everyone[key])
        first = everyone[key].first_name
        analysed(session, f"{first}_{everyone[key].last_name}_round1.c3d")
    alice_session = everyone["alices_patient"].sessions.get()
    MvcCalibration.objects.create(
        patient=everyone["alices_patient"], muscle="quadriceps", value_v=2e-4, notes="Agatha said"
    )
    tokens = {}
    for name in ("alice", "bob", "carol", "rita", "dave"):
        tokens[name] = api_token_create(user=everyone[name], name="matrix")[1]
    expired, tokens["expired"] = api_token_create(user=everyone["alice"], name="old")
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(days=1))
    revoked, tokens["revoked"] = api_token_create(user=everyone["alice"], name="gone")
    api_token_revoke(user=everyone["alice"], token_id=revoked.pk)
    objects = {
        "patient": everyone["alices_patient"].pk,
        "session": alice_session.pk,
        "recording": alice_session.recordings.get().pk,
        "alice": everyone["alice"].pk,
    }
    return tokens, objects


def call(client, method, url, body, fmt):
    if body == "FILE":
        body = {"file": SimpleUploadedFile("round9.c3d", NOT_C3D)}
    kwargs = {"format": fmt} if fmt else {}
    with transaction.atomic():
        response = getattr(client, method)(url, body, **kwargs)
        transaction.set_rollback(True)
    return response


# Bodies searched for foreign names and identity (PDFs are compressed: their text is checked in
# reports/tests).
TEXT_TYPES = ("application/json", "application/fhir+json", "text/csv")


def body_text(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


@pytest.mark.parametrize("persona", list(EXPECTED))
def test_every_endpoint_answers_each_persona_as_expected(world, persona):
    tokens, objects = world
    client = APIClient()
    if persona != "anonymous":
        client.credentials(HTTP_AUTHORIZATION=f"Token {tokens[persona]}")
    allowed_names = names_of(*SEES[persona]) if persona != "rita" else set()
    wrong, leaks = [], []
    for name, method, url, body, fmt in endpoints(objects):
        response = call(client, method, url, body, fmt)
        expected = EXPECTED[persona][name]
        if response.status_code != expected:
            wrong.append(f"{name}: {response.status_code} (expected {expected})")
        if response.get("Content-Type", "").startswith(TEXT_TYPES):
            text = body_text(response)
            found = names_in(text) - allowed_names
            if persona == "rita" and ("MRN-" in text or "1950-05-17" in text):
                found.add("identity field")
            if found:
                leaks.append(f"{name}: {sorted(found)}")
            if response.status_code >= 400:
                assert {"detail", "code"} <= set(response.json()), f"{name}: {text}"
    assert wrong == [], f"{persona}: {wrong}"
    assert leaks == [], f"{persona} saw foreign data: {leaks}"


LISTS = {
    "patients": "/api/v1/patients/",
    "therapists": "/api/v1/therapists/",
    "sessions": "/api/v1/sessions/",
    "recordings": "/api/v1/recordings/",
    "clinic settings": "/api/v1/clinic-settings/",
    "calibrations": "/api/v1/patients/{patient}/calibrations/",
}
# Queries per list request (authentication included), whatever the number of rows (up to a
# page: a first page that is not full needs no COUNT, ``clinic.api.base.FirstPageCountPaginator``).
# A page of patient data adds its audit entry (a manager's: no assignment check); the recordings'
# patients are one more query (AUDIT_LOOKUP); therapists and settings show no patient.
LIST_QUERIES = {
    "patients": 4 + AUDIT_ENTRY,
    "therapists": 3,
    "sessions": 3 + AUDIT_ENTRY,
    "recordings": 3 + AUDIT_ENTRY + AUDIT_LOOKUP,
    "clinic settings": 3,
    "calibrations": 4 + AUDIT_ENTRY,  # one patient's, not paginated
}


def grow(everyone, session_of, n):
    """``n`` more of every listed thing for Carol's clinic."""
    alice, carol = everyone["alice"], everyone["carol"]
    patient = everyone["alices_patient"]
    for i in range(n):
        other = make_patient(alice.clinic, f"G{i:03d}-{n}", "Gina", "Grow", alice)
        session = session_of(other)
        make_recording(session, f"grow-{i}-{n}.c3d")
        MvcCalibration.objects.create(patient=patient, muscle=f"m{i}-{n}", value_v=1e-4)
        api_token_create(user=carol, name=f"t{i}")
    for _ in range(n):
        clinic_settings_create(clinic=carol.clinic, values={}, user=None)


@pytest.mark.parametrize("name", list(LISTS))
def test_list_query_counts_are_pinned(everyone, session_of, name):
    carol = everyone["carol"]
    url = LISTS[name].format(patient=everyone["alices_patient"].pk)
    _, key = api_token_create(user=carol, name="counting")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    counts = []
    for n in (2, 6):
        grow(everyone, session_of, n)
        client.get(url)  # warm: the token's last-used stamp is written once a minute
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts == [LIST_QUERIES[name]] * 2, [q["sql"] for q in queries.captured_queries]
