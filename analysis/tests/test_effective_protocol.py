"""Clinic defaults, versioned, with a patient's overrides on top; MVC from the newest rows."""

import datetime as dt

from analysis.selectors import current_calibrations, patient_adherence
from analysis.services import effective_protocol, mvc_for
from clinic.models import ClinicSettings
from patients.models import MvcCalibration, PatientProtocol


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
    assert newest in current_calibrations(alices_patient)
    assert len(current_calibrations(alices_patient)) == 2


def test_adherence_counts_this_patients_sessions_against_the_plan(
    alices_patient, bobs_patient, session_of
):
    alices_patient.treatment_start = dt.date(2026, 3, 2)  # a Monday
    alices_patient.save()
    for day in (2, 3, 4):
        session_of(alices_patient, started_at=dt.datetime(2026, 3, day, 10, tzinfo=dt.UTC))
    # Bob's patient's sessions never count for Alice's patient.
    for day in (2, 3, 4, 5):
        session_of(bobs_patient, started_at=dt.datetime(2026, 3, day, 10, tzinfo=dt.UTC))
    adherence = patient_adherence(alices_patient, today=dt.date(2026, 3, 8))
    assert adherence["done"] == 3
    assert adherence["expected"] == 5  # one full week at 5 sessions a week
    assert adherence["planned_total"] == 10
    assert adherence["ratio"] == 0.6
    late = patient_adherence(alices_patient, today=dt.date(2026, 6, 1))
    assert late["expected"] == 10  # capped at the programme's length


def test_the_protocol_becomes_the_cores_scoring_config(alices_patient, carol):
    ClinicSettings.objects.create(
        clinic=alices_patient.clinic,
        version=1,
        contractions_per_round=10,
        scoring_weights={"game": 0.0},
        bfr_safe_low_pct_aop=40.0,
        bfr_safe_high_pct_aop=60.0,
        created_by=carol,
    )
    PatientProtocol.objects.create(patient=alices_patient, target_pct_mvc=60.0, hold_s=3.0)
    scoring = effective_protocol(alices_patient).scoring_config()
    assert (scoring.target_count, scoring.target_pct_mvc, scoring.target_duration_s) == (
        10,
        60.0,
        3.0,
    )
    # The clinic changed one weight; the others keep the core's defaults.
    assert scoring.weights == {"compliance": 0.5, "symmetry": 0.2, "effort": 0.2, "game": 0.0}
    assert scoring.bfr_safe_band_pct_aop == (40.0, 60.0)


def test_mvc_keys_match_what_the_core_understands(alices_patient):
    from analysis import core
    from analysis.core.synth import generate_session

    MvcCalibration.objects.create(
        patient=alices_patient, muscle="quadriceps", side="left", value_v=0.0004
    )
    recording, _ = generate_session(3, duration_s=90, rate_hz=990.0)
    document = core.analyse_recording(recording, mvc=mvc_for(alices_patient))
    by_label = {c["label"]: c for c in document["channels"]}
    assert (by_label["CH1 Raw"]["mvc"], by_label["CH1 Raw"]["mvc_source"]) == (0.0004, "entered")
    assert by_label["CH2 Raw"]["mvc_source"] == "estimated"
