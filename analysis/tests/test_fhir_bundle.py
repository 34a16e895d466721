"""A patient's FHIR R4 Bundle: valid by the fhir.resources models, coded (LOINC / UCUM / our
local CodeSystem), complete, in scope and pseudonymised for researchers."""

import json

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from analysis import fhir
from analysis.tests.support import analysed, make_recording
from conftest import PATIENT_KEYS, PATIENTS_SEEN_BY, names_in

# Required bindings of R4 that the models do not check (a code is any token to them).
R4_GENDER = {"male", "female", "other", "unknown"}
R4_ENCOUNTER_STATUS = {
    "planned", "arrived", "triaged", "in-progress", "onleave", "finished", "cancelled",
    "entered-in-error", "unknown",
}  # fmt: skip
R4_OBSERVATION_STATUS = {
    "registered", "preliminary", "final", "amended", "corrected", "cancelled",
    "entered-in-error", "unknown",
}  # fmt: skip


def validated(bundle: dict) -> Bundle:
    """The bundle through JSON and the models: the Bundle, and each entry by its own class."""
    data = json.loads(json.dumps(bundle, allow_nan=False))
    model = Bundle.model_validate(data)
    for entry in data["entry"]:
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        assert entry["fullUrl"] == f"urn:uuid:{resource['id']}"
    return model


def of_type(bundle, kind):
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def codes(resource):
    return {(c["system"], c["code"]) for c in resource["code"]["coding"]}


@pytest.fixture
def history(session_of, alices_patient):
    first = session_of(alices_patient, rpe=5, bfr_pressure_pct_aop=50)
    analysed(first, "Agatha_Aldersley_r1.c3d", left_good=7)
    analysed(first, "Agatha_Aldersley_r2.c3d")
    make_recording(first, "Agatha_Aldersley_r3.c3d")  # pending: no observation
    second = session_of(alices_patient)  # no RPE, no recording
    return first, second


def test_the_bundle_is_valid_r4_with_a_patient_and_an_encounter_per_session(alice, history):
    first, second = history
    bundle = fhir.patient_bundle(alice, first.patient_id)
    validated(bundle)
    assert bundle["type"] == "collection"
    (patient,) = of_type(bundle, "Patient")
    assert patient["name"] == [{"use": "official", "family": "Aldersley", "given": ["Agatha"]}]
    assert patient["birthDate"] == "1950-05-17"
    assert patient["gender"] in R4_GENDER
    assert {i["value"] for i in patient["identifier"]} == {"MRN-P001", "P001"}
    encounters = of_type(bundle, "Encounter")
    assert [e["identifier"][0]["value"] for e in encounters] == [str(first.pk), str(second.pk)]
    assert {e["status"] for e in encounters} <= R4_ENCOUNTER_STATUS
    assert {e["subject"]["reference"] for e in encounters} == {f"urn:uuid:{patient['id']}"}
    observations = of_type(bundle, "Observation")
    assert {o["status"] for o in observations} <= R4_OBSERVATION_STATUS
    ids = {e["resource"]["id"] for e in bundle["entry"]}
    assert len(ids) == len(bundle["entry"])  # no two resources share an id
    references = {o["encounter"]["reference"] for o in observations}
    assert references <= {f"urn:uuid:{e['id']}" for e in encounters}


def test_session_observations_carry_the_scores_rpe_with_loinc_and_bfr_in_ucum(alice, history):
    first, second = history
    bundle = fhir.patient_bundle(alice, first.patient_id)
    observations = of_type(bundle, "Observation")
    encounter = f"urn:uuid:{fhir.resource_id('session', first.pk)}"
    mine = [o for o in observations if o["encounter"]["reference"] == encounter]
    by_code = {code: o for o in mine for _, code in codes(o)}
    rpe = by_code["82289-0"]
    assert (fhir.LOINC, "82289-0") in codes(rpe)
    assert rpe["valueInteger"] == 5
    assert by_code["bfr-pressure-aop"]["valueQuantity"] == {
        "value": 50.0,
        "unit": "% AOP",
        "system": "http://unitsofmeasure.org",
        "code": "%",
    }
    compliance = by_code["session-score-compliance"]["valueQuantity"]
    assert compliance["value"] == pytest.approx(80.0)
    assert compliance["code"] == "{score}"
    # No game maximum: the component is absent with a reason, not a made-up zero.
    game = by_code["session-score-game"]
    assert "valueQuantity" not in game
    assert game["dataAbsentReason"]["coding"][0]["code"] == "unknown"
    # The second session has no RPE, no BFR and nothing analysed: only absent scores.
    encounter2 = f"urn:uuid:{fhir.resource_id('session', second.pk)}"
    theirs = [o for o in observations if o["encounter"]["reference"] == encounter2]
    assert len(theirs) == 5
    assert all("dataAbsentReason" in o for o in theirs)


def test_each_muscle_has_its_metrics_in_ucum_and_its_envelope_as_sampled_data(alice, history):
    first, _ = history
    bundle = fhir.patient_bundle(alice, first.patient_id)
    observations = of_type(bundle, "Observation")
    per_muscle = [o for o in observations if "bodySite" in o]
    # Two analysed recordings x two muscles x (12 metrics + envelope).
    assert len(per_muscle) == 2 * 2 * (len(fhir.CHANNEL_METRICS) + 1)
    assert {o["bodySite"]["text"] for o in per_muscle} == {"left quadriceps", "right quadriceps"}
    for o in per_muscle:
        assert {system for system, _ in codes(o)} == {fhir.LOCAL_CODES}
        if "valueQuantity" in o:
            assert o["valueQuantity"]["system"] == "http://unitsofmeasure.org"
    rms = [o for o in per_muscle if ("emg-rms-amplitude" in {c for _, c in codes(o)})]
    assert rms[0]["valueQuantity"]["value"] == 0.0003
    assert rms[0]["valueQuantity"]["code"] == "V"
    good = [o for o in per_muscle if ("emg-contraction-good-count" in {c for _, c in codes(o)})]
    assert sorted(o["valueQuantity"]["value"] for o in good) == [6, 6, 7, 10]
    envelopes = [o for o in per_muscle if "valueSampledData" in o]
    assert len(envelopes) == 4
    sampled = envelopes[0]["valueSampledData"]
    # The stored envelope [0, 0.2 mV, 0.9 mV, 0.1 mV] at 10 Hz, in microvolts every 100 ms.
    assert sampled["data"] == "0.00 200.00 900.00 100.00"
    assert sampled["period"] == 100.0
    assert sampled["origin"]["code"] == "uV"
    # The right channel's slope could not be computed: absent, never NaN.
    slopes = [o for o in per_muscle if "emg-mdf-slope" in {c for _, c in codes(o)}]
    assert sorted("valueQuantity" in o for o in slopes) == [False, False, True, True]


def test_the_ids_are_stable_across_exports(alice, history):
    first, _ = history
    one = fhir.patient_bundle(alice, first.patient_id)
    two = fhir.patient_bundle(alice, first.patient_id)
    assert [e["fullUrl"] for e in one["entry"]] == [e["fullUrl"] for e in two["entry"]]
    assert one["id"] != two["id"]  # each bundle is its own document


def test_a_researcher_gets_a_pseudonymised_bundle(rita, history):
    first, _ = history
    bundle = fhir.patient_bundle(rita, first.patient_id)
    validated(bundle)
    body = json.dumps(bundle)
    assert names_in(body) == set()
    assert "MRN-P001" not in body
    assert "1950-05-17" not in body
    assert ".c3d" not in body
    (patient,) = of_type(bundle, "Patient")
    assert [i["value"] for i in patient["identifier"]] == ["P001"]
    assert "name" not in patient
    assert "birthDate" not in patient


@pytest.mark.parametrize("persona", sorted(PATIENTS_SEEN_BY))
@pytest.mark.parametrize("key", PATIENT_KEYS)
def test_only_patients_in_scope_have_a_bundle(everyone, session_of, persona, key):
    user, patient = everyone[persona], everyone[key]
    analysed(session_of(patient), "round.c3d")
    if key in PATIENTS_SEEN_BY[persona]:
        validated(fhir.patient_bundle(user, patient.pk))
    else:
        with pytest.raises(Http404):
            fhir.patient_bundle(user, patient.pk)


def test_the_bundle_costs_the_same_queries_for_one_or_many_sessions(
    alice, alices_patient, session_of
):
    analysed(session_of(alices_patient, rpe=4), "a.c3d")

    def build():
        with CaptureQueriesContext(connection) as captured:
            fhir.patient_bundle(type(alice).objects.get(pk=alice.pk), alices_patient.pk)
        return len(captured)

    few = build()
    for i in range(4):
        session = session_of(alices_patient, rpe=i)
        analysed(session, f"b{i}.c3d")
    assert build() == few
