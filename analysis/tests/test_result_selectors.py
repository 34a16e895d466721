"""What the result and session pages read, in a fixed number of queries."""

import pytest

from analysis.selectors import recording_result, session_summary
from analysis.tests.support import analysed, make_recording


@pytest.fixture
def session(session_of, alices_patient):
    return session_of(alices_patient, rpe=5)


def test_the_result_grades_contractions_and_draws_the_target_line(session):
    recording = analysed(session, "r1.c3d", left_good=7)
    result = recording_result(recording)
    left = result["channels"][0]
    grades = [c.grade for c in left["contractions"]]
    assert grades.count("good") == 7
    assert grades.count("duration") == 5  # long enough, too weak
    assert len(left["game_contractions"]) == 11
    assert left["target_v"] == pytest.approx(0.00075)  # 75 % of a 1 mV MVC
    assert left["mvc_source"] == "calibration"
    assert result["score"]["missing"] == ["effort", "game"]


def test_the_result_reads_in_three_queries_however_many_contractions(
    session, django_assert_num_queries
):
    recording = analysed(session, "r1.c3d")
    with django_assert_num_queries(3):  # analysis, channels, contractions
        result = recording_result(recording)
        assert sum(len(c["contractions"]) for c in result["channels"]) == 24


def test_a_recording_without_results_has_an_empty_result(session):
    result = recording_result(make_recording(session, "pending.c3d"))
    assert result["analysis"] is None
    assert result["channels"] == []


def test_the_session_score_is_the_mean_of_its_recordings(session, django_assert_num_queries):
    for i, overall in enumerate((60.0, 80.0, 100.0)):
        analysed(session, f"r{i}.c3d", overall=overall)
    make_recording(session, "still-pending.c3d")
    with django_assert_num_queries(3):
        summary = session_summary(session)
    assert summary["score"]["overall"] == 80.0
    assert summary["score"]["recordings"] == 3
    assert summary["score"]["missing"] == ["effort", "game"]
    assert [row["status"]["status"] for row in summary["recordings"]] == [
        "done",
        "done",
        "done",
        "pending",
    ]
    assert summary["rpe"] == 5
