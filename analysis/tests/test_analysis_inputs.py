"""What the core is given for a recording: the patient's protocol, MVC values, session facts."""

import pytest

from analysis import core
from analysis.core.synth import generate_session
from analysis.pipeline.inputs import analysis_inputs
from analysis.tests.support import make_recording
from clinic.models import ClinicSettings
from patients.models import MvcCalibration, PatientProtocol


@pytest.fixture
def recording(session_of, alices_patient):
    return make_recording(session_of(alices_patient, rpe=5, bfr_pressure_pct_aop=50))


def test_the_protocol_becomes_the_cores_scoring_config(recording, alices_patient, carol):
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
    scoring = analysis_inputs(recording).scoring
    assert (scoring.target_count, scoring.target_pct_mvc, scoring.target_duration_s) == (
        10,
        60.0,
        3.0,
    )
    # The clinic changed one weight; the others keep the core's defaults.
    assert scoring.weights == {"compliance": 0.5, "symmetry": 0.2, "effort": 0.2, "game": 0.0}
    assert scoring.bfr_safe_band_pct_aop == (40.0, 60.0)


def test_the_history_records_what_the_core_was_given(recording, alices_patient, carol):
    ClinicSettings.objects.create(clinic=alices_patient.clinic, version=1, target_pct_mvc=70.0)
    MvcCalibration.objects.create(
        patient=alices_patient, muscle="quadriceps", side="left", value_v=0.0004
    )
    given = analysis_inputs(recording).as_json()
    assert given["scoring"]["target_pct_mvc"] == 70.0
    assert given["mvc"] == {"left quadriceps": [0.0004, "entered"]}
    assert (given["rpe"], given["bfr_pct_aop"]) == (5, 50.0)
    assert given["clinic_settings_version"] == 1
    assert given["channel_map"] == {"CH1": "left quadriceps", "CH2": "right quadriceps"}


def test_mvc_keys_match_what_the_core_understands(recording, alices_patient):

    MvcCalibration.objects.create(
        patient=alices_patient, muscle="quadriceps", side="left", value_v=0.0004
    )
    signal, _ = generate_session(3, duration_s=90, rate_hz=990.0)
    document = core.analyse_recording(signal, **analysis_inputs(recording).core_kwargs())
    by_label = {c["label"]: c for c in document["channels"]}
    assert (by_label["CH1 Raw"]["mvc"], by_label["CH1 Raw"]["mvc_source"]) == (0.0004, "entered")
    assert by_label["CH2 Raw"]["mvc_source"] == "estimated"
