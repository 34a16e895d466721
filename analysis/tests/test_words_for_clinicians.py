"""Words for clinicians (issue 16): every figure has a one-line plain meaning beside it, the
muscle and side head each channel (its label secondary), and a failed recording says what the
person can do, with the technical detail behind a <details>."""

import pytest
from django.urls import reverse
from django.utils.html import escape

from analysis.grading import (
    FAILURE_ADVICE,
    FAILURE_ADVICE_DEFAULT,
    METRIC_MEANINGS,
    SCORE_MEANINGS,
    failure_advice,
)
from analysis.tests.support import analysed, make_recording


def results_html(client, user, recording):
    client.force_login(user)
    url = reverse("analysis:recording_results", args=[recording.pk]) + "?fragment=1"
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_every_figure_on_a_result_has_its_plain_meaning(client, alice, alices_patient, session_of):
    html = results_html(client, alice, analysed(session_of(alices_patient), left_good=7))
    for name, meaning in METRIC_MEANINGS.items():
        assert html.count(f'<span class="metric-help">{escape(meaning)}</span>') == 2, name
    assert "Fatigue index trend" in html  # not only "FInsm5"


def test_the_meanings_are_one_plain_line_each():
    for meaning in (*METRIC_MEANINGS.values(), *SCORE_MEANINGS.values()):
        assert "\n" not in meaning
        assert len(meaning) <= 100, meaning
        assert meaning.endswith(".")


@pytest.mark.django_db
def test_muscle_and_side_head_each_channel_with_the_label_secondary(
    client, alice, alices_patient, session_of
):
    html = results_html(client, alice, analysed(session_of(alices_patient)))
    assert '<h3>Left quadriceps <small class="channel-label">channel ' in html
    assert '<h3>Right quadriceps <small class="channel-label">channel ' in html
    assert "Left quadriceps · channel" in html  # the chart's title too


@pytest.mark.django_db
def test_a_failed_recording_says_what_to_do_with_the_detail_behind_it(
    client, alice, alices_patient, session_of
):
    reason = "ANALOG:RATE says 600 Hz but the frames say 1000 Hz"
    recording = make_recording(
        session_of(alices_patient), name="bad.c3d", status="failed", failure_reason=reason
    )
    html = results_html(client, alice, recording)
    advice = html.index(escape(FAILURE_ADVICE_DEFAULT))
    detail = html.index("<summary>Technical detail</summary>")
    assert advice < detail
    assert html.index(reason) > detail  # the technical reason only behind the <details>


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("gave up after 3 attempts (the file repeatedly crashed or timed out the worker)", 0),
        ("the analysis settings do not fit this recording: no channel CH9", 1),
        ("the stored file is missing from storage", 2),
    ],
)
def test_each_kind_of_failure_has_its_advice(reason, expected):
    assert failure_advice(reason) == FAILURE_ADVICE[expected][1]


def test_an_unknown_failure_gets_the_general_advice():
    assert failure_advice("not a C3D file") == FAILURE_ADVICE_DEFAULT
    assert failure_advice("") == FAILURE_ADVICE_DEFAULT
