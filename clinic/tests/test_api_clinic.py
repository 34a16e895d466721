"""/api/v1/therapists/ (own clinic, read only) and /api/v1/clinic-settings/ (managers write)."""

import pytest
from rest_framework.test import APIClient

from clinic.models import ClinicSettings

pytestmark = pytest.mark.django_db
SETTINGS = "/api/v1/clinic-settings/"
VERSION = {
    "contractions_per_round": 10,
    "target_pct_mvc": 70,
    "hold_s": 2.5,
    "rounds_per_session": 3,
    "sessions_per_week": 4,
    "programme_weeks": 6,
    "bfr_safe_low_pct_aop": 40,
    "bfr_safe_high_pct_aop": 60,
}


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_therapists_of_own_clinic_read_only(everyone):
    emails = {
        t["email"] for t in api(everyone["rita"]).get("/api/v1/therapists/").json()["results"]
    }
    assert emails == {"alice@north.test", "bob@north.test"}
    dave = everyone["dave"]
    assert api(everyone["alice"]).get(f"/api/v1/therapists/{dave.pk}/").status_code == 404
    assert api(everyone["carol"]).post("/api/v1/therapists/", {}).status_code == 405


def test_managers_save_versions_others_read(everyone):
    carol, alice, dave = everyone["carol"], everyone["alice"], everyone["dave"]
    weights = {"compliance": 0.5, "symmetry": 0.2, "effort": 0.2, "game": 0.1}
    saved = api(carol).post(SETTINGS, {**VERSION, "scoring_weights": weights}, format="json")
    assert saved.status_code == 201, saved.content
    assert saved.json()["version"] == 1
    assert saved.json()["scoring_weights"] == weights
    assert api(carol).post(SETTINGS, VERSION, format="json").json()["version"] == 2
    assert api(alice).post(SETTINGS, VERSION, format="json").status_code == 403
    assert api(everyone["rita"]).post(SETTINGS, VERSION, format="json").status_code == 403
    band = api(carol).post(
        SETTINGS,
        {**VERSION, "bfr_safe_low_pct_aop": 70, "bfr_safe_high_pct_aop": 50},
        format="json",
    )
    assert band.status_code == 400
    assert "bfr_safe_high_pct_aop" in band.json()["errors"]
    assert api(carol).post(SETTINGS, {"hold_s": "x"}, format="json").status_code == 400
    assert [v["version"] for v in api(alice).get(SETTINGS).json()["results"]] == [2, 1]
    assert api(dave).get(SETTINGS).json()["results"] == []
    assert ClinicSettings.objects.count() == 2
    # An administrator names the clinic.
    zoe = everyone["zoe"]
    assert api(zoe).post(SETTINGS, VERSION, format="json").status_code == 400
    south = dave.clinic_id
    assert api(zoe).post(SETTINGS, {**VERSION, "clinic": south}, format="json").status_code == 201


def test_the_channel_map_is_set_through_the_api_checked_as_on_the_page(everyone):
    carol = everyone["carol"]
    mapped = {"CH1": "left biceps", "CH2": "right biceps"}
    saved = api(carol).post(SETTINGS, {**VERSION, "channel_map": mapped}, format="json")
    assert saved.status_code == 201, saved.content
    assert saved.json()["channel_map"] == mapped
    # left out, the current map carries over to the next version
    again = api(carol).post(SETTINGS, VERSION, format="json").json()
    assert again["channel_map"] == mapped
    for bad in ({"CH1": "left biceps", "ch1": "right biceps"}, {"CH1": ""}, ["CH1"]):
        refused = api(carol).post(SETTINGS, {**VERSION, "channel_map": bad}, format="json")
        assert refused.status_code == 400, bad
        assert "channel_map" in refused.json()["errors"]
    assert ClinicSettings.objects.filter(clinic=carol.clinic).count() == 2
