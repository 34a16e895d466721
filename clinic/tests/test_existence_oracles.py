"""No page tells whether a record outside one's scope exists: out of scope (another therapist's,
another clinic's, or voided for those who may not void) is 404 before any permission check, on
every page of a patient, session and recording, for reading and for changing."""

import pytest
from django.urls import reverse

from analysis.tests.support import make_recording
from conftest import make_patient

PATIENT_PAGES = {
    "patients:detail": ("GET",),
    "patients:edit": ("GET", "POST"),
    "patients:void": ("GET", "POST"),
    "patients:calibrations": ("GET", "POST"),
    "patients:protocol": ("GET", "POST"),
    "patients:progress": ("GET",),
    "patients:session-create": ("GET", "POST"),
}
SESSION_PAGES = {
    "sessions:detail": ("GET",),
    "sessions:edit": ("GET", "POST"),
    "sessions:void": ("GET", "POST"),
    "sessions:upload": ("GET", "POST"),
    "analysis:session_reanalyse": ("POST",),
    "analysis:session_score": ("GET",),
}
RECORDING_PAGES = {
    "sessions:recording": ("GET",),
    "sessions:recording-download": ("GET",),
    "analysis:recording_row": ("GET",),
    "analysis:recording_results": ("GET",),
}
# Pages that change a record: a voided record is 404 there even for those who may void.
CHANGE_PAGES = {
    "patients:edit",
    "patients:void",
    "patients:session-create",
    "sessions:edit",
    "sessions:void",
}


@pytest.fixture
def records(alices_patient, session_of):
    session = session_of(alices_patient)
    return {"patient": alices_patient, "session": session, "recording": make_recording(session)}


def requests_for(records, names=None):
    """(url name, method, url) of every page of the patient, its session and its recording."""
    for pages, obj in (
        (PATIENT_PAGES, records["patient"]),
        (SESSION_PAGES, records["session"]),
        (RECORDING_PAGES, records["recording"]),
    ):
        for name, methods in pages.items():
            if names is None or name in names:
                for method in methods:
                    yield name, method, reverse(name, args=[obj.pk])


def answers(client, method, url):
    return client.post(url, {}) if method == "POST" else client.get(url)


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["bob", "dave"])
def test_other_therapists_get_404_everywhere(client, everyone, records, persona):
    client.force_login(everyone[persona])
    wrong = {
        (name, method): answers(client, method, url).status_code
        for name, method, url in requests_for(records)
    }
    assert {key: code for key, code in wrong.items() if code != 404} == {}


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["alice", "rita"])
def test_a_voided_patient_is_404_for_those_who_may_not_void(client, everyone, records, persona):
    """Alice treats the patient, Rita's clinic scope covers it: voided, neither learns of it,
    not even through a page whose permission they lack (that 403 would tell it exists)."""
    records["patient"].void(by=everyone["carol"], reason="duplicate of P009")
    client.force_login(everyone[persona])
    codes = {
        (name, method): answers(client, method, url).status_code
        for name, method, url in requests_for(records)
    }
    assert {key: code for key, code in codes.items() if code != 404} == {}


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["alice", "rita"])
def test_a_voided_session_is_404_for_those_who_may_not_void(client, everyone, records, persona):
    records["session"].void(by=everyone["carol"], reason="wrong patient")
    client.force_login(everyone[persona])
    codes = {
        (name, method): answers(client, method, url).status_code
        for name, method, url in requests_for(records)
        if not name.startswith("patients:")
    }
    assert {key: code for key, code in codes.items() if code != 404} == {}


@pytest.mark.django_db
def test_nothing_edits_or_voids_a_voided_record_not_even_a_manager(client, everyone, records):
    records["session"].void(by=everyone["carol"], reason="wrong patient")
    records["patient"].void(by=everyone["carol"], reason="duplicate of P009")
    client.force_login(everyone["carol"])
    codes = {
        (name, method): answers(client, method, url).status_code
        for name, method, url in requests_for(records, CHANGE_PAGES)
    }
    assert {key: code for key, code in codes.items() if code != 404} == {}
    # ...while she still reads them (voiders review the trail).
    assert client.get(records["patient"].get_absolute_url()).status_code == 200


@pytest.mark.django_db
def test_in_scope_without_the_permission_is_403(client, everyone, records):
    """The 403 stays for what one may see but not do: Rita's clinic, no change permission."""
    client.force_login(everyone["rita"])
    assert client.get(reverse("patients:edit", args=[records["patient"].pk])).status_code == 403
    assert client.get(reverse("sessions:void", args=[records["session"].pk])).status_code == 403


def patient_form(**overrides):
    data = {
        "code": "P050",
        "mrn": "MRN-NEW",
        "first_name": "Nora",
        "last_name": "Newcombe",
        "sex": "F",
        "planned_sessions": "10",
        "is_active": "on",
    }
    data.update(overrides)
    return data


def form_errors(response):
    form = response.context["form"]
    return {field: list(errors) for field, errors in form.errors.items()}


@pytest.mark.django_db
def test_a_colleagues_mrn_or_code_is_not_confirmed(client, bob, alices_patient):
    """Bob may not see Alice's patient: a taken MRN and a taken code get one and the same
    answer, which names no patient and neither field."""
    client.force_login(bob)
    by_mrn = client.post(reverse("patients:create"), patient_form(mrn=alices_patient.mrn))
    by_code = client.post(reverse("patients:create"), patient_form(code=alices_patient.code))

    assert form_errors(by_mrn) == form_errors(by_code)
    assert list(form_errors(by_mrn)) == ["__all__"]
    for response in (by_mrn, by_code):
        body = response.content.decode()
        assert "Another patient of this clinic" not in body
        assert "Agatha" not in body
        assert "Aldersley" not in body


@pytest.mark.django_db
def test_a_voided_patients_mrn_is_not_confirmed_to_a_non_voider(client, alice, carol, north):
    voided = make_patient(north, "P060", "Vera", "Voided", alice, mrn="MRN-VOID")
    voided.void(by=carol, reason="duplicate")
    client.force_login(alice)
    response = client.post(reverse("patients:create"), patient_form(mrn="MRN-VOID"))
    assert list(form_errors(response)) == ["__all__"]


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["alice", "carol"])
def test_those_who_see_the_patient_get_the_field_error(client, everyone, persona):
    """Alice (her own patient) and Carol (her clinic) are told which field, as before."""
    client.force_login(everyone[persona])
    mrn = everyone["alices_patient"].mrn
    response = client.post(reverse("patients:create"), patient_form(mrn=mrn, code="P001"))
    errors = form_errors(response)
    assert errors["mrn"] == ["Another patient of this clinic has this MRN."]
    assert errors["code"] == ["Another patient of this clinic already has this code."]
