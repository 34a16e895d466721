"""Storing a result document: queryable rows, one current analysis, history kept."""

import math

import pytest

from analysis.models import ChannelResult, Contraction, RecordingAnalysis
from analysis.pipeline.store import analysis_save
from analysis.pipeline.worker import recording_claim
from analysis.tests.support import contract_document, make_recording
from sessions.models import Recording


@pytest.fixture
def recording(session_of, alices_patient):
    return make_recording(session_of(alices_patient))


def save(recording, document, trigger="upload", token=None):
    return analysis_save(
        recording=recording,
        document=document,
        parameters={"scoring": {"target_pct_mvc": 75.0}},
        trigger=trigger,
        timings={"read_ms": 12.0, "analyse_ms": 30.0, "total_ms": 50.0},
        token=token,
    )


def test_it_stores_channels_and_contractions_as_rows(recording):
    analysis = save(recording, contract_document())
    recording.refresh_from_db()
    assert recording.status == Recording.Status.DONE
    assert analysis.is_current
    assert analysis.core_version == "test-1"
    assert (analysis.score_overall, analysis.score_compliance, analysis.score_symmetry) == (
        80.0,
        80.0,
        87.5,
    )
    assert analysis.score_effort is None
    assert analysis.score_missing == ["effort", "game"]
    assert analysis.game_score == 24
    assert analysis.game_level == "2"
    assert analysis.started_at.isoformat().startswith("2023-03-21T17:23:00")
    left, right = analysis.channels.order_by("position")
    assert (left.label, left.side, left.muscle, left.mvc_source) == (
        "CH1 Raw",
        "left",
        "quadriceps",
        "calibration",
    )
    assert (left.good, left.game_count, left.compliance) == (10, 11, 90.0)
    # A NaN from the core is stored as "unknown", never as a number.
    assert right.mdf_slope_pct_per_min is None
    assert left.mdf_slope_pct_per_min == -3.0
    assert Contraction.objects.filter(channel=left, source="detected").count() == 12
    assert Contraction.objects.filter(channel=left, source="game").count() == 11
    assert Contraction.objects.filter(channel=left, good=True).count() == 10
    assert left.envelope["values"][2] == 0.0009
    # The stored document leaves envelopes to the channel rows; full_document puts them back.
    assert analysis.document["channels"][0]["envelope"] is None
    assert analysis.full_document()["channels"][0]["envelope"] == left.envelope
    assert not math.isnan(analysis.total_ms)


def test_a_new_analysis_replaces_the_current_one_and_keeps_the_old_as_history(recording):
    first = save(recording, contract_document(overall=60.0))
    second = save(recording, contract_document(overall=75.0, version="test-2"), "reanalysis")
    first.refresh_from_db()
    assert not first.is_current
    assert second.is_current
    assert RecordingAnalysis.objects.filter(recording=recording).count() == 2
    assert RecordingAnalysis.objects.current().get(recording=recording).score_overall == 75.0
    # The old rows stay, attached to the old analysis.
    assert ChannelResult.objects.filter(analysis=first).count() == 2


def test_a_result_from_a_claim_that_was_taken_over_is_discarded(recording):
    old_token = recording_claim(recording_id=recording.pk, task_id="task-a")
    new_token = recording_claim(recording_id=recording.pk, task_id="task-a")  # redelivered
    assert old_token
    assert new_token
    assert old_token != new_token
    assert save(recording, contract_document(), token=old_token) is None
    assert not RecordingAnalysis.objects.exists()
    assert save(recording, contract_document(), token=new_token) is not None
    assert RecordingAnalysis.objects.count() == 1


def test_the_agreement_with_the_games_count_is_stored_per_channel(recording):
    agreement = {"matched": 10, "only_ours": 2, "only_game": 1, "spanning": 1}
    analysis = save(recording, contract_document(agreement=agreement))
    left = analysis.channels.get(position=0)
    assert (left.game_matched, left.game_only_ours, left.game_only_game, left.game_spanning) == (
        10,
        2,
        1,
        1,
    )
    assert left.agreement == agreement


def test_an_older_document_without_agreement_stores_none(recording):
    # Documents of cores before the agreement (and channels without a game) have no counts.
    analysis = save(recording, contract_document())
    left = analysis.channels.get(position=0)
    assert left.game_matched is None
    assert left.agreement is None
