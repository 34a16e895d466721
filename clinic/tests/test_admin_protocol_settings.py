"""Clinic settings versions, MVC calibrations and patient protocols in admin."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from clinic.models import ClinicSettings
from clinic.services import clinic_settings_add, clinic_settings_create
from patients.models import MvcCalibration, PatientProtocol


@pytest.fixture
def manager(carol):
    carol.is_staff = True
    carol.save(update_fields=["is_staff"])
    return carol


def settings_form(clinic, **extra):
    data = {
        "clinic": clinic.pk,
        "contractions_per_round": 12,
        "target_pct_mvc": 80,
        "hold_s": 2,
        "rounds_per_session": 3,
        "sessions_per_week": 5,
        "programme_weeks": 2,
        "scoring_weights": "{}",
        "bfr_safe_low_pct_aop": 45,
        "bfr_safe_high_pct_aop": 55,
        "game_score_max": "",
        "channel_map": '{"CH1": "left quadriceps", "CH2": "right quadriceps"}',
    }
    data.update(extra)
    return data


@pytest.mark.django_db
def test_saving_clinic_settings_adds_the_next_version_by_its_author(client, manager, north):
    ClinicSettings.objects.create(clinic=north, version=1, target_pct_mvc=70)
    client.force_login(manager)
    add = reverse("admin:clinic_clinicsettings_add")
    # The form starts from the newest version.
    assert 'value="70.0"' in client.get(add).content.decode()
    response = client.post(add, settings_form(north))
    assert response.status_code == 302
    newest = ClinicSettings.objects.current_for(north)
    assert newest.version == 2
    assert newest.target_pct_mvc == 80
    assert newest.created_by == manager
    assert ClinicSettings.objects.get(clinic=north, version=1).target_pct_mvc == 70


@pytest.mark.django_db
def test_the_settings_page_and_the_admin_number_versions_in_one_sequence(
    client, manager, north, south
):
    clinic_settings_create(clinic=north, values={"target_pct_mvc": 70.0}, user=manager)  # page
    client.force_login(manager)
    response = client.post(reverse("admin:clinic_clinicsettings_add"), settings_form(north))
    assert response.status_code == 302
    clinic_settings_create(clinic=north, values={"target_pct_mvc": 60.0}, user=manager)
    versions = ClinicSettings.objects.filter(clinic=north).order_by("version")
    assert list(versions.values_list("version", "target_pct_mvc", "created_by")) == [
        (1, 70.0, manager.pk),
        (2, 80.0, manager.pk),
        (3, 60.0, manager.pk),
    ]
    # Each clinic counts its own versions.
    assert clinic_settings_add(row=ClinicSettings(clinic=south), user=None).version == 1


@pytest.mark.django_db
def test_only_managers_of_the_clinic_add_settings_versions(carol, alice, south, north):
    with pytest.raises(PermissionDenied):
        clinic_settings_add(row=ClinicSettings(clinic=south), user=carol)  # another clinic
    with pytest.raises(PermissionDenied):
        clinic_settings_add(row=ClinicSettings(clinic=north), user=alice)  # no permission
    assert not ClinicSettings.objects.exists()


@pytest.mark.django_db
def test_a_manager_cannot_write_another_clinics_settings(client, manager, south):
    client.force_login(manager)
    response = client.post(reverse("admin:clinic_clinicsettings_add"), settings_form(south))
    assert response.status_code == 200
    assert not ClinicSettings.objects.filter(clinic=south).exists()


@pytest.mark.django_db
def test_a_reversed_bfr_band_is_a_form_error_not_a_crash(client, manager, north):
    client.force_login(manager)
    response = client.post(
        reverse("admin:clinic_clinicsettings_add"),
        settings_form(north, bfr_safe_low_pct_aop=60, bfr_safe_high_pct_aop=40),
    )
    assert response.status_code == 200
    assert not ClinicSettings.objects.exists()


@pytest.mark.django_db
def test_a_manager_does_not_get_another_clinics_values_through_the_query(
    client, manager, south, north
):
    ClinicSettings.objects.create(clinic=south, version=1, target_pct_mvc=33.3)
    client.force_login(manager)
    page = client.get(reverse("admin:clinic_clinicsettings_add"), {"clinic": south.pk})
    assert "33.3" not in page.content.decode()


@pytest.mark.django_db
def test_an_entered_calibration_records_its_author(client, manager, alices_patient):
    client.force_login(manager)
    response = client.post(
        reverse("admin:patients_mvccalibration_add"),
        {"patient": alices_patient.pk, "side": "left", "muscle": "quadriceps", "value_uv": 500},
    )
    assert response.status_code == 302
    calibration = MvcCalibration.objects.get()
    assert calibration.value_v == pytest.approx(0.0005)  # entered in µV, stored in volts
    assert calibration.source == MvcCalibration.Source.ENTERED
    assert calibration.created_by == manager


@pytest.mark.django_db
def test_calibrations_are_only_for_patients_in_scope(client, manager, daves_patient):
    client.force_login(manager)
    response = client.post(
        reverse("admin:patients_mvccalibration_add"),
        {"patient": daves_patient.pk, "side": "left", "muscle": "quadriceps", "value_uv": 500},
    )
    assert response.status_code == 200
    assert not MvcCalibration.objects.exists()


@pytest.mark.django_db
def test_a_protocol_change_records_who_made_it(client, manager, alices_patient):
    protocol = PatientProtocol.objects.create(patient=alices_patient)
    client.force_login(manager)
    response = client.post(
        reverse("admin:patients_patientprotocol_change", args=[protocol.pk]),
        {"target_pct_mvc": 70, "hold_s": 3, "scoring_weights": "null"},
    )
    assert response.status_code == 302
    protocol.refresh_from_db()
    assert protocol.target_pct_mvc == 70
    assert protocol.updated_by == manager
    assert protocol.patient == alices_patient
