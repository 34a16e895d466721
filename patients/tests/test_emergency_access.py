"""Break-the-glass: a therapist opens a patient of their clinic not assigned to them, for a
limited time, with a reason their managers acknowledge; never across clinics."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from clinic import access
from clinic.roles import CLINIC_MANAGER
from conftest import make_patient, make_staff
from patients.models import EmergencyAccess, Patient
from patients.services import NO_SUCH_PATIENT
from sessions.models import TherapySession

REASON = "Covering for Bob, who is off sick today"
EMERGENCY_URL = reverse("patients:emergency")


def open_record(client, identifier, reason=REASON):
    return client.post(EMERGENCY_URL, {"identifier": identifier, "reason": reason})


def without_tokens(body: bytes, identifier: str) -> bytes:
    """The page without its (per-render) CSRF token and the identifier the user typed."""
    body = re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", body)
    return body.replace(identifier.encode(), b"IDENTIFIER")


@pytest.mark.django_db
def test_a_therapist_opens_a_colleagues_patient_with_a_reason(
    client, alice, bobs_patient, session_of
):
    session = session_of(bobs_patient)
    client.force_login(alice)
    assert client.get(bobs_patient.get_absolute_url()).status_code == 404

    response = open_record(client, "p002")  # codes match whatever their case

    assert response.status_code == 302
    assert response["Location"] == bobs_patient.get_absolute_url()
    grant = EmergencyAccess.objects.get()
    assert (grant.user, grant.patient, grant.reason) == (alice, bobs_patient, REASON)
    assert grant.expires_at - grant.started_at == dt.timedelta(hours=4)
    page = client.get(bobs_patient.get_absolute_url())
    assert page.status_code == 200
    assert b"Emergency access" in page.content
    assert REASON.encode() in page.content
    # Everything below the patient follows it.
    assert client.get(reverse("sessions:detail", args=[session.pk])).status_code == 200
    assert access.is_emergency_read(alice, bobs_patient)


@pytest.mark.django_db
def test_the_patient_can_be_named_by_mrn(client, alice, bobs_patient):
    client.force_login(alice)
    assert open_record(client, bobs_patient.mrn).status_code == 302
    assert EmergencyAccess.objects.filter(user=alice, patient=bobs_patient).exists()


@pytest.mark.django_db
def test_the_duration_is_a_setting(client, settings, alice, bobs_patient):
    settings.EMERGENCY_ACCESS_HOURS = 0.5
    client.force_login(alice)
    open_record(client, "P002")
    grant = EmergencyAccess.objects.get()
    assert grant.expires_at - grant.started_at == dt.timedelta(minutes=30)


@pytest.mark.django_db
def test_an_expired_access_answers_404_again(client, alice, bobs_patient, session_of):
    session = session_of(bobs_patient)
    client.force_login(alice)
    open_record(client, "P002")
    EmergencyAccess.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    assert client.get(bobs_patient.get_absolute_url()).status_code == 404
    assert client.get(reverse("sessions:detail", args=[session.pk])).status_code == 404
    assert not Patient.objects.visible_to(alice).filter(pk=bobs_patient.pk).exists()
    assert not TherapySession.objects.visible_to(alice).exists()


@pytest.mark.django_db
def test_another_clinics_patient_answers_like_one_that_does_not_exist(client, alice, daves_patient):
    """The form is no oracle: Dave's patient and an unknown code get the very same page."""
    client.force_login(alice)
    foreign = open_record(client, daves_patient.code)
    foreign_mrn = open_record(client, daves_patient.mrn)
    unknown = open_record(client, "Q777")

    for response in (foreign, foreign_mrn, unknown):
        assert response.status_code == 200
        assert NO_SUCH_PATIENT in response.content.decode()
    assert without_tokens(foreign.content, daves_patient.code) == without_tokens(
        unknown.content, "Q777"
    )
    assert without_tokens(foreign_mrn.content, daves_patient.mrn) == without_tokens(
        unknown.content, "Q777"
    )
    assert not EmergencyAccess.objects.exists()
    assert client.get(daves_patient.get_absolute_url()).status_code == 404


@pytest.mark.django_db
def test_a_grant_never_reaches_across_clinics(alice, daves_patient):
    """Even a grant row on another clinic's patient (written by hand) opens nothing."""
    EmergencyAccess.objects.create(
        user=alice,
        patient=daves_patient,
        reason=REASON,
        expires_at=timezone.now() + dt.timedelta(hours=1),
    )
    assert not Patient.objects.visible_to(alice).filter(pk=daves_patient.pk).exists()


@pytest.mark.django_db
def test_a_reason_is_required_and_voided_patients_stay_closed(client, alice, bob, bobs_patient):
    client.force_login(alice)
    short = open_record(client, "P002", reason="urgent")
    assert short.status_code == 200
    assert b"at least 10 characters" in short.content

    bobs_patient.void(by=bob, reason="duplicate")
    voided = open_record(client, "P002")
    assert NO_SUCH_PATIENT in voided.content.decode()
    assert not EmergencyAccess.objects.exists()


@pytest.mark.django_db
def test_an_assigned_patient_needs_no_emergency_access(client, alice, alices_patient):
    client.force_login(alice)
    response = open_record(client, "P001")
    assert response["Location"] == alices_patient.get_absolute_url()
    assert not EmergencyAccess.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["carol", "rita", "zoe"])
def test_only_therapists_break_the_glass(client, everyone, persona):
    client.force_login(everyone[persona])
    assert client.get(EMERGENCY_URL).status_code == 403
    assert open_record(client, "P002").status_code == 403


@pytest.mark.django_db
def test_rows_are_not_repeated_by_other_therapists_or_several_grants(alice, bob, north):
    shared = make_patient(north, "P010", "Cyril", "Cotterell", bob, alice)
    make_staff("tess@north.test", "Tess Therapist", north, "Therapist")
    shared.therapists.add(*north.staff.exclude(pk=alice.pk))
    opened = make_patient(north, "P011", "Dora", "Dunmore", bob)
    for _ in range(2):
        EmergencyAccess.objects.create(
            user=alice, patient=opened, reason=REASON, expires_at=timezone.now() + dt.timedelta(1)
        )
    codes = list(Patient.objects.visible_to(alice).values_list("code", flat=True))
    assert codes == ["P010", "P011"]


@pytest.mark.django_db
def test_the_manager_sees_the_access_until_acknowledged(client, alice, carol, bobs_patient):
    client.force_login(alice)
    open_record(client, "P002")
    grant = EmergencyAccess.objects.get()

    client.force_login(carol)
    dashboard = client.get(reverse("clinic:dashboard")).content.decode()
    assert "Emergency accesses to acknowledge" in dashboard
    assert REASON in dashboard
    assert "Alice Therapist" in dashboard

    acknowledge = reverse("patients:emergency-acknowledge", args=[grant.pk])
    assert client.get(acknowledge).status_code == 405
    assert client.post(acknowledge)["Location"] == reverse("clinic:dashboard")
    grant.refresh_from_db()
    assert grant.acknowledged_by == carol
    assert grant.acknowledged_at is not None
    assert "Emergency accesses to acknowledge" not in client.get("/").content.decode()
    # Acknowledging is not ending: the access runs until it expires.
    assert Patient.objects.visible_to(alice).filter(pk=bobs_patient.pk).exists()


@pytest.mark.django_db
def test_expired_accesses_stay_listed_until_acknowledged(client, alice, carol, bobs_patient):
    EmergencyAccess.objects.create(
        user=alice,
        patient=bobs_patient,
        reason=REASON,
        expires_at=timezone.now() - dt.timedelta(minutes=5),
    )
    client.force_login(carol)
    dashboard = client.get("/").content.decode()
    assert REASON in dashboard
    assert "ended" in dashboard


@pytest.mark.django_db
def test_only_the_clinics_managers_acknowledge(client, alice, bob, south, bobs_patient):
    grant = EmergencyAccess.objects.create(
        user=alice, patient=bobs_patient, reason=REASON, expires_at=timezone.now()
    )
    url = reverse("patients:emergency-acknowledge", args=[grant.pk])
    other_manager = make_staff("sam@south.test", "Sam South", south, CLINIC_MANAGER)
    client.force_login(other_manager)
    assert client.post(url).status_code == 404  # another clinic's: out of scope
    assert REASON not in client.get("/").content.decode()
    client.force_login(bob)
    assert client.post(url).status_code == 403  # in Bob's scope, without the permission
    client.force_login(alice)
    assert client.post(url).status_code == 404  # expired: out of Alice's scope again
    grant.refresh_from_db()
    assert grant.acknowledged_at is None


@pytest.mark.django_db
def test_a_therapist_lists_her_open_accesses(client, alice, bobs_patient):
    client.force_login(alice)
    open_record(client, "P002")
    page = client.get(EMERGENCY_URL).content.decode()
    assert "Your emergency accesses" in page
    assert "P002" in page
