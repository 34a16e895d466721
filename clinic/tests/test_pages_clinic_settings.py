"""Clinic settings: managers save new versions; the history stays; others are refused."""

import pytest
from django.urls import reverse

from clinic.models import ClinicSettings

URL = "clinic:settings"

VALID = {
    "contractions_per_round": "10",
    "target_pct_mvc": "70",
    "hold_s": "2.5",
    "rounds_per_session": "3",
    "sessions_per_week": "4",
    "programme_weeks": "3",
    "weight_compliance": "0.6",
    "weight_symmetry": "0.2",
    "weight_effort": "0.1",
    "weight_game": "0.1",
    "bfr_safe_low_pct_aop": "45",
    "bfr_safe_high_pct_aop": "55",
    "game_score_max": "",
}


def test_saving_creates_a_new_version_and_keeps_the_old(client, carol):
    client.force_login(carol)
    client.post(reverse(URL), VALID)
    response = client.post(reverse(URL), VALID | {"target_pct_mvc": "80"}, follow=True)
    assert "Settings saved as version 2" in response.content.decode()
    versions = list(ClinicSettings.objects.filter(clinic=carol.clinic).order_by("version"))
    assert [(v.version, v.target_pct_mvc) for v in versions] == [(1, 70.0), (2, 80.0)]
    assert versions[0].scoring_weights["compliance"] == 0.6
    assert versions[1].created_by == carol
    html = response.content.decode()
    assert "Current version: <strong>v2</strong>" in html
    assert html.count("<td>v") == 2


def test_the_form_starts_from_the_current_version(client, carol):
    client.force_login(carol)
    client.post(reverse(URL), VALID)
    html = client.get(reverse(URL)).content.decode()
    assert 'name="target_pct_mvc" value="70.0"' in html


@pytest.mark.parametrize(
    "change",
    [
        {"target_pct_mvc": ""},
        {"hold_s": "abc"},
        {"bfr_safe_low_pct_aop": "60", "bfr_safe_high_pct_aop": "50"},
        {"weight_game": "oops"},
        {"weight_game": "1.5"},
        {"sessions_per_week": "0"},
    ],
)
def test_bad_input_is_a_form_error(client, carol, change):
    client.force_login(carol)
    response = client.post(reverse(URL), VALID | change)
    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()
    assert not ClinicSettings.objects.exists()


def test_a_manager_changes_only_their_own_clinic(client, carol, south):
    client.force_login(carol)
    client.post(reverse(URL), VALID | {"clinic": str(south.pk)})
    assert not ClinicSettings.objects.filter(clinic=south).exists()
    assert ClinicSettings.objects.filter(clinic=carol.clinic).count() == 1


def test_a_superuser_chooses_the_clinic(client, zoe, north, south):
    client.force_login(zoe)
    html = client.get(reverse(URL)).content.decode()
    assert "North Rehab" in html
    assert "South Rehab" in html
    client.post(reverse(URL) + f"?clinic={south.pk}", VALID | {"clinic": str(south.pk)})
    assert ClinicSettings.objects.get().clinic == south
    assert client.get(reverse(URL) + "?clinic=999999").status_code == 404
    assert client.get(reverse(URL) + "?clinic=abc").status_code == 404


def test_a_therapist_may_not_save_settings(client, alice):
    client.force_login(alice)
    assert client.post(reverse(URL), VALID).status_code == 403
    assert not ClinicSettings.objects.exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"weight_game": "0.3"}, "The weights add up to 1.20; they must add up to 1."),
        ({"weight_game": ""}, "Give all four weights, or leave all four blank"),
    ],
)
def test_weights_must_be_all_four_and_add_up_to_one(client, carol, change, message):
    client.force_login(carol)
    response = client.post(reverse(URL), VALID | change)
    assert message in response.content.decode()
    assert not ClinicSettings.objects.exists()


def test_blank_weights_mean_the_standard_weights_and_the_page_says_them(client, carol):
    client.force_login(carol)
    blank = {f"weight_{name}": "" for name in ("compliance", "symmetry", "effort", "game")}
    client.post(reverse(URL), VALID | blank)
    assert ClinicSettings.objects.get(clinic=carol.clinic).scoring_weights == {}
    html = client.get(reverse(URL)).content.decode()
    assert 'placeholder="0.5 (standard)"' in html
    assert "standard (compliance 0.5, symmetry 0.2, effort 0.2, game 0.1)" in html


def test_weights_are_number_fields_filled_from_the_current_version(client, carol):
    client.force_login(carol)
    client.post(reverse(URL), VALID)
    html = client.get(reverse(URL)).content.decode()
    assert 'type="number" name="weight_compliance"' in html
    assert 'value="0.6"' in html
    assert "compliance 0.6, symmetry 0.2, effort 0.1, game 0.1" in html
