"""Patients and sessions in admin: choices, searches and forms stay inside the user's scope."""

import pytest
from django.urls import reverse

from analysis.tests.support import (
    AUDIT_ENTRY,
    AUDIT_LOOKUP,
    analysed,
    make_recording,
)
from conftest import make_patient
from patients.models import Patient
from sessions.models import Recording, TherapySession


@pytest.fixture
def staff(carol, rita, dave):
    for user in (carol, rita, dave):
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    return {"carol": carol, "rita": rita, "dave": dave}


def patient_form(patient, **extra):
    data = {
        "clinic": patient.clinic_id,
        "code": patient.code,
        "is_active": "on",
        "first_name": patient.first_name,
        "last_name": patient.last_name,
        "mrn": patient.mrn,
        "date_of_birth": "",
        "sex": patient.sex,
        "diagnosis": "",
        "treatment_start": "",
        "planned_sessions": 10,
        "therapists": list(patient.therapists.values_list("pk", flat=True)),
        "notes": "",
    }
    data.update(extra)
    return data


@pytest.mark.django_db
def test_a_manager_cannot_assign_another_clinics_therapist(client, staff, alices_patient, dave):
    client.force_login(staff["carol"])
    change = reverse("admin:patients_patient_change", args=[alices_patient.pk])
    page = client.get(change).content.decode()
    assert "Dave Elsewhere" not in page
    response = client.post(change, patient_form(alices_patient, therapists=[dave.pk]))
    assert response.status_code == 200
    assert not alices_patient.therapists.filter(pk=dave.pk).exists()


@pytest.mark.django_db
def test_a_superuser_cannot_assign_a_therapist_across_clinics_either(
    client, zoe, alices_patient, dave
):
    client.force_login(zoe)
    change = reverse("admin:patients_patient_change", args=[alices_patient.pk])
    response = client.post(change, patient_form(alices_patient, therapists=[dave.pk]))
    assert response.status_code == 200
    assert "must work in the patient&#x27;s clinic" in response.content.decode()
    assert not alices_patient.therapists.filter(pk=dave.pk).exists()


@pytest.mark.django_db
def test_a_manager_reassigns_within_the_clinic(client, staff, alices_patient, bob):
    client.force_login(staff["carol"])
    change = reverse("admin:patients_patient_change", args=[alices_patient.pk])
    response = client.post(change, patient_form(alices_patient, therapists=[bob.pk]))
    assert response.status_code == 302
    assert list(alices_patient.therapists.all()) == [bob]


@pytest.mark.django_db
def test_a_manager_cannot_move_a_patient_to_another_clinic(client, staff, alices_patient, south):
    client.force_login(staff["carol"])
    change = reverse("admin:patients_patient_change", args=[alices_patient.pk])
    response = client.post(change, patient_form(alices_patient, clinic=south.pk))
    assert response.status_code == 200
    alices_patient.refresh_from_db()
    assert alices_patient.clinic.code == "north"


@pytest.mark.django_db
def test_a_therapist_cannot_change_assignments_but_keeps_patients_they_add(
    client, staff, daves_patient
):
    dave = staff["dave"]
    client.force_login(dave)
    page = client.get(reverse("admin:patients_patient_add")).content.decode()
    assert 'name="therapists"' not in page
    data = patient_form(daves_patient, code="S002", mrn="MRN-S002", first_name="Sybil")
    data.pop("therapists")
    response = client.post(reverse("admin:patients_patient_add"), data)
    assert response.status_code == 302
    added = Patient.objects.get(code="S002")
    assert list(added.therapists.all()) == [dave]


@pytest.mark.django_db
def test_the_researcher_sees_codes_but_no_identity_and_cannot_search_names(
    client, staff, alices_patient
):
    client.force_login(staff["rita"])
    listing = reverse("admin:patients_patient_changelist")
    body = client.get(listing).content.decode()
    assert "P001" in body
    assert "Aldersley" not in body
    found = client.get(listing, {"q": "Aldersley"}).content.decode()
    assert "P001" not in found
    page = client.get(reverse("admin:patients_patient_change", args=[alices_patient.pk]))
    assert "MRN-P001" not in page.content.decode()
    assert "1950" not in page.content.decode()


@pytest.mark.django_db
def test_session_patient_choices_are_limited_to_the_scope(
    client, staff, alices_patient, daves_patient
):
    client.force_login(staff["carol"])
    add = reverse("admin:therapy_sessions_therapysession_add")
    page = client.get(add).content.decode()
    assert f'value="{alices_patient.pk}"' in page
    assert f'value="{daves_patient.pk}"' not in page
    response = client.post(
        add,
        {
            "patient": daves_patient.pk,
            "therapist": staff["carol"].pk,
            "started_at_0": "2026-01-05",
            "started_at_1": "10:00:00",
            "rpe": 4,
        },
    )
    assert response.status_code == 200
    assert not TherapySession.objects.filter(patient=daves_patient).exists()


@pytest.mark.django_db
def test_a_session_needs_a_therapist_of_the_patients_clinic(client, zoe, alices_patient, dave):
    client.force_login(zoe)
    response = client.post(
        reverse("admin:therapy_sessions_therapysession_add"),
        {
            "patient": alices_patient.pk,
            "therapist": dave.pk,
            "started_at_0": "2026-01-05",
            "started_at_1": "10:00:00",
        },
    )
    assert response.status_code == 200
    assert not TherapySession.objects.exists()


@pytest.mark.django_db
def test_a_failed_recording_goes_back_to_the_pipeline_but_its_facts_cannot_change(
    client, staff, alices_patient, daves_patient, session_of, django_capture_on_commit_callbacks
):
    def recording(patient, name, status):
        return Recording.objects.create(
            session=session_of(patient),
            file=f"recordings/test/{name}",
            sha256=name.ljust(64, "0")[:64],
            size_bytes=2048,
            original_name=name,
            status=status,
            failure_reason="reader crashed" if status == "failed" else "",
        )

    failed = recording(alices_patient, "a.c3d", Recording.Status.FAILED)
    busy = recording(alices_patient, "b.c3d", Recording.Status.PROCESSING)
    foreign = recording(daves_patient, "c.c3d", Recording.Status.FAILED)
    client.force_login(staff["carol"])
    changelist = reverse("admin:therapy_sessions_recording_changelist")
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            changelist,
            {
                "action": "analyse_again",
                "_selected_action": [failed.pk, busy.pk, foreign.pk],
                "index": 0,
            },
        )
    assert response.status_code == 302
    assert len(callbacks) == 1  # one enqueue, after commit, for the failed one only
    failed.refresh_from_db()
    busy.refresh_from_db()
    foreign.refresh_from_db()
    assert failed.status == Recording.Status.PENDING
    assert failed.failure_reason == ""
    assert busy.status == Recording.Status.PROCESSING
    assert foreign.status == Recording.Status.FAILED
    # Editing the row itself changes nothing: every field is read-only here.
    client.post(
        reverse("admin:therapy_sessions_recording_change", args=[failed.pk]),
        {"status": "done", "sha256": "b" * 64, "size_bytes": 1},
    )
    failed.refresh_from_db()
    assert failed.status == Recording.Status.PENDING
    assert failed.size_bytes == 2048


@pytest.mark.django_db
def test_the_analyse_again_action_refuses_the_recordings_of_a_voided_session(
    client, staff, alices_patient, session_of, django_capture_on_commit_callbacks
):
    # The one re-analysis rule (permission, session not voided) holds in admin as on the page.
    voided_session = session_of(alices_patient)
    voided = make_recording(voided_session, "voided.c3d", status="failed", failure_reason="bad")
    other = make_recording(session_of(alices_patient), "other.c3d", status="failed")
    voided_session.void(by=staff["carol"], reason="wrong patient")
    client.force_login(staff["carol"])
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            reverse("admin:therapy_sessions_recording_changelist"),
            {"action": "analyse_again", "_selected_action": [voided.pk, other.pk], "index": 0},
            follow=True,
        )
    assert response.status_code == 200
    assert len(callbacks) == 1  # the other session's recording only
    voided.refresh_from_db()
    other.refresh_from_db()
    assert (voided.status, voided.failure_reason) == (Recording.Status.FAILED, "bad")
    assert other.status == Recording.Status.PENDING
    assert "1 of voided sessions were refused" in response.content.decode()


@pytest.mark.django_db
def test_the_clinical_lists_do_not_query_per_row(
    client, zoe, north, alice, session_of, django_assert_max_num_queries
):
    for n in range(20):
        patient = make_patient(north, f"Q{n:03}", "Quentin", f"Row{n}", alice)
        session = session_of(patient, rpe=3)
        Recording.objects.create(
            session=session,
            file=f"recordings/test/{n}.c3d",
            sha256=f"{n:064}",
            size_bytes=100,
            original_name=f"round-{n}.c3d",
        )
    client.force_login(zoe)
    # The first request of a session stamps its start and last activity (one session write,
    # clinic.middleware.IdleTimeoutMiddleware): a fixed cost, not part of any list's budget.
    client.get(reverse("admin:index"))
    for name, budget in (
        ("patients_patient_changelist", 8 + AUDIT_ENTRY),
        ("therapy_sessions_therapysession_changelist", 10 + AUDIT_ENTRY + AUDIT_LOOKUP),
        ("therapy_sessions_recording_changelist", 6 + AUDIT_ENTRY + AUDIT_LOOKUP),
    ):
        with django_assert_max_num_queries(budget):
            response = client.get(reverse(f"admin:{name}"))
        assert response.status_code == 200


@pytest.mark.django_db
def test_free_text_that_may_name_a_patient_is_hidden_from_the_researcher(
    client, staff, alices_patient, session_of
):
    session = session_of(alices_patient, notes="Agatha tired today")
    client.force_login(staff["carol"])
    client.post(
        reverse("admin:patients_patient_changelist"),
        {
            "action": "void_selected",
            "_selected_action": [alices_patient.pk],
            "confirm_void": "yes",
            "reason": "Duplicate of Agatha Aldersley's other record",
        },
    )
    client.force_login(staff["rita"])
    for page in (
        reverse("admin:patients_patient_change", args=[alices_patient.pk]),
        reverse("admin:patients_patient_history", args=[alices_patient.pk]),
        reverse("admin:therapy_sessions_therapysession_change", args=[session.pk]),
    ):
        body = client.get(page).content.decode()
        assert "Agatha" not in body, page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("listing", "lookup"),
    [
        ("admin:patients_patient_changelist", {"first_name__startswith": "A"}),
        ("admin:patients_patient_changelist", {"mrn": "MRN-P001"}),
        ("admin:patients_patient_changelist", {"date_of_birth__year": "1950"}),
        ("admin:patients_patient_changelist", {"notes__icontains": "a"}),
        ("admin:patients_patient_changelist", {"last_name__regex": "^A"}),
        ("admin:therapy_sessions_therapysession_changelist", {"notes__icontains": "a"}),
        ("admin:therapy_sessions_recording_changelist", {"original_name__icontains": "a"}),
    ],
)
def test_identity_lookups_are_refused_to_the_researcher(
    client, staff, alices_patient, listing, lookup
):
    # A count that changes with ?first_name__startswith= would spell a name out letter by letter.
    client.force_login(staff["rita"])
    assert client.get(reverse(listing), lookup).status_code == 400
    client.force_login(staff["carol"])
    assert client.get(reverse(listing), lookup).status_code == 200


@pytest.mark.django_db
def test_the_researcher_does_not_see_the_players_name_of_a_result(
    client, staff, alices_patient, session_of
):
    recording = analysed(session_of(alices_patient), "round1.c3d")
    analysis = recording.analyses.get()
    analysis.metadata = {"player_name": "Agatha Aldersley"}
    analysis.save(update_fields=["metadata"])
    page = reverse("admin:analysis_recordinganalysis_change", args=[analysis.pk])
    client.force_login(staff["rita"])
    assert "Agatha Aldersley" not in client.get(page).content.decode()
    client.force_login(staff["carol"])
    assert "Agatha Aldersley" in client.get(page).content.decode()
