"""Proof that every surface touching patient data writes its audit entry.

The surfaces are found, not listed by hand: every URL pattern of the resolver (pages, API, admin)
and every websocket route. Each one either has a case below, which requests it and checks that
exactly one entry with the right patient, action and purpose was written, or is in a short exempt
list that says why it shows no patient data. A new page, endpoint, admin or route that is in
neither fails ``test_every_surface_is_audited_or_exempt``.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from analysis.models import RecordingAnalysis
from analysis.pipeline.live import ingest_token_issue
from analysis.tests.support import analysed, login_session, make_recording
from clinic.audit import record_access
from clinic.models import AuditEntry, Clinic, User
from config.asgi import application
from config.tests.api_audit_cases import API_CASES, API_EXEMPT
from config.tests.audit_support import Case, u
from config.websocket_urls import device_urlpatterns, websocket_urlpatterns
from patients.models import EmergencyAccess, MvcCalibration, Patient, PatientProtocol
from patients.services import emergency_access_open
from sessions.models import TherapySession

# URL names (with namespace) that show or change no patient data, and why.
EXEMPT = {
    "clinic:settings": "the clinic's protocol defaults and weights: no patient",
    "analysis:stateless": "'try a file' analyses an upload and stores nothing: no patient record",
    "api:api-root": "the API's index of endpoints",
    "api:api-root-format": "the API's index of endpoints",
    "api-schema": "the OpenAPI schema",
    "api-docs": "the API's documentation page (Swagger UI)",
    "clinic:api_tokens": "the user's own API tokens (a page, not the API): no patient",
    "admin:auth_user_password_change": "a staff account's password",
    "analysis:exports": "what the research dataset holds, and its download link: no patient",
    "patients:progress-report-status": "the state of a report being rendered: no patient data",
    # The demo's "replay a stored recording live" answers 404 unless LIVE_DEMO_REPLAY (never in
    # tests or production); it is @audited(TherapySession) like the live page it comes from.
    "analysis:session_live_replay": "the demo's replay: 404 unless LIVE_DEMO_REPLAY",
}
# Views of these modules are sign-in, account and 2FA pages: staff data only.
EXEMPT_MODULES = ("allauth.",)
# Admin pages that are not about one model, and admin pages of models that hold no patient data.
ADMIN_SITE_VIEWS = {"index", "login", "logout", "password_change", "password_change_done",
                    "jsi18n", "autocomplete", "view_on_site", "app_list"}  # fmt: skip
# Admin pages of patient data without a case: the add form shows no patient (the saved addition
# is recorded by ScopedAdminMixin.log_addition) and clinical records are voided, never deleted.
ADMIN_EXEMPT_SUFFIXES = {"add": "blank form", "delete": "never allowed on clinical records"}
# Websocket routes that carry no patient data.
WS_EXEMPT = {"": "any other ws/ path closes with 4404"}


def url_patterns(resolver=None, namespace=""):
    """(qualified name or pattern, view module) of every URL pattern, recursively."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from url_patterns(pattern, inner)
        elif isinstance(pattern, URLPattern):
            callback = pattern.callback
            module = getattr(callback, "__module__", "") or ""
            view_class = getattr(callback, "view_class", None)
            if view_class is not None:
                module = view_class.__module__
            name = f"{namespace}{pattern.name or f'<{pattern.pattern}>'}"
            yield name, module


def holds_patient_data(model, seen=frozenset()) -> bool:
    """Patient, or a model whose foreign keys lead to one (found, not listed)."""
    if model is Patient:
        return True
    if model in seen or model in (User, Clinic):
        return False
    return any(
        holds_patient_data(f.related_model, seen | {model})
        for f in model._meta.get_fields()
        if f.many_to_one and f.concrete and f.related_model is not None
    )


def admin_expectations():
    """Admin URL names of patient data -> ``Case``; names of other admin pages -> None."""
    expected = {}
    for model in admin.site._registry:
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        patient_data = holds_patient_data(model)
        for suffix in ("changelist", "add", "history", "delete", "change"):
            if not patient_data or suffix in ADMIN_EXEMPT_SUFFIXES:
                expected[f"{prefix}_{suffix}"] = None
            else:
                expected[f"{prefix}_{suffix}"] = Case(
                    lambda o, m=model, s=suffix: admin_url(m, s, o),
                    user="zoe",
                    patient="patient",
                )
    for name in ADMIN_SITE_VIEWS:
        expected[f"admin:{name}"] = None
    return expected


def admin_url(model, suffix, objects):
    name = f"admin:{model._meta.app_label}_{model._meta.model_name}_{suffix}"
    if suffix == "changelist":
        return reverse(name)
    obj = objects[model._meta.label_lower]
    return reverse(name, args=[obj.pk])


CASES = {
    "clinic:dashboard": Case(lambda o: reverse("clinic:dashboard")),
    "patients:list": Case(lambda o: reverse("patients:list")),
    "patients:create": Case(
        lambda o: reverse("patients:create"),
        method="post",
        data=lambda o: {
            "clinic": o["patient"].clinic_id,
            "code": "P900",
            "mrn": "M900",
            "first_name": "New",
            "last_name": "Person",
            "sex": "F",
            "planned_sessions": 10,
            "is_active": "on",
        },  # fmt: skip
        action="create",
        patient="created",
        status=302,
    ),
    "patients:detail": Case(u("patients:detail", "patient")),
    "patients:edit": Case(u("patients:edit", "patient")),
    "patients:void": Case(
        u("patients:void", "patient"),
        method="post",
        data=lambda o: {"reason": "Duplicate"},
        action="void",
        status=302,
    ),
    "patients:calibrations": Case(u("patients:calibrations", "patient")),
    "patients:protocol": Case(u("patients:protocol", "patient")),
    "patients:progress": Case(u("patients:progress", "patient"), user="alice"),
    "patients:session-create": Case(u("patients:session-create", "patient")),
    "sessions:detail": Case(u("sessions:detail", "session"), user="rita", purpose="research"),
    "sessions:edit": Case(u("sessions:edit", "session")),
    "sessions:void": Case(
        u("sessions:void", "session"),
        method="post",
        data=lambda o: {"reason": "Wrong day"},
        action="void",
        status=302,
    ),
    "sessions:upload": Case(u("sessions:upload", "session"), user="alice"),
    "sessions:recording": Case(u("sessions:recording", "therapy_sessions.recording")),
    "sessions:recording-void": Case(
        u("sessions:recording-void", "therapy_sessions.recording"),
        method="post",
        data=lambda o: {"reason": "Wrong file"},
        action="void",
        status=302,
    ),
    "sessions:recording-move": Case(
        u("sessions:recording-move", "therapy_sessions.recording"),
        method="post",
        before=lambda o, everyone: o.update(
            other_session=TherapySession.objects.create(patient=o["patient"])
        ),
        data=lambda o: {"to_session": o["other_session"].pk},
        action="change",
        status=302,
    ),
    "sessions:recording-download": Case(
        u("sessions:recording-download", "therapy_sessions.recording"), action="download"
    ),
    "analysis:session_reanalyse": Case(
        u("analysis:session_reanalyse", "session"), method="post", action="change", status=302
    ),
    "analysis:session_score": Case(
        u("analysis:session_score", "session"), user="rita", purpose="research"
    ),  # fmt: skip
    "analysis:recording_row": Case(u("analysis:recording_row", "therapy_sessions.recording")),
    "patients:access-report": Case(u("patients:access-report", "patient")),
    "clinic:audit": Case(
        lambda o: reverse("clinic:audit"),
        # The page lists entries: one must exist for it to show a patient.
        before=lambda o, everyone: record_access(everyone["alice"], "view", [o["patient"]]),
    ),
    "patients:export-csv": Case(u("patients:export-csv", "patient"), action="export"),
    "patients:export-json": Case(u("patients:export-json", "patient"), action="export"),
    "patients:fhir": Case(u("patients:fhir", "patient"), action="export"),
    "analysis:research-csv": Case(
        lambda o: reverse("analysis:research-csv"), action="export", user="rita", purpose="research"
    ),
    "sessions:report": Case(u("sessions:report", "session"), action="download"),
    "patients:progress-report": Case(u("patients:progress-report", "patient"), action="download"),
    # Break-the-glass: bob (a therapist of the clinic, not assigned) opens alice's patient.
    "patients:emergency": Case(
        lambda o: reverse("patients:emergency"),
        method="post",
        data=lambda o: {"identifier": o["patient"].code, "reason": "Covering for Alice today"},
        action="create",
        user="bob",
        purpose="emergency",
        status=302,
    ),
    "patients:emergency-acknowledge": Case(
        lambda o: reverse("patients:emergency-acknowledge", args=[o["grant"].pk]),
        method="post",
        action="change",
        status=302,
        before=lambda o, everyone: o.update(grant=open_emergency(o, everyone["bob"])),
    ),
    "analysis:session_live": Case(u("analysis:session_live", "session")),
    "analysis:session_live_stop": Case(
        u("analysis:session_live_stop", "session"), method="post", action="change", status=302
    ),
    "analysis:recording_results": Case(
        u("analysis:recording_results", "therapy_sessions.recording"), user="alice"
    ),
}


def open_emergency(objects, therapist):
    """An emergency access of ``therapist`` to the case's patient (not assigned to them)."""
    _, grant = emergency_access_open(
        user=therapist, identifier=objects["patient"].code, reason="Covering for Alice today"
    )
    return grant


def all_expectations():
    return {**CASES, **API_CASES, **{name: None for name in API_EXEMPT}, **admin_expectations()}


@pytest.mark.django_db
def test_every_surface_is_audited_or_exempt():
    expected = all_expectations()
    uncovered = sorted(
        name
        for name, module in url_patterns()
        if name not in expected
        and name not in EXEMPT
        and not module.startswith(EXEMPT_MODULES)
        # admin's unnamed "<id>/" redirects to the change page, which is audited
        and not name.startswith("admin:<")
    )
    assert uncovered == [], f"pages without an audit case or an exemption: {uncovered}"
    routes = {str(route.pattern) for route in [*websocket_urlpatterns, *device_urlpatterns]}
    assert routes - set(WS_EXEMPT) == {
        "ws/sessions/<int:session_id>/status/",
        "ws/sessions/<int:session_id>/live/",
        "ws/sessions/<int:session_id>/ingest/",
    }, "a new websocket route needs an audit case"


@pytest.fixture
def objects(everyone, session_of):
    patient = everyone["alices_patient"]
    session = session_of(patient)
    recording = make_recording(session)
    analysis = RecordingAnalysis.objects.get(recording=analysed(session, "analysed.c3d"))
    return {
        "patient": patient,
        "patients.patient": patient,
        "session": session,
        "therapy_sessions.therapysession": session,
        "therapy_sessions.recording": recording,
        "analysis.recordinganalysis": analysis,
        "patients.mvccalibration": None,
        "patients.patientprotocol": None,
        "patients.emergencyaccess": None,
    }


ADMIN_CASES = {name: case for name, case in admin_expectations().items() if case is not None}


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(CASES) + sorted(API_CASES) + sorted(ADMIN_CASES))
def test_the_request_writes_one_entry(name, client, everyone, objects):
    case = {**CASES, **API_CASES, **ADMIN_CASES}[name]
    if name.startswith(
        (
            "admin:patients_mvccalibration",
            "admin:patients_patientprotocol",
            "admin:patients_emergencyaccess",
        )
    ):
        objects.update(patient_records(objects["patient"], everyone["carol"]))
    client.force_login(everyone[case.user])
    case.before(objects, everyone)
    url = case.url(objects)
    before = AuditEntry.objects.count()
    response = getattr(client, case.method)(url, case.data(objects))
    if case.status is not None:
        assert response.status_code == case.status, response.content[:500]
    else:
        assert response.status_code == 200, response.content[:500]
    entries = list(AuditEntry.objects.order_by("seq")[before:])
    assert len(entries) == 1, [str(e) for e in entries]
    entry = entries[0]
    patient = (
        Patient.objects.get(code="P900") if case.patient == "created" else objects[case.patient]
    )
    assert patient.pk in entry.patient_id_list
    assert (entry.action, entry.purpose) == (case.action, case.purpose)
    assert entry.actor_id == everyone[case.user].pk
    assert entry.path == url.split("?")[0]


def patient_records(patient, user):
    """A calibration and a protocol of ``patient``, for their admin pages."""
    return {
        "patients.mvccalibration": MvcCalibration.objects.create(
            patient=patient, muscle="quadriceps", side="L", value_v=0.0003, created_by=user
        ),
        "patients.patientprotocol": PatientProtocol.objects.create(patient=patient),
        "patients.emergencyaccess": EmergencyAccess.objects.create(
            user=user,
            patient=patient,
            reason="Covering for a colleague",
            expires_at=timezone.now() + timedelta(hours=4),
        ),
    }


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("persona", "purpose"), [("carol", "treatment"), ("rita", "research")])
async def test_the_status_websocket_writes_one_live_view_entry(
    session_of, alices_patient, persona, purpose, request
):
    user = await database_sync_to_async(request.getfixturevalue)(persona)
    session = await database_sync_to_async(session_of)(alices_patient)
    cookie = await database_sync_to_async(login_session)(user)
    ws = WebsocketCommunicator(
        application,
        f"/ws/sessions/{session.pk}/status/",
        [(b"origin", b"http://localhost"), (b"cookie", f"sessionid={cookie}".encode())],
    )
    connected, _ = await ws.connect()
    assert connected
    assert (await ws.receive_json_from(timeout=5))["type"] == "snapshot"
    await ws.disconnect()
    entries = await database_sync_to_async(list)(AuditEntry.objects.all())
    assert [(e.patient_id, e.action, e.purpose, e.object_id) for e in entries] == [
        (alices_patient.pk, "live_view", purpose, str(session.pk))
    ]


@pytest.mark.django_db(transaction=True)
async def test_the_live_view_websocket_writes_one_live_view_entry(
    session_of, alices_patient, carol
):
    session = await database_sync_to_async(session_of)(alices_patient)
    cookie = await database_sync_to_async(login_session)(carol)
    ws = WebsocketCommunicator(
        application,
        f"/ws/sessions/{session.pk}/live/",
        [(b"origin", b"http://localhost"), (b"cookie", f"sessionid={cookie}".encode())],
    )
    connected, _ = await ws.connect()
    assert connected
    assert (await ws.receive_json_from(timeout=5))["type"] == "state"
    await ws.disconnect()
    entries = await database_sync_to_async(list)(AuditEntry.objects.all())
    assert [(e.patient_id, e.action, e.purpose, e.object_id) for e in entries] == [
        (alices_patient.pk, "live_view", "treatment", str(session.pk))
    ]


@pytest.mark.django_db(transaction=True)
async def test_a_device_streaming_into_a_session_writes_one_create_entry(
    session_of, alices_patient, alice
):
    session = await database_sync_to_async(session_of)(alices_patient)
    token = await database_sync_to_async(ingest_token_issue)(session=session, user=alice)
    ws = WebsocketCommunicator(application, f"/ws/sessions/{session.pk}/ingest/?token={token}")
    connected, _ = await ws.connect()
    assert connected
    await ws.disconnect()
    entries = await database_sync_to_async(list)(AuditEntry.objects.all())
    assert [(e.patient_id, e.action, e.purpose, e.actor_id) for e in entries] == [
        (alices_patient.pk, "create", "treatment", alice.pk)
    ]
