"""Audit cases of the REST API (``/api/v1/``), checked by ``test_audit_coverage``.

One case per URL name (a name may take several methods; the other methods' entries are proven in
``clinic/tests/test_api_audit.py``). The personas call with their session here; tokens are the
same request to the audit (``clinic.api.base.AuditedMixin``).
"""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from config.tests.audit_support import Case, u
from conftest import shared_c3d_dir
from sessions.models import TherapySession


def _ghostly_round(o):
    path = sorted((shared_c3d_dir() / "ghostly").glob("*.c3d"))[0]
    return {"file": SimpleUploadedFile(path.name, path.read_bytes())}


def _done_recording(name):
    return lambda o: reverse(name, args=[o["analysis.recordinganalysis"].recording_id])


# API URL names -> Case (a request and the one entry it must write).
API_CASES: dict = {
    "api:patient-list": Case(lambda o: reverse("api:patient-list")),
    "api:patient-detail": Case(u("api:patient-detail", "patient"), user="rita", purpose="research"),
    "api:patient-void": Case(
        u("api:patient-void", "patient"),
        method="post",
        data=lambda o: {"reason": "Duplicate"},
        action="void",
    ),
    "api:patient-calibrations": Case(u("api:patient-calibrations", "patient")),
    "api:patient-protocol": Case(u("api:patient-protocol", "patient"), user="alice"),
    "api:patient-progress-report": Case(
        u("api:patient-progress-report", "patient"), action="download"
    ),
    "api:patient-fhir": Case(
        u("api:patient-fhir", "patient"), action="export", user="rita", purpose="research"
    ),
    "api:patient-export": Case(u("api:patient-export", "patient"), action="export"),
    "api:patient-export-csv": Case(
        lambda o: reverse("api:patient-export-csv", args=[o["patient"].pk]) + "?table=recordings",
        action="export",
        user="alice",
    ),
    "api:session-list": Case(
        lambda o: reverse("api:session-list"), user="rita", purpose="research"
    ),
    "api:session-detail": Case(u("api:session-detail", "session")),
    "api:session-void": Case(
        u("api:session-void", "session"),
        method="post",
        data=lambda o: {"reason": "Wrong day"},
        action="void",
    ),
    "api:session-recordings": Case(
        u("api:session-recordings", "session"),
        method="post",
        data=_ghostly_round,
        action="create",
        user="alice",
        status=202,
    ),
    "api:session-report": Case(u("api:session-report", "session"), action="download"),
    "api:recording-list": Case(lambda o: reverse("api:recording-list")),
    "api:recording-detail": Case(u("api:recording-detail", "therapy_sessions.recording")),
    "api:recording-file": Case(
        u("api:recording-file", "therapy_sessions.recording"), action="download", user="alice"
    ),
    "api:recording-reanalyse": Case(
        _done_recording("api:recording-reanalyse"), method="post", action="change", status=202
    ),
    "api:recording-void": Case(
        u("api:recording-void", "therapy_sessions.recording"),
        method="post",
        data=lambda o: {"reason": "Wrong file"},
        action="void",
        user="alice",
    ),
    "api:recording-move": Case(
        u("api:recording-move", "therapy_sessions.recording"),
        method="post",
        data=lambda o: {"to_session": o["target"].pk},
        action="change",
        user="alice",
        before=lambda o, everyone: o.update(
            target=TherapySession.objects.create(patient=o["patient"], therapist=everyone["alice"])
        ),
    ),
    "api:research-export": Case(
        lambda o: reverse("api:research-export"), action="export", user="rita", purpose="research"
    ),
}
# API URL names that show or change no patient data, and why.
API_EXEMPT: dict[str, str] = {
    "api:therapist-list": "staff accounts of the clinic: no patient",
    "api:therapist-detail": "a staff account: no patient",
    "api:clinic-settings-list": "the clinic's protocol defaults and weights: no patient",
    "api:analyze": "analyses an uploaded file and stores nothing: no patient record",
}
