"""Every pipeline page against every persona: out of scope 404, missing permission 403.

Pages about Alice's patient: Alice and Carol (clinic manager) and Zoe (superuser) read them,
Rita (researcher) reads them without names, Bob (another therapist) and Dave (another clinic)
get 404 as if the patient did not exist.
"""

import pytest
from django.urls import reverse

from analysis.tests.ui_support import PERSONAS, analysed, foreign_names_in

# persona -> expected status on a page about Alice's patient
READ = {"alice": 200, "bob": 404, "carol": 200, "rita": 200, "dave": 404, "zoe": 200}


@pytest.fixture
def world(everyone, session_of):
    session = session_of(everyone["alices_patient"], rpe=4)
    recording = analysed(session)
    return {**everyone, "session": session, "recording": recording}


def patient_pages(world):
    pk = world["alices_patient"].pk
    return [
        reverse("analysis:patient_calibrations", args=[pk]),
        reverse("analysis:patient_protocol", args=[pk]),
        reverse("analysis:patient_progress", args=[pk]),
    ]


def session_pages(world):
    return [
        reverse("analysis:session_upload", args=[world["session"].pk]),
        reverse("analysis:session_score", args=[world["session"].pk]),
        reverse("analysis:recording_results", args=[world["recording"].pk]),
        reverse("analysis:recording_results", args=[world["recording"].pk]) + "?fragment=1",
        reverse("analysis:recording_row", args=[world["recording"].pk]) + "?results=1",
    ]


@pytest.mark.parametrize("persona", PERSONAS)
def test_pages_about_a_patient_follow_the_access_policy(client, world, persona):
    client.force_login(world[persona])
    for url in patient_pages(world) + session_pages(world):
        response = client.get(url)
        assert response.status_code == READ[persona], (persona, url)


@pytest.mark.parametrize("persona", PERSONAS)
def test_no_page_shows_names_outside_the_viewers_scope(client, world, persona):
    # Rita sees Alice's patient pseudonymised: no name at all, only the code.
    allowed = {"alices_patient"} if persona in {"alice", "carol", "zoe"} else set()
    client.force_login(world[persona])
    for url in patient_pages(world) + session_pages(world):
        html = client.get(url).content.decode()
        assert foreign_names_in(html, allowed=allowed) == [], (persona, url)
    if persona == "rita":
        html = client.get(patient_pages(world)[-1]).content.decode()
        assert "P001" in html  # the pseudonymous code is what researchers work with


def test_anonymous_visitors_are_sent_to_the_login_page(client, world):
    urls = [
        *patient_pages(world),
        *session_pages(world),
        reverse("analysis:clinic_settings"),
        reverse("analysis:stateless"),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert reverse("account_login") in response["Location"]


@pytest.mark.parametrize(
    ("persona", "status"),
    [("alice", 403), ("bob", 403), ("carol", 200), ("rita", 403), ("dave", 403), ("zoe", 200)],
)
def test_only_managers_open_the_clinic_settings(client, world, persona, status):
    client.force_login(world[persona])
    assert client.get(reverse("analysis:clinic_settings")).status_code == status


@pytest.mark.parametrize(
    ("persona", "status"),
    [("alice", 200), ("carol", 200), ("rita", 200), ("dave", 200), ("zoe", 200)],
)
def test_staff_who_read_results_may_try_the_stateless_analysis(client, world, persona, status):
    client.force_login(world[persona])
    assert client.get(reverse("analysis:stateless")).status_code == status


@pytest.mark.parametrize(
    ("persona", "status"),
    [("alice", 302), ("bob", 404), ("carol", 302), ("rita", 403), ("dave", 404)],
)
def test_changes_need_scope_then_permission(client, world, persona, status):
    client.force_login(world[persona])
    pk = world["alices_patient"].pk
    posts = [
        (reverse("analysis:session_reanalyse", args=[world["session"].pk]), {}),
        (
            reverse("analysis:patient_calibrations", args=[pk]),
            {
                "action": "enter",
                "enter-side": "left",
                "enter-muscle": "quadriceps",
                "enter-value_uv": "850",
            },
        ),
        (reverse("analysis:patient_protocol", args=[pk]), {"target_pct_mvc": "70"}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == status, (persona, url)


def test_a_voided_patient_is_hidden_except_from_those_who_may_void(client, world):
    # As on the staff pages: voided records stay readable to managers, who review the trail.
    world["alices_patient"].void(by=world["carol"], reason="duplicate record")
    urls = patient_pages(world) + session_pages(world)
    client.force_login(world["alice"])
    assert {client.get(url).status_code for url in urls} == {404}
    client.force_login(world["carol"])
    assert {client.get(url).status_code for url in urls} == {200}
