"""Every admin view against every persona: status codes, and no foreign name in any body.

Carol (manager), Rita (researcher) and Dave (therapist in another clinic) are given ``is_staff``
here so that the admin's own scoping is what is under test, not just the staff flag; Alice keeps
``is_staff`` off and anonymous visitors are sent to the site's (allauth's) login.
"""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from clinic.models import ClinicSettings
from conftest import FOREIGN_NAMES
from patients.models import MvcCalibration, PatientProtocol
from sessions.models import Recording

# Patient names each persona must never receive (anything outside their scope; all of them for
# the researcher, who sees codes only).
HIDDEN_NAMES = {
    "zoe": (),
    "carol": FOREIGN_NAMES["daves_patient"],
    "rita": sum(FOREIGN_NAMES.values(), ()),
    "dave": FOREIGN_NAMES["alices_patient"] + FOREIGN_NAMES["bobs_patient"],
}
# Staff accounts outside each persona's clinic.
HIDDEN_STAFF = {
    "zoe": (),
    "carol": ("Dave Elsewhere", "zoe@admin.test"),
    "rita": ("Dave Elsewhere", "zoe@admin.test"),
    "dave": ("Alice Therapist", "Bob Therapist", "Carol Manager", "zoe@admin.test"),
}


def url(name, *args):
    return lambda w: reverse(f"admin:{name}", args=[a(w) if callable(a) else a for a in args])


def pk(key):
    return lambda w: w[key].pk


def expect(zoe, carol, rita, dave):
    return {"zoe": zoe, "carol": carol, "rita": rita, "dave": dave}


# (url, expected status per persona). 404 = out of scope, 403 = in scope without permission.
CASES = {
    "index": (url("index"), expect(200, 200, 200, 200)),
    # patients
    "patient list": (url("patients_patient_changelist"), expect(200, 200, 200, 200)),
    "patient add": (url("patients_patient_add"), expect(200, 200, 403, 200)),
    "patient north change": (
        url("patients_patient_change", pk("alices_patient")),
        expect(200, 200, 200, 404),
    ),
    "patient south change": (
        url("patients_patient_change", pk("daves_patient")),
        expect(200, 404, 404, 200),
    ),
    "patient north history": (
        url("patients_patient_history", pk("alices_patient")),
        expect(200, 200, 200, 404),
    ),
    "patient south history": (
        url("patients_patient_history", pk("daves_patient")),
        expect(200, 404, 404, 200),
    ),
    "patient north delete": (
        url("patients_patient_delete", pk("alices_patient")),
        expect(403, 403, 403, 404),
    ),
    "patient missing": (url("patients_patient_change", 987654), expect(404, 404, 404, 404)),
    "patient malformed id": (
        url("patients_patient_change", "not-a-number"),
        expect(404, 404, 404, 404),
    ),
    # therapy sessions
    "session list": (url("therapy_sessions_therapysession_changelist"), expect(200, 200, 200, 200)),
    "session add": (url("therapy_sessions_therapysession_add"), expect(200, 200, 403, 200)),
    "session north change": (
        url("therapy_sessions_therapysession_change", pk("north_session")),
        expect(200, 200, 200, 404),
    ),
    "session south change": (
        url("therapy_sessions_therapysession_change", pk("south_session")),
        expect(200, 404, 404, 200),
    ),
    "session north delete": (
        url("therapy_sessions_therapysession_delete", pk("north_session")),
        expect(403, 403, 403, 404),
    ),
    # recordings
    "recording list": (url("therapy_sessions_recording_changelist"), expect(200, 200, 200, 200)),
    "recording add": (url("therapy_sessions_recording_add"), expect(403, 403, 403, 403)),
    "recording north change": (
        url("therapy_sessions_recording_change", pk("north_recording")),
        expect(200, 200, 200, 404),
    ),
    "recording south change": (
        url("therapy_sessions_recording_change", pk("south_recording")),
        expect(200, 404, 404, 200),
    ),
    "recording south delete": (
        url("therapy_sessions_recording_delete", pk("south_recording")),
        expect(403, 404, 404, 403),
    ),
    # staff accounts
    "user list": (url("clinic_user_changelist"), expect(200, 200, 403, 403)),
    "user add": (url("clinic_user_add"), expect(200, 200, 403, 403)),
    "user north change": (url("clinic_user_change", pk("bob")), expect(200, 200, 403, 404)),
    "user north password": (
        url("auth_user_password_change", pk("bob")),
        expect(200, 200, 403, 404),
    ),
    "user south change": (url("clinic_user_change", pk("dave")), expect(200, 404, 404, 403)),
    "superuser change": (url("clinic_user_change", pk("zoe")), expect(200, 404, 404, 404)),
    "user north delete": (url("clinic_user_delete", pk("bob")), expect(200, 403, 403, 404)),
    # clinics
    "clinic list": (url("clinic_clinic_changelist"), expect(200, 200, 403, 403)),
    "clinic add": (url("clinic_clinic_add"), expect(200, 403, 403, 403)),
    "clinic north change": (url("clinic_clinic_change", pk("north")), expect(200, 200, 403, 404)),
    "clinic south change": (url("clinic_clinic_change", pk("south")), expect(200, 404, 404, 403)),
    # clinic settings (versioned), MVC calibrations (append-only) and patient protocols
    "settings list": (url("clinic_clinicsettings_changelist"), expect(200, 200, 200, 200)),
    "settings add": (url("clinic_clinicsettings_add"), expect(200, 200, 403, 403)),
    "settings north view": (
        url("clinic_clinicsettings_change", pk("north_settings")),
        expect(200, 200, 200, 404),
    ),
    "settings south view": (
        url("clinic_clinicsettings_change", pk("south_settings")),
        expect(200, 404, 404, 200),
    ),
    "calibration list": (url("patients_mvccalibration_changelist"), expect(200, 200, 200, 200)),
    "calibration add": (url("patients_mvccalibration_add"), expect(200, 200, 403, 200)),
    "calibration north view": (
        url("patients_mvccalibration_change", pk("north_calibration")),
        expect(200, 200, 200, 404),
    ),
    "calibration south view": (
        url("patients_mvccalibration_change", pk("south_calibration")),
        expect(200, 404, 404, 200),
    ),
    "protocol list": (url("patients_patientprotocol_changelist"), expect(200, 200, 200, 200)),
    "protocol add": (url("patients_patientprotocol_add"), expect(200, 200, 403, 200)),
    "protocol north change": (
        url("patients_patientprotocol_change", pk("north_protocol")),
        expect(200, 200, 200, 404),
    ),
    "protocol south change": (
        url("patients_patientprotocol_change", pk("south_protocol")),
        expect(200, 404, 404, 200),
    ),
    # groups and the audit log: administrators only
    "group list": (url("auth_group_changelist"), expect(200, 403, 403, 403)),
    "audit log": (url("auditlog_logentry_changelist"), expect(200, 403, 403, 403)),
}


@pytest.fixture
def world(everyone, session_of, north, south):
    for key in ("carol", "rita", "dave"):
        everyone[key].is_staff = True
        everyone[key].save(update_fields=["is_staff"])
    north_session = session_of(everyone["alices_patient"], rpe=4)
    south_session = session_of(everyone["daves_patient"], rpe=5)

    def recording(session, name):
        return Recording.objects.create(
            session=session,
            file=f"recordings/test/{name}",
            sha256=name.ljust(64, "0")[:64],
            size_bytes=1234,
            original_name=name,
        )

    def calibration(patient):
        # Free text naming the patient: only those who may see the identity may read it.
        return MvcCalibration.objects.create(
            patient=patient, muscle="quadriceps", value_v=0.0004, notes=f"{patient.full_name} ok"
        )

    return {
        **everyone,
        "north_settings": ClinicSettings.objects.create(clinic=north, version=1),
        "south_settings": ClinicSettings.objects.create(clinic=south, version=1),
        "north_calibration": calibration(everyone["alices_patient"]),
        "south_calibration": calibration(everyone["daves_patient"]),
        "north_protocol": PatientProtocol.objects.create(patient=everyone["alices_patient"]),
        "south_protocol": PatientProtocol.objects.create(patient=everyone["daves_patient"]),
        "north": north,
        "south": south,
        "north_session": north_session,
        "south_session": south_session,
        "north_recording": recording(north_session, "Ghostly_Emg_20260105_10-00-00-0001.c3d"),
        "south_recording": recording(south_session, "Ghostly_Emg_20260105_11-00-00-0002.c3d"),
    }


def assert_nothing_foreign(persona, body):
    for name in HIDDEN_NAMES[persona] + HIDDEN_STAFF[persona]:
        assert name not in body, f"{persona} received {name!r}"


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["zoe", "carol", "rita", "dave"])
@pytest.mark.parametrize("case", list(CASES))
def test_staff_personas_get_the_expected_status_and_no_foreign_names(client, world, persona, case):
    make_url, expected = CASES[case]
    client.force_login(world[persona])
    response = client.get(make_url(world))
    assert response.status_code == expected[persona], f"{case} as {persona}"
    assert_nothing_foreign(persona, response.content.decode())


@pytest.mark.django_db
@pytest.mark.parametrize("case", list(CASES))
def test_a_non_staff_therapist_is_refused_everywhere(client, world, case):
    client.force_login(world["alice"])
    response = client.get(CASES[case][0](world))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    # The admin login is allauth's: a signed-in user without is_staff is refused there.
    refused = client.get(response["Location"])
    assert refused.status_code == 403
    for name in sum(FOREIGN_NAMES.values(), ()):
        assert name not in refused.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("case", list(CASES))
def test_anonymous_visitors_are_sent_to_the_site_login(client, world, case):
    target = CASES[case][0](world)
    response = client.get(target, follow=True)
    first_hop, _ = response.redirect_chain[0]
    assert first_hop.startswith(reverse("admin:login"))
    last_hop, status = response.redirect_chain[-1]
    assert status == 302
    login_url = urlsplit(last_hop)
    assert login_url.path == reverse("account_login")
    # After logging in they land where they were going.
    assert parse_qs(login_url.query)["next"] == [target]
    for name in sum(FOREIGN_NAMES.values(), ()):
        assert name not in response.content.decode()


@pytest.mark.django_db
def test_names_do_appear_where_they_are_in_scope(client, world):
    # Guards the matrix against passing vacuously (e.g. an empty list for everyone).
    patients = reverse("admin:patients_patient_changelist")
    client.force_login(world["zoe"])
    body = client.get(patients).content.decode()
    assert "Desmond Dunleavy" in body
    assert "Agatha Aldersley" in body
    client.force_login(world["carol"])
    body = client.get(patients).content.decode()
    assert "Agatha Aldersley" in body
    assert "Bertram Brockhurst" in body
    client.force_login(world["rita"])
    body = client.get(patients).content.decode()
    assert "P001" in body
    assert "P002" in body
    client.force_login(world["dave"])
    body = client.get(patients).content.decode()
    assert "Desmond Dunleavy" in body
    assert "P001" not in body


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "may_void"), [("zoe", True), ("carol", True), ("rita", False), ("dave", False)]
)
def test_the_void_action_follows_scope_and_permission(client, world, persona, may_void):
    patient = world["alices_patient"]
    changelist = reverse("admin:patients_patient_changelist")
    selection = {"action": "void_selected", "_selected_action": [patient.pk]}
    client.force_login(world[persona])

    asked = client.post(changelist, selection)
    assert asked.status_code == 200
    assert ('name="reason"' in asked.content.decode()) is may_void
    assert_nothing_foreign(persona, asked.content.decode())

    done = client.post(changelist, {**selection, "confirm_void": "yes", "reason": "matrix"})
    assert done.status_code == (302 if may_void else 200)
    patient.refresh_from_db()
    assert (patient.voided_at is not None) is may_void
