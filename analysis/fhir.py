"""A patient's results as a FHIR R4 (4.0.1) Bundle: plain dicts, ready for ``json.dumps``.

``patient_bundle(user, patient_id)`` gives a ``collection`` Bundle with the Patient, one
Encounter per active session, and Observations: per session its score components, RPE and BFR
pressure; per recording and muscle its summary metrics and its EMG envelope as
``valueSampledData``. Access as every export (``analysis.exports.export_scope``): 404 out of
scope, 403 without the view permissions, pseudonymised for researchers (no name, MRN or birth
date on the Patient; recordings are "Recording N").

Codes, honestly: LOINC has a term for a rating of perceived exertion (82289-0, "Rating of
perceived exertion [Score]", 0-10), used for the RPE beside our own code because LOINC's term is
the generic 0-10 rating, not specifically Borg CR-10. We found no LOINC term for surface-EMG
biofeedback metrics (contraction counts, % MVC compliance, RMS, median-frequency slopes), the
session score or the BFR cuff pressure in % of arterial occlusion pressure: those use the local
CodeSystem ``LOCAL_CODES`` (not registered with HL7; its codes are listed in docs/exports.md).
Units are UCUM. Ids are UUIDs derived from the row ids (uuid5), so a receiver sees the same
resource again on the next export and can update instead of duplicate.

Built without ``fhir.resources`` (no runtime dependency); the tests validate every resource with
its models (``fhir.resources.R4B``: R4B equals R4 for Patient, Encounter, Observation, Bundle).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.utils import timezone

from analysis.export_format import iso
from analysis.exports import PatientScope, export_scope, sessions_with_results
from analysis.selectors import SCORE_FIELDS, session_score
from sessions.selectors import recording_name

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
LOCAL_CODES = "https://myoclinic.org/fhir/CodeSystem/emg-biofeedback"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
ID_NAMESPACE = uuid.UUID("6f1d3c52-6b43-4d0e-9c55-5d1f2b8f7a10")

GENDER = {"F": "female", "M": "male", "X": "other", "U": "unknown"}
RPE_LOINC = ("82289-0", "Rating of perceived exertion [Score]")
SCORE_DISPLAY = {
    "overall": "EMG biofeedback session performance score",
    "compliance": "EMG biofeedback session compliance score",
    "symmetry": "EMG biofeedback session left/right symmetry score",
    "effort": "EMG biofeedback session effort score",
    "game": "EMG biofeedback session game score",
}
# ChannelResult field -> (local code, display, UCUM code, unit shown). Counts are unitless ({#}).
CHANNEL_METRICS = (
    ("count", "emg-contraction-count", "Contractions detected", "{#}", "contractions"),
    ("good", "emg-contraction-good-count", "Contractions meeting targets", "{#}", "contractions"),
    ("compliance", "emg-compliance-score", "Compliance score", "{score}", "score"),
    ("mvc_v", "emg-mvc-amplitude", "MVC amplitude used", "V", "V"),
    ("time_under_tension_s", "emg-time-under-tension", "Time under tension", "s", "s"),
    ("rms_v", "emg-rms-amplitude", "RMS amplitude over contractions", "V", "V"),
    ("mav_v", "emg-mav-amplitude", "Mean absolute value over contractions", "V", "V"),
    (
        "mdf_slope_pct_per_min",
        "emg-mdf-slope",
        "Median frequency slope (fatigue)",
        "%/min",
        "%/min",
    ),
    ("mnf_slope_pct_per_min", "emg-mnf-slope", "Mean frequency slope", "%/min", "%/min"),
    ("fi_nsm5_ratio", "emg-fi-nsm5-ratio", "FInsm5 fatigue index ratio", "1", "ratio"),
    ("snr_db", "emg-snr", "Signal-to-noise ratio", "dB", "dB"),
    ("saturation_pct", "emg-saturation", "Clipped samples", "%", "%"),
)
ENVELOPE_CODE = ("emg-envelope", "EMG RMS envelope")
BFR_CODE = ("bfr-pressure-aop", "Blood-flow-restriction cuff pressure, % of arterial occlusion")
RPE_CODE = ("rpe-borg-cr10", "Rating of perceived exertion, Borg CR-10")


def resource_id(kind: str, pk) -> str:
    """A stable UUID for one of our rows (the same on every export)."""
    return str(uuid.uuid5(ID_NAMESPACE, f"{kind}/{pk}"))


def _ref(resource: dict) -> dict:
    return {"reference": f"urn:uuid:{resource['id']}"}


def _local(code: str, display: str) -> dict:
    return {"system": LOCAL_CODES, "code": code, "display": display}


def _quantity(value, code: str, unit: str) -> dict:
    return {"value": value, "unit": unit, "system": UCUM, "code": code}


def _identifier_system(kind: str, scope: PatientScope) -> str:
    return f"{settings.SITE_URL.rstrip('/')}/fhir/sid/{scope.patient.clinic.code}/{kind}"


# ---------------------------------------------------------------------------------------------
# Resources
# ---------------------------------------------------------------------------------------------


def patient_resource(scope: PatientScope) -> dict:
    patient = scope.patient
    resource = {
        "resourceType": "Patient",
        "id": resource_id("patient", patient.pk),
        "identifier": [
            {
                "use": "secondary",
                "system": _identifier_system("patient-code", scope),
                "value": patient.code,
            }
        ],
        "active": patient.is_active,
        "gender": GENDER.get(patient.sex, "unknown"),
    }
    if scope.identity:
        if patient.mrn:
            resource["identifier"].insert(
                0,
                {
                    "use": "usual",
                    "type": {"coding": [{"system": IDENTIFIER_TYPE, "code": "MR"}]},
                    "system": _identifier_system("mrn", scope),
                    "value": patient.mrn,
                },
            )
        resource["name"] = [
            {"use": "official", "family": patient.last_name, "given": [patient.first_name]}
        ]
        if patient.date_of_birth:
            resource["birthDate"] = patient.date_of_birth.isoformat()
    return resource


def encounter_resource(session, patient: dict, scope: PatientScope) -> dict:
    return {
        "resourceType": "Encounter",
        "id": resource_id("session", session.pk),
        "identifier": [{"system": _identifier_system("session", scope), "value": str(session.pk)}],
        "status": "finished",
        "class": {"system": ACT_CODE, "code": "AMB", "display": "ambulatory"},
        "type": [{"text": "EMG biofeedback therapy session"}],
        "subject": _ref(patient),
        "period": {"start": iso(session.started_at)},
    }


def _observation(kind, pk, *, code: dict, patient, encounter, when, text=None) -> dict:
    return {
        "resourceType": "Observation",
        "id": resource_id(kind, pk),
        "status": "final",
        "category": [
            {"coding": [{"system": OBSERVATION_CATEGORY, "code": "therapy", "display": "Therapy"}]}
        ],
        "code": code if text is None else {**code, "text": text},
        "subject": _ref(patient),
        "encounter": _ref(encounter),
        "effectiveDateTime": when,
    }


def _value_or_absent(observation: dict, quantity: dict, *, absent: str = "unknown") -> dict:
    if quantity["value"] is None:
        observation["dataAbsentReason"] = {"coding": [{"system": DATA_ABSENT, "code": absent}]}
    else:
        observation["valueQuantity"] = quantity
    return observation


def session_observations(session, score: dict, patient, encounter) -> list[dict]:
    """Score components (0-100, absent with a reason when not computable), RPE, BFR pressure."""
    when = iso(session.started_at)
    found = []
    for name in SCORE_FIELDS:
        value = score.get(name)
        if isinstance(value, dict):
            value = value.get("mean")
        observation = _observation(
            f"session/{session.pk}/score",
            name,
            code={"coding": [_local(f"session-score-{name}", SCORE_DISPLAY[name])]},
            patient=patient,
            encounter=encounter,
            when=when,
        )
        gated = name == "overall" and score.get("bfr_gated")
        found.append(
            _value_or_absent(
                observation,
                _quantity(value, "{score}", "score"),
                absent="not-permitted" if gated else "unknown",
            )
        )
    if session.rpe is not None:
        observation = _observation(
            "session/rpe",
            session.pk,
            code={
                "coding": [
                    {"system": LOINC, "code": RPE_LOINC[0], "display": RPE_LOINC[1]},
                    _local(*RPE_CODE),
                ]
            },
            patient=patient,
            encounter=encounter,
            when=when,
            text="RPE (Borg CR-10)",
        )
        observation["valueInteger"] = session.rpe
        found.append(observation)
    if session.bfr_pressure_pct_aop is not None:
        observation = _observation(
            "session/bfr",
            session.pk,
            code={"coding": [_local(*BFR_CODE)]},
            patient=patient,
            encounter=encounter,
            when=when,
        )
        observation["valueQuantity"] = _quantity(float(session.bfr_pressure_pct_aop), "%", "% AOP")
        found.append(observation)
    return found


def _muscle(channel) -> str:
    return f"{channel.side} {channel.muscle}".strip() or channel.label


def _envelope_data(values) -> str:
    """SampledData.data: the envelope in microvolts, fixed-point, 'E' for a missing sample."""
    return " ".join("E" if v is None else f"{v * 1e6:.2f}" for v in values)


def channel_observations(channel, recording, analysis, patient, encounter, scope) -> list[dict]:
    """One Observation per metric of one muscle in one recording, and its envelope."""
    when = iso(analysis.started_at or recording.session.started_at)
    label = recording_name(recording, identity=scope.identity)
    muscle = _muscle(channel)
    base = f"channel/{channel.pk}"
    found = []
    for field, code, display, unit_code, unit in CHANNEL_METRICS:
        value = getattr(channel, field)
        observation = _observation(
            base,
            code,
            code={"coding": [_local(code, display)]},
            patient=patient,
            encounter=encounter,
            when=when,
            text=f"{display}, {muscle}",
        )
        observation["bodySite"] = {"text": muscle}
        observation["note"] = [{"text": f"From {label}, channel {channel.label}"}]
        found.append(_value_or_absent(observation, _quantity(value, unit_code, unit)))
    envelope = channel.envelope or {}
    rate_hz, values = envelope.get("rate_hz"), envelope.get("values")
    if rate_hz and values:
        observation = _observation(
            base,
            ENVELOPE_CODE[0],
            code={"coding": [_local(*ENVELOPE_CODE)]},
            patient=patient,
            encounter=encounter,
            when=when,
            text=f"{ENVELOPE_CODE[1]}, {muscle}",
        )
        observation["bodySite"] = {"text": muscle}
        observation["note"] = [{"text": f"From {label}, channel {channel.label}"}]
        observation["valueSampledData"] = {
            "origin": _quantity(0, "uV", "µV"),
            "period": 1000.0 / float(rate_hz),  # milliseconds between samples
            "dimensions": 1,
            "data": _envelope_data(values),
        }
        found.append(observation)
    return found


# ---------------------------------------------------------------------------------------------
# The bundle
# ---------------------------------------------------------------------------------------------


def patient_bundle(user, patient_id) -> dict:
    """The patient's FHIR R4 ``collection`` Bundle as a dict (5 queries after the lookup)."""
    scope = export_scope(user, patient_id)
    patient = patient_resource(scope)
    resources = [patient]
    for session in sessions_with_results(user, scope.patient, envelopes=True):
        encounter = encounter_resource(session, patient, scope)
        resources.append(encounter)
        analyses = [r.current_analyses[0] for r in session.export_recordings if r.current_analyses]
        channels = [c for a in analyses for c in a.channels.all()]
        score = session_score(
            analyses,
            rpe=session.rpe,
            bfr_pct_aop=session.bfr_pressure_pct_aop,
            channels=channels,
        )
        resources.extend(session_observations(session, score, patient, encounter))
        for recording in session.export_recordings:
            recording.session = session  # already loaded: no query for the effective time
            for analysis in recording.current_analyses:
                for channel in analysis.channels.all():
                    resources.extend(
                        channel_observations(
                            channel, recording, analysis, patient, encounter, scope
                        )
                    )
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": iso(timezone.now())},
        "type": "collection",
        "timestamp": iso(timezone.now()),
        "entry": [
            {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}
            for resource in resources
        ],
    }
