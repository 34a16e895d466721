"""The API's audit (``clinic.api.base.AuditedMixin``): one entry per successful request that read
or changed patient data, with its action and the patients it showed; nothing for an error; no
data when the entry cannot be written. The one-case-per-endpoint proof is
``config/tests/test_audit_coverage.py``; these are the other methods and the edges."""

import pytest
from rest_framework.test import APIClient

from analysis.tests.support import forget_token_failures, wait_for
from clinic.models import AuditEntry
from clinic.services import api_token_create
from clinic.tests.test_audit_failure import refuse_audit_writes
from conftest import make_patient
from patients.models import Patient
from reports.tests.support import pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_token_failures_counted():
    forget_token_failures()
    yield
    forget_token_failures()


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(user=user, name='t')[1]}")
    return client


def new_entries(before):
    return list(AuditEntry.objects.filter(seq__gt=before).order_by("seq"))


def last_seq() -> int:
    last = AuditEntry.objects.order_by("-seq").first()
    return last.seq if last else 0


WRITES = [
    ("post", "/api/v1/patients/", {"code": "N1", "first_name": "Nia", "last_name": "Newby"},
     "create", 201, "new"),
    ("patch", "/api/v1/patients/{p}/", {"notes": "Better"}, "change", 200, "patient"),
    ("post", "/api/v1/patients/{p}/calibrations/",
     {"muscle": "quadriceps", "side": "left", "value_uv": 300}, "create", 201, "patient"),
    ("put", "/api/v1/patients/{p}/protocol/", {"hold_s": 3}, "change", 200, "patient"),
    ("post", "/api/v1/sessions/", {"patient": "{p}"}, "create", 201, "patient"),
    ("patch", "/api/v1/sessions/{s}/", {"rpe": 5}, "change", 200, "patient"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "url", "body", "action", "code", "subject"), WRITES)
def test_each_write_records_one_entry_of_its_action(
    alice, alices_patient, session_of, method, url, body, action, code, subject
):
    session = session_of(alices_patient)
    fill = {"p": alices_patient.pk, "s": session.pk}
    body = {k: (v.format(**fill) if isinstance(v, str) else v) for k, v in body.items()}
    if "patient" in body:
        body["patient"] = int(body["patient"])
    before = last_seq()
    response = getattr(token_client(alice), method)(url.format(**fill), body, format="json")
    assert response.status_code == code, response.content
    entries = new_entries(before)
    assert [(e.action, e.purpose, e.actor_id) for e in entries] == [(action, "treatment", alice.pk)]
    patient = Patient.objects.get(code="N1") if subject == "new" else alices_patient
    assert entries[0].patient_id_list == [patient.pk]
    assert entries[0].client_address == "127.0.0.1"


ERRORS = [
    ("bob", "get", "/api/v1/patients/{p}/", None, 404),  # out of scope
    ("bob", "get", "/api/v1/patients/{p}/fhir/", None, 404),
    ("bob", "get", "/api/v1/sessions/{s}/report/", None, 404),
    ("alice", "patch", "/api/v1/patients/{p}/", {"code": ""}, 400),
    ("alice", "get", "/api/v1/patients/{p}/progress-report/?from=2026-13-01", None, 400),
    ("alice", "get", "/api/v1/sessions/{s}/report/?variant=secret", None, 400),
    ("alice", "get", "/api/v1/patients/{p}/export.csv?table=nope", None, 400),
    ("alice", "get", "/api/v1/patients/-1/export.csv", None, 404),
    ("alice", "get", "/api/v1/patients/x/fhir.json", None, 404),  # the router's format suffix
    ("alice", "get", "/api/v1/research-export/", None, 403),  # therapists may not
    ("rita", "post", "/api/v1/patients/{p}/void/", {"reason": "x"}, 403),
]


@pytest.mark.parametrize(("persona", "method", "url", "body", "code"), ERRORS)
def test_an_error_records_nothing(everyone, session_of, persona, method, url, body, code):
    patient = everyone["alices_patient"]
    fill = {"p": patient.pk, "s": session_of(patient).pk}
    client = token_client(everyone[persona])
    response = getattr(client, method)(url.format(**fill), body, format="json")
    assert response.status_code == code, response.content
    assert {"detail", "code"} <= set(response.json())
    assert not AuditEntry.objects.exists()


def test_a_list_page_records_one_entry_naming_the_patients_it_shows(carol, alice):
    for i in range(3):
        make_patient(carol.clinic, f"L{i}", "Lia", f"List{i}", alice)
    client = token_client(carol)
    shown = []
    for page in (1, 2):
        before = last_seq()
        response = client.get("/api/v1/patients/", {"page_size": 2, "page": page})
        ids = [row["id"] for row in response.json()["results"]]
        entries = new_entries(before)
        assert len(entries) == 1
        assert entries[0].patient_id_list == sorted(ids)
        assert (entries[0].object_type, entries[0].action) == ("patients.patient", "view")
        shown += ids
    assert len(set(shown)) == 3
    before = last_seq()
    assert client.get("/api/v1/patients/", {"q": "nobody-at-all"}).json()["results"] == []
    assert new_entries(before) == []  # an empty page shows no patient


def test_the_research_export_names_every_patient_in_it(rita, alices_patient, bobs_patient):
    response = token_client(rita).get("/api/v1/research-export/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    b"".join(response.streaming_content)
    (entry,) = AuditEntry.objects.all()
    assert entry.patient_id_list == sorted([alices_patient.pk, bobs_patient.pk])
    assert (entry.action, entry.purpose) == ("export", "research")


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/patients/",
        "/api/v1/patients/{p}/",
        "/api/v1/patients/{p}/fhir/",
        "/api/v1/patients/{p}/export.csv",
        "/api/v1/sessions/{s}/report/",
    ],
)
def test_no_data_is_answered_without_its_entry(carol, alices_patient, session_of, url):
    fill = {"p": alices_patient.pk, "s": session_of(alices_patient).pk}
    client = token_client(carol)
    refuse_audit_writes()
    response = client.get(url.format(**fill))
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "audit_unavailable"
    assert "Aldersley" not in response.content.decode()
    assert not AuditEntry.objects.exists()


def test_a_researchers_session_report_is_pseudonymised(rita, alices_patient, session_of):
    session = session_of(alices_patient)
    response = token_client(rita).get(f"/api/v1/sessions/{session.pk}/report/?variant=identified")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "pseudonymised" in response["Content-Disposition"]
    assert "Aldersley" not in pdf_text(response.content)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_big_progress_report_answers_202_until_a_worker_rendered_it(
    worker, settings, session_of, alices_patient, alice
):
    settings.REPORT_INLINE_MAX_SESSIONS = 0
    session_of(alices_patient)
    client = token_client(alice)
    url = f"/api/v1/patients/{alices_patient.pk}/progress-report/"
    waiting = client.get(url)
    assert waiting.status_code == 202, waiting.content
    assert int(waiting["Retry-After"]) > 0
    assert waiting.json()["sessions"] == 1
    assert [(e.action, e.patient_id) for e in AuditEntry.objects.all()] == [
        ("view", alices_patient.pk)
    ]
    wait_for(lambda: client.get(url).status_code == 200, timeout=60, what="the progress report")
    ready = client.get(url)
    assert ready["Content-Type"] == "application/pdf"
    assert ready["X-Report-Cache"] == "hit"
    assert alices_patient.code in pdf_text(ready.content)
    assert AuditEntry.objects.filter(action="download", patient_id=alices_patient.pk).exists()
