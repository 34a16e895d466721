"""The access policy itself: scopes, identity masking and the 404/403 rule."""

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser, Permission
from django.core.exceptions import PermissionDenied
from django.http import Http404

from analysis.models import RecordingAnalysis
from analysis.tests.support import analysed
from clinic import access
from conftest import PATIENT_KEYS, PATIENTS_SEEN_BY, make_staff
from patients.models import MvcCalibration, Patient, PatientProtocol
from sessions.models import Recording, TherapySession


def visible_codes(user):
    return set(Patient.objects.visible_to(user).values_list("code", flat=True))


@pytest.mark.django_db
def test_each_persona_sees_exactly_their_scope(everyone):
    assert visible_codes(everyone["alice"]) == {"P001"}
    assert visible_codes(everyone["bob"]) == {"P002"}
    assert visible_codes(everyone["carol"]) == {"P001", "P002"}
    assert visible_codes(everyone["rita"]) == {"P001", "P002"}
    assert visible_codes(everyone["dave"]) == {"S001"}
    assert visible_codes(everyone["zoe"]) == {"P001", "P002", "S001"}
    assert visible_codes(AnonymousUser()) == set()


@pytest.mark.django_db
def test_a_therapist_loses_a_patient_when_unassigned(everyone):
    everyone["alices_patient"].therapists.remove(everyone["alice"])
    assert visible_codes(everyone["alice"]) == set()


@pytest.mark.django_db
def test_staff_without_a_role_or_clinic_see_nothing(north, alices_patient):
    no_role = make_staff("nobody@north.test", "No Role", north)
    assert visible_codes(no_role) == set()
    no_clinic = make_staff("drifter@north.test", "No Clinic", None, "Clinic manager")
    assert visible_codes(no_clinic) == set()


@pytest.mark.django_db
def test_sessions_follow_their_patients(everyone, session_of):
    mine = session_of(everyone["alices_patient"])
    session_of(everyone["bobs_patient"])
    assert list(TherapySession.objects.visible_to(everyone["alice"])) == [mine]
    assert TherapySession.objects.visible_to(everyone["carol"]).count() == 2
    assert TherapySession.objects.visible_to(everyone["dave"]).count() == 0


@pytest.mark.django_db
def test_researchers_cannot_see_identity_but_clinicians_can(everyone):
    assert access.can_see_identity(everyone["alice"])
    assert access.can_see_identity(everyone["carol"])
    assert access.can_see_identity(everyone["zoe"])
    assert not access.can_see_identity(everyone["rita"])
    assert not access.can_see_identity(AnonymousUser())


@pytest.fixture
def records(everyone, session_of):
    """For each patient: a recording, its analysis, an MVC calibration and a protocol."""
    rows = {}
    for key in PATIENT_KEYS:
        patient = everyone[key]
        recording = analysed(session_of(patient), f"{key}.c3d")
        rows[key] = {
            Recording: recording,
            RecordingAnalysis: RecordingAnalysis.objects.get(recording=recording),
            MvcCalibration: MvcCalibration.objects.create(
                patient=patient, muscle="quadriceps", side="left", value_v=0.0005
            ),
            PatientProtocol: PatientProtocol.objects.create(patient=patient, hold_s=3.0),
        }
    return rows


@pytest.mark.django_db
@pytest.mark.parametrize(
    "model",
    [Recording, RecordingAnalysis, MvcCalibration, PatientProtocol],
    ids=lambda model: model.__name__,
)
@pytest.mark.parametrize("persona", list(PATIENTS_SEEN_BY))
def test_records_under_a_patient_follow_the_patients_scope(everyone, records, model, persona):
    visible = model.objects.visible_to(everyone[persona]).values_list("pk", flat=True)
    assert sorted(visible) == sorted(records[key][model].pk for key in PATIENTS_SEEN_BY[persona])


@pytest.mark.django_db
@pytest.mark.parametrize("model", [Recording, RecordingAnalysis, MvcCalibration, PatientProtocol])
def test_anonymous_users_see_no_records(records, model):
    assert not model.objects.visible_to(AnonymousUser()).exists()


@pytest.mark.django_db
def test_a_patient_shared_by_two_therapists_gives_each_record_once(everyone, records):
    everyone["alices_patient"].therapists.add(everyone["bob"])
    for persona in ("alice", "bob"):
        visible = list(Recording.objects.visible_to(everyone[persona]))
        assert len(visible) == len(set(visible))
    assert records["alices_patient"][Recording] in Recording.objects.visible_to(everyone["bob"])


@pytest.mark.django_db
def test_out_of_scope_is_404_and_missing_permission_is_403(everyone):
    alice, rita = everyone["alice"], everyone["rita"]
    # The lookup narrows by the user's scope itself: a plain manager is enough.
    with pytest.raises(Http404):
        access.get_visible_or_404(Patient.objects, user=alice, pk=everyone["bobs_patient"].pk)
    with pytest.raises(Http404):
        access.get_visible_or_404(Patient.objects.all(), user=alice, pk="not-a-number")
    with pytest.raises(PermissionDenied):
        access.get_visible_or_404(
            Patient.objects,
            user=rita,
            perm="patients.change_patient",
            pk=everyone["alices_patient"].pk,
        )
    assert (
        access.get_visible_or_404(Patient.objects, user=alice, pk=everyone["alices_patient"].pk)
        == everyone["alices_patient"]
    )


@pytest.mark.django_db
def test_services_refuse_out_of_scope_and_missing_permission_alike(everyone, session_of):
    # Services raise PermissionDenied for both; the pages have already answered 404 or 403.
    session = session_of(everyone["alices_patient"])
    access.require_object_access(everyone["alice"], session, "therapy_sessions.add_recording")
    access.require_object_access(everyone["carol"], session, "therapy_sessions.add_recording")
    for persona in ("bob", "dave"):
        with pytest.raises(PermissionDenied, match="outside your scope"):
            access.require_object_access(
                everyone[persona], session, "therapy_sessions.add_recording"
            )
    with pytest.raises(PermissionDenied, match="Missing permission"):
        access.require_object_access(everyone["rita"], session, "therapy_sessions.add_recording")
    with pytest.raises(PermissionDenied, match="outside your scope"):
        access.require_object_access(AnonymousUser(), session, "therapy_sessions.add_recording")


@pytest.mark.django_db
def test_the_system_acts_without_a_user(everyone, session_of):
    # Commands and the worker pass no user: nothing to check.
    session = session_of(everyone["daves_patient"])
    access.require_object_access(None, session, "therapy_sessions.add_recording")


@pytest.mark.django_db
def test_recording_files_need_the_permission_and_identity_access(everyone):
    rita = everyone["rita"]
    for persona in ("alice", "bob", "carol", "dave", "zoe"):
        assert access.can_download_recordings(everyone[persona]), persona
    assert not access.can_download_recordings(rita)
    # The C3D carries the player's name: the permission alone does not make a researcher one.
    rita.user_permissions.add(Permission.objects.get(codename="download_recording"))
    rita = type(rita).objects.get(pk=rita.pk)  # a fresh permission cache
    assert rita.has_perm("therapy_sessions.download_recording")
    assert not access.can_download_recordings(rita)


def test_age_band_replaces_birth_dates():
    today = dt.date(2026, 11, 22)
    assert access.age_band(dt.date(1950, 11, 23), today=today) == "70-79"
    assert access.age_band(dt.date(1950, 11, 22), today=today) == "70-79"
    assert access.age_band(dt.date(1946, 11, 23), today=today) == "70-79"
    assert access.age_band(dt.date(1946, 11, 22), today=today) == "80-89"
    assert access.age_band(None) == "unknown"
