"""The session page's score follows the session's facts at once and explains itself."""

import pytest
from django.urls import reverse

from analysis.pipeline.store import analysis_save
from analysis.tests.support import (
    AUDIT_ENTRY,
    AUDIT_LOOKUP,
    analysed,
    contract_document,
    make_recording,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def session(alices_patient, session_of):
    return session_of(alices_patient, rpe=6, bfr_pressure_pct_aop=50)


def page(client, user, session):
    client.force_login(user)
    response = client.get(reverse("sessions:detail", args=[session.pk]))
    assert response.status_code == 200
    return response.content.decode()


def edit(client, user, session, **changes):
    client.force_login(user)
    values = {
        "started_at": "2024-06-03T09:30",
        "therapist": session.therapist_id,
        "rpe": "" if session.rpe is None else str(session.rpe),
        "bfr_pressure_pct_aop": ""
        if session.bfr_pressure_pct_aop is None
        else str(session.bfr_pressure_pct_aop),
        "notes": session.notes,
    } | changes
    response = client.post(reverse("sessions:edit", args=[session.pk]), values)
    assert response.status_code == 302, response.content.decode()[:2000]


def overall_card(html):
    start = html.index('data-score="overall"')
    return html[start : html.index("</div>", start)]


def test_editing_the_bfr_pressure_out_of_the_safe_band_withholds_the_score_at_once(
    client, alice, session
):
    analysed(session, "a.c3d")
    before = page(client, alice, session)
    assert ">86<" in overall_card(before)  # 0.5x80 + 0.2x87.5 + 0.2x100 (RPE 6), over 0.9
    assert "BFR cuff pressure 50 % AOP, within the safe band (45-55 % AOP)." in before
    edit(client, alice, session, bfr_pressure_pct_aop="70")
    after = page(client, alice, session)  # no re-analysis in between
    assert '<span class="metric-value">–</span>' in overall_card(after)  # withheld, not 0
    assert "data-bfr-gated" in after
    assert "Score – (withheld: BFR cuff pressure outside the safe band)" in after  # the row too
    assert (
        "BFR cuff pressure 70 % AOP is outside the safe band (45-55 % AOP): "
        "the score is withheld." in after
    )
    assert f'<a href="{reverse("sessions:edit", args=[session.pk])}">Edit the session</a>' in after


def test_editing_the_rpe_changes_effort_and_the_score_at_once(client, alice, session):
    analysed(session, "a.c3d")
    edit(client, alice, session, rpe="2")
    html = page(client, alice, session)
    effort = html[html.index('data-score="effort"') :]
    assert effort.index(">25<") < effort.index("</div>")  # RPE 2 by the clinic's table
    assert "RPE 2 gives 25." in html
    assert ">69<" in overall_card(html)  # (40 + 17.5 + 0.2 x 25) / 0.9 = 69.4
    edit(client, alice, session, rpe="")
    html = page(client, alice, session)
    assert "Not computed: effort, game." in html
    assert "No RPE was entered for this session." in html


def test_each_component_shows_its_weight_and_meaning(client, alice, session):
    analysed(session, "a.c3d")
    html = page(client, alice, session)
    assert "Compliance (weight 50 %)" in html
    assert "Share of the target contractions done at the target intensity and duration." in html
    assert "Symmetry (weight 20 %)" in html
    assert "Balance between the left and right of the same muscle" in html
    assert "From the session&#x27;s RPE (Borg CR-10) by the clinic&#x27;s table." in html
    assert "RPE 6 gives 100." in html
    assert "Game (weight 10 %)" in html


def test_a_missing_game_maximum_points_managers_to_the_settings_and_others_to_them(
    client, alice, carol, session
):
    analysed(session, "a.c3d")
    settings_link = f'<a href="{reverse("clinic:settings")}">Clinic settings</a>'
    html = page(client, alice, session)
    assert 'data-missing="game" data-reason="no_game_score_max"' in html
    assert "The clinic has no maximum game score set. Please ask your clinic manager." in html
    assert settings_link not in html
    html = page(client, carol, session)
    assert "The clinic has no maximum game score set." in html
    assert settings_link in html


def test_a_missing_rpe_links_to_the_session_edit_page_for_who_may_edit(
    client, alice, rita, session_of, alices_patient
):
    session = session_of(alices_patient)
    analysed(session, "a.c3d")
    edit_link = f'<a href="{reverse("sessions:edit", args=[session.pk])}">Edit the session</a>'
    html = page(client, alice, session)
    assert 'data-missing="effort" data-reason="no_rpe"' in html
    assert "No RPE was entered for this session. " + edit_link in html
    html = page(client, rita, session)  # the researcher reads, never edits
    assert "No RPE was entered for this session." in html
    assert edit_link not in html


def test_a_missing_symmetry_says_both_sides_of_a_muscle_must_be_mapped(client, carol, session):
    document = contract_document()
    document["channels"] = document["channels"][:1]  # the left side only
    document["score"] |= {"symmetry": None, "missing": ["symmetry", "effort", "game"]}
    analysis_save(
        recording=make_recording(session, "left-only.c3d"),
        document=document,
        parameters={"scoring": {}},
        trigger="upload",
        timings={},
    )
    html = page(client, carol, session)
    assert 'data-missing="symmetry" data-reason="no_left_right_pair"' in html
    assert "Needs both the left and the right of a muscle mapped" in html


def test_a_session_without_an_analysed_recording_says_so(client, alice, session):
    make_recording(session, "pending.c3d")
    html = page(client, alice, session)
    assert 'data-missing="compliance" data-reason="no_recording_analysed"' in html
    assert "No recording of this session has been analysed yet." in html


def test_the_explained_score_costs_no_query_per_recording(
    client, carol, session, django_assert_max_num_queries
):
    for i in range(6):
        analysed(session, f"r{i}.c3d")
    url = reverse("sessions:detail", args=[session.pk])
    client.force_login(carol)
    client.get(url)  # warm the login's session and permission caches
    with django_assert_max_num_queries(9 + AUDIT_ENTRY + AUDIT_LOOKUP):
        html = client.get(url).content.decode()
    assert html.count("data-missing=") == 1
