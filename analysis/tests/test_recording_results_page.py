"""The recording result: per muscle the chart, metric cards, contractions, MVC source, history."""

import re

import pytest
from django.template import Context, Template
from django.template.loader import render_to_string
from django.urls import reverse

from analysis.pipeline.store import analysis_save
from analysis.presentation import results_from_document
from analysis.tests.support import (
    AUDIT_ENTRY,
    AUDIT_LOOKUP,
    AUDIT_PURPOSE,
    analysed,
    contract_document,
    make_recording,
)


@pytest.fixture
def recording(session_of, alices_patient):
    return analysed(session_of(alices_patient), left_good=7)


def results_html(client, user, recording):
    client.force_login(user)
    url = reverse("analysis:recording_results", args=[recording.pk]) + "?fragment=1"
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_each_muscle_has_an_envelope_chart_with_graded_contractions(client, alice, recording):
    html = results_html(client, alice, recording)
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') == 2
    # 7 good and 5 long-enough-but-weak contractions on the left, 6 + 6 on the right.
    assert html.count('class="band band-good"') == 7 + 6
    assert html.count('class="band band-duration"') == 5 + 6
    assert html.count('class="hline hline-threshold"') == 2
    assert html.count('class="hline hline-target"') == 2
    # the target line is 75 % of a 1 mV MVC
    assert "MVC target 750 µV" in html


def test_the_metric_cards_put_the_games_count_beside_ours(client, alice, recording):
    html = results_html(client, alice, recording)
    ours = re.findall(r'data-metric="count">(\d+)<', html)
    game = re.findall(r'data-metric="game_count">(\d+)<', html)
    assert ours == ["12", "12"]
    assert game == ["11", "12"]
    for label in ("Time under tension", "RMS", "MNF slope", "MDF slope", "FInsm5", "Saturation"):
        assert label in html


def test_an_estimated_mvc_is_visibly_flagged(client, alice, recording):
    html = results_html(client, alice, recording)
    assert "MVC calibrated" in html  # CH1 has a calibration
    assert "MVC estimated" in html  # CH2 has none
    assert "MVC estimated from this recording" in html


def test_values_the_core_could_not_compute_show_a_dash_not_nan(client, alice, recording):
    html = results_html(client, alice, recording)
    assert "nan" not in html.lower().replace("nanoseconds", "")
    assert "Not computed: effort, game" in html


def test_the_contraction_table_lists_every_detected_contraction(client, alice, recording):
    html = results_html(client, alice, recording)
    assert html.count('<tr class="grade-good">') == 13
    assert html.count('<tr class="grade-duration">') == 11
    assert "CH2 Raw: clipped runs at -5.5 mV" in html  # the core's warning


def test_the_history_says_which_version_produced_what_and_marks_the_current(
    client, alice, recording
):
    analysis_save(
        recording=recording,
        document=contract_document(overall=55.0, version="core-2"),
        parameters={"scoring": {"target_pct_mvc": 80.0}, "clinic_settings_version": 3},
        trigger="reanalysis",
        timings={},
    )
    html = results_html(client, alice, recording)
    history = html.split("Analysis history", 1)[1]
    assert history.index("core-2") < history.index("test-1")
    assert history.count("<strong>current</strong>") == 1
    assert "superseded" in history
    assert "v3" in history


def test_a_recording_still_processing_says_so(client, alice, session_of, alices_patient):
    recording = make_recording(session_of(alices_patient), "wait.c3d", status="processing")
    html = results_html(client, alice, recording)
    assert "No results yet: the recording is processing" in html


def test_the_results_page_renders_the_same_fragment(client, alice, recording):
    client.force_login(alice)
    html = client.get(reverse("analysis:recording_results", args=[recording.pk])).content.decode()
    assert 'class="chart"' in html
    assert recording.original_name in html


def test_the_recording_results_tag_renders_for_the_recording_page(rf, alice, recording):

    request = rf.get("/")
    request.user = alice
    html = Template("{% load analysis_ui %}{% recording_results recording %}").render(
        Context({"request": request, "recording": recording})
    )
    assert html.count('class="chart"') == 2


AGREEMENT = {"matched": 10, "only_ours": 2, "only_game": 1, "spanning": 0}


def test_each_muscle_says_how_the_games_count_agrees_with_ours(
    client, alice, session_of, alices_patient
):
    recording = analysed(session_of(alices_patient), "agree.c3d", agreement=AGREEMENT)
    html = results_html(client, alice, recording)
    assert "Game registered 11; matched 10; only ours 2; only the game 1." in html
    assert "Game registered 12; matched 10; only ours 2; only the game 1." in html
    assert html.count("pauses shorter than 250 ms merged, runs shorter than 100 ms dropped") == 2


def test_an_older_analysis_says_it_did_not_compare_with_the_game(client, alice, recording):
    html = results_html(client, alice, recording)
    assert "Game registered 11 (this analysis did not compare it with ours" in html


def test_the_results_page_pins_its_queries_with_the_agreement(
    client, alice, session_of, alices_patient, django_assert_max_num_queries
):
    recording = analysed(session_of(alices_patient), "agree.c3d", agreement=AGREEMENT)
    url = reverse("analysis:recording_results", args=[recording.pk]) + "?fragment=1"
    client.force_login(alice)
    client.get(url)  # warm the login's caches
    with django_assert_max_num_queries(10 + AUDIT_ENTRY + AUDIT_LOOKUP + AUDIT_PURPOSE):
        html = client.get(url).content.decode()
    assert "matched 10" in html


def test_the_stateless_results_show_the_agreement_from_the_document():
    display = results_from_document(contract_document(agreement=AGREEMENT))
    html = render_to_string("analysis/_recording_results.html", {"results": display})
    assert "Game registered 11; matched 10; only ours 2; only the game 1." in html
    assert "runs of its own activation signal above zero" in html
    # The score block of the document explains itself too: no session, so no edit link.
    assert 'data-missing="effort" data-reason="not_computed"' in html
    assert "/edit/" not in html
