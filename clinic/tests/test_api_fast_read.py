"""The API serializers' fast read (``clinic.api.fastread.FastReadMixin``) gives exactly what DRF's
own ``Serializer.to_representation`` gives, field by field, for every persona and for rows with
empty, voided and unusual values; and a list's therapists come from one query for the page."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from analysis.tests.support import make_recording
from clinic.access import can_see_identity
from conftest import make_patient
from patients.models import MvcCalibration, Patient
from patients.serializers import MvcCalibrationSerializer, PatientSerializer
from sessions.api import TherapySessionSerializer
from sessions.api_recordings import RecordingSerializer
from sessions.models import Recording, TherapySession

pytestmark = pytest.mark.django_db


def request_of(user):
    request = Request(APIRequestFactory().get("/api/v1/"))
    request.user = user
    return request


@pytest.fixture
def rows(everyone, session_of):
    alice, carol = everyone["alice"], everyone["carol"]
    odd = make_patient(
        alice.clinic, "P009", "Öskar", "D'Arcy", alice, carol, date_of_birth=None, sex=""
    )
    odd.void_reason, odd.voided_at = "Duplicate record", timezone.now()
    odd.save()
    session_of(everyone["alices_patient"], rpe=None)
    session = session_of(
        odd,
        rpe=7,
        bfr_pressure_pct_aop=Decimal("60.5"),
        notes="Tired",
        started_at=timezone.now() - dt.timedelta(days=3),
    )
    make_recording(session, "Öskar_D'Arcy.c3d")
    make_recording(session, "failed.c3d", status=Recording.Status.FAILED, failure_reason="bad")
    MvcCalibration.objects.create(patient=odd, muscle="quadriceps", value_v=3.2e-4, notes="x")
    MvcCalibration.objects.create(patient=odd, muscle="biceps", side="left", value_v=1e-4)
    return everyone


@pytest.mark.parametrize("persona", ["alice", "carol", "rita", "zoe"])
@pytest.mark.parametrize(
    ("serializer_class", "model"),
    [
        (PatientSerializer, Patient),
        (TherapySessionSerializer, TherapySession),
        (RecordingSerializer, Recording),
        (MvcCalibrationSerializer, MvcCalibration),
    ],
)
def test_fast_read_equals_drf_read(rows, persona, serializer_class, model):
    user = rows[persona]
    context = {"request": request_of(user)}
    instances = list(model.objects.order_by("pk"))
    assert instances
    fast = serializer_class(instances, many=True, context=context).data
    for instance, got in zip(instances, fast, strict=True):
        drf = serializer_class(instance, context=context)
        if hasattr(instance, "therapists"):
            instance.therapist_ids = [t.pk for t in instance.therapists.all()]
        expected = serializers.Serializer.to_representation(drf, instance)
        if not context.get("identity", True):
            for name in getattr(drf, "identity_fields", ()):
                expected[name] = None
        assert dict(got) == dict(expected)


def test_a_page_of_patients_reads_its_therapists_in_one_query(rows):
    carol = rows["carol"]
    context = {"request": request_of(carol)}
    can_see_identity(carol)  # her groups and permissions: read once per request, not per row
    patients = list(Patient.objects.order_by("pk"))
    with CaptureQueriesContext(connection) as queries:
        data = PatientSerializer(patients, many=True, context=context).data
    assert len(queries) == 1
    by_code = {row["code"]: row["therapists"] for row in data}
    assert by_code["P009"] == sorted([rows["alice"].pk, rows["carol"].pk])
    assert by_code["P002"] == [rows["bob"].pk]
