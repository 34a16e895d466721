"""Clinic defaults, versioned, with a patient's overrides on top; MVC from the newest rows."""

from clinic.models import ClinicSettings
from patients.models import MvcCalibration, PatientProtocol
from patients.protocol import effective_protocol
from patients.selectors import calibrations_by_muscle, mvc_for


def test_without_clinic_settings_the_ghostly_defaults_apply(alices_patient):
    protocol = effective_protocol(alices_patient)
    assert (protocol.contractions_per_round, protocol.target_pct_mvc, protocol.hold_s) == (
        12,
        75.0,
        2.0,
    )
    assert protocol.channel_map == {"CH1": "left quadriceps", "CH2": "right quadriceps"}
    assert protocol.clinic_settings_version is None


def test_the_newest_clinic_version_applies_and_patient_overrides_win(alices_patient, carol):
    clinic = alices_patient.clinic
    ClinicSettings.objects.create(clinic=clinic, version=1, target_pct_mvc=70.0, created_by=carol)
    ClinicSettings.objects.create(
        clinic=clinic,
        version=2,
        target_pct_mvc=60.0,
        hold_s=3.0,
        scoring_weights={"compliance": 0.7},
        created_by=carol,
    )
    PatientProtocol.objects.create(
        patient=alices_patient, hold_s=1.5, scoring_weights={"symmetry": 0.0}
    )
    protocol = effective_protocol(alices_patient)
    assert protocol.clinic_settings_version == 2
    assert protocol.target_pct_mvc == 60.0  # clinic v2
    assert protocol.hold_s == 1.5  # the patient's own
    assert protocol.scoring_weights == {"compliance": 0.7, "symmetry": 0.0}
    assert set(protocol.overridden) == {"hold_s", "scoring_weights"}


def test_another_clinics_settings_do_not_apply(alices_patient, south):
    ClinicSettings.objects.create(clinic=south, version=1, target_pct_mvc=10.0)
    assert effective_protocol(alices_patient).target_pct_mvc == 75.0


def test_the_newest_calibration_per_muscle_applies(alices_patient, alice):
    MvcCalibration.objects.create(
        patient=alices_patient, muscle="quadriceps", side="left", value_v=0.001, source="entered"
    )
    newest = MvcCalibration.objects.create(
        patient=alices_patient,
        muscle="quadriceps",
        side="left",
        value_v=0.0012,
        source="calibration",
        created_by=alice,
    )
    MvcCalibration.objects.create(
        patient=alices_patient, muscle="quadriceps", side="right", value_v=0.0009
    )
    assert mvc_for(alices_patient) == {
        "left quadriceps": (0.0012, "calibration"),
        "right quadriceps": (0.0009, "entered"),
    }
    groups = calibrations_by_muscle(alices_patient)
    assert [g["current"] for g in groups if g["muscle_key"] == "left quadriceps"] == [newest]
    assert len(groups) == 2
