"""A patient's export (CSV tables and the JSON document): complete, in scope, pseudonymised for
researchers, in a fixed number of queries, with the documented columns."""

import csv
import io
import json
import re
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from analysis import export_format, exports
from analysis.tests.support import analysed, make_recording
from conftest import PATIENT_KEYS, PATIENTS_SEEN_BY, names_in

DOCS = Path(__file__).resolve().parents[2] / "docs" / "exports.md"


def read_csv(lines) -> list[dict]:
    return list(csv.DictReader(io.StringIO("".join(lines))))


@pytest.fixture
def history(session_of, alices_patient):
    """Two sessions of Alice's patient: two analysed rounds and a pending one, then one round."""
    first = session_of(alices_patient, rpe=5, notes="Knee felt fine")
    analysed(first, "Agatha_Aldersley_r1.c3d", left_good=7)
    analysed(first, "Agatha_Aldersley_r2.c3d", left_good=9)
    make_recording(first, "Agatha_Aldersley_r3.c3d")
    second = session_of(alices_patient, rpe=3)
    analysed(second, "Agatha_Aldersley_r4.c3d")
    return first, second


def test_the_session_table_has_one_row_per_session_with_its_score(alice, history):
    first, second = history
    rows = read_csv(exports.patient_export_csv(alice, first.patient_id, "sessions"))
    assert [int(r["session_id"]) for r in rows] == sorted([first.pk, second.pk])
    by_id = {int(r["session_id"]): r for r in rows}
    assert by_id[first.pk]["recordings"] == "3"
    assert by_id[first.pk]["recordings_analysed"] == "2"
    assert float(by_id[first.pk]["score_compliance"]) == pytest.approx(80.0)
    assert float(by_id[first.pk]["score_effort"]) == 100.0  # RPE 5 is the target effort
    assert by_id[first.pk]["score_missing"] == "game"
    assert by_id[first.pk]["notes"] == "Knee felt fine"
    assert by_id[first.pk]["patient_code"] == "P001"


def test_the_channel_and_contraction_tables_hold_every_stored_number(alice, history):
    first, _ = history
    channels = read_csv(exports.patient_export_csv(alice, first.patient_id, "channels"))
    assert len(channels) == 6  # three analysed rounds, two muscles each
    left = [c for c in channels if c["side"] == "left"]
    assert sorted(int(c["good"]) for c in left) == [7, 9, 10]
    assert {c["mvc_source"] for c in left} == {"calibration"}
    assert float(left[0]["mvc_v"]) == 0.001
    # The stored NaN slope of the right channel is an empty cell, never "nan".
    right = [c for c in channels if c["side"] == "right"]
    assert {c["mdf_slope_pct_per_min"] for c in right} == {""}

    contractions = read_csv(exports.patient_export_csv(alice, first.patient_id, "contractions"))
    # Per round: 12 detected + 11 game (left), 12 detected + 12 game (right).
    assert len(contractions) == 3 * (12 + 11 + 12 + 12)
    detected = [c for c in contractions if c["source"] == "detected"]
    assert {c["meets_duration"] for c in detected} == {"true"}
    assert float(detected[0]["area_v_s"]) == 0.0015
    assert set(contractions[0]) == set(export_format.CONTRACTION_COLUMNS)


def test_the_recording_table_lists_pending_rounds_too(alice, history):
    first, _ = history
    rows = read_csv(exports.patient_export_csv(alice, first.patient_id, "recordings"))
    assert [r["status"] for r in rows] == ["done", "done", "pending", "done"]
    assert rows[0]["recording"] == "Agatha_Aldersley_r1.c3d"  # staff see the file name
    assert rows[2]["analysed_at"] == ""
    assert rows[0]["core_version"] == "test-1"


def test_every_table_starts_with_its_documented_columns(alice, history):
    documented = DOCS.read_text()
    for table, columns in exports.TABLES.items():
        header = next(iter(exports.patient_export_csv(alice, history[0].patient_id, table)))
        assert header.strip().split(",") == list(columns)
        section = documented.split(f"## `{table}`", 1)[1].split("\n## ", 1)[0]
        listed = re.findall(r"^\| `([a-z0-9_]+)` \|", section, flags=re.MULTILINE)
        assert listed == list(columns), f"docs/exports.md, table {table}"


def test_the_json_document_nests_the_same_rows(alice, history):
    first, second = history
    document = json.loads(json.dumps(exports.patient_export_document(alice, first.patient_id)))
    assert document["format"] == "myoclinic.patient-export"
    assert document["patient"]["last_name"] == "Aldersley"
    assert [s["session_id"] for s in document["sessions"]] == [first.pk, second.pk]
    rounds = document["sessions"][0]["recordings"]
    assert [len(r["channels"]) for r in rounds] == [2, 2, 0]
    left = rounds[0]["channels"][0]
    assert left["good"] == 7
    assert len(left["contractions"]) == 12 + 11
    assert left["contractions"][0]["area_v_s"] == 0.0015


@pytest.mark.parametrize("persona", sorted(PATIENTS_SEEN_BY))
@pytest.mark.parametrize("key", PATIENT_KEYS)
def test_a_patient_outside_ones_scope_is_not_found(everyone, session_of, persona, key):
    user, patient = everyone[persona], everyone[key]
    analysed(session_of(patient), "round.c3d")
    if key in PATIENTS_SEEN_BY[persona]:
        assert exports.patient_export_document(user, patient.pk)["patient"]["code"]
        assert len(read_csv(exports.patient_export_csv(user, patient.pk, "channels"))) == 2
    else:
        with pytest.raises(Http404):
            exports.patient_export_document(user, patient.pk)
        with pytest.raises(Http404):
            exports.patient_export_csv(user, patient.pk, "contractions")


def test_a_researcher_gets_no_identity_in_any_table(rita, history):
    first, _ = history
    patient = first.patient
    bodies = [
        "".join(exports.patient_export_csv(rita, patient.pk, table)) for table in exports.TABLES
    ]
    bodies.append(json.dumps(exports.patient_export_document(rita, patient.pk)))
    for body in bodies:
        assert names_in(body) == set()
        assert patient.mrn not in body
        assert "1950-05-17" not in body
        assert ".c3d" not in body
        assert "Knee felt fine" not in body
    assert f"Recording {first.recordings.first().pk}" in bodies[1]


def test_voided_sessions_are_left_out(carol, alice, history):
    first, second = history
    second.void(by=carol, reason="wrong patient")
    rows = read_csv(exports.patient_export_csv(carol, first.patient_id, "contractions"))
    assert {int(r["session_id"]) for r in rows} == {first.pk}
    assert len(exports.patient_export_document(alice, first.patient_id)["sessions"]) == 1


def test_an_unknown_table_is_refused_before_any_lookup(alice, alices_patient):
    with pytest.raises(exports.UnknownTable):
        exports.patient_export_csv(alice, alices_patient.pk, "patients")


def test_without_the_results_permission_the_export_is_forbidden(alice, alices_patient):
    alice.groups.first().permissions.remove(
        *alice.groups.first().permissions.filter(codename="view_recordinganalysis")
    )
    alice = type(alice).objects.get(pk=alice.pk)  # fresh permission cache
    with pytest.raises(PermissionDenied):
        exports.patient_export_document(alice, alices_patient.pk)


def _queries(function) -> int:
    with CaptureQueriesContext(connection) as captured:
        function()
    return len(captured)


def test_the_export_costs_the_same_queries_for_one_or_many_sessions(
    alice, alices_patient, session_of
):
    analysed(session_of(alices_patient, rpe=4), "a.c3d")

    def all_of_it():
        alice_fresh = type(alice).objects.get(pk=alice.pk)
        exports.patient_export_document(alice_fresh, alices_patient.pk)
        for table in exports.TABLES:
            list(exports.patient_export_csv(alice_fresh, alices_patient.pk, table))

    few = _queries(all_of_it)
    for i in range(4):
        session = session_of(alices_patient, rpe=i)
        analysed(session, f"b{i}.c3d")
        analysed(session, f"c{i}.c3d")
    assert _queries(all_of_it) == few
