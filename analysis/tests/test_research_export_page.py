"""The research export page and its CSV download: for those with the export permission only."""

import csv
import io

import pytest
from django.urls import reverse

from analysis import research
from analysis.tests.support import analysed
from conftest import names_in

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("persona", ["rita", "carol"])
def test_researchers_and_managers_download_the_dataset(client, everyone, session_of, persona):
    for key in ("alices_patient", "bobs_patient", "daves_patient"):
        analysed(session_of(everyone[key]), f"{everyone[key].last_name}.c3d")
    client.force_login(everyone[persona])
    page = client.get(reverse("analysis:exports"))
    assert page.status_code == 200
    assert reverse("analysis:research-csv") in page.content.decode()
    response = client.get(reverse("analysis:research-csv"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="research-')
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len({r["participant"] for r in rows}) == 2  # their clinic: Alice's and Bob's
    assert names_in(body) == set()
    assert ".c3d" not in body
    assert {r["participant"] for r in rows} == {
        research.pseudonym(everyone[k].pk) for k in ("alices_patient", "bobs_patient")
    }


def test_the_main_menu_offers_it_to_those_who_may(client, rita, alice):
    client.force_login(rita)
    assert reverse("analysis:exports") in client.get(reverse("patients:list")).content.decode()
    client.force_login(alice)
    assert reverse("analysis:exports") not in client.get(reverse("patients:list")).content.decode()


@pytest.mark.parametrize("persona", ["alice", "bob", "dave"])
def test_therapists_are_forbidden(client, everyone, persona):
    client.force_login(everyone[persona])
    assert client.get(reverse("analysis:exports")).status_code == 403
    assert client.get(reverse("analysis:research-csv")).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(reverse("analysis:research-csv"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
