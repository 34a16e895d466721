"""Protocol targets of a patient: blank follows the clinic default, shown as a placeholder."""

import pytest
from django.urls import reverse

from clinic.services import clinic_settings_create
from patients.models import PatientProtocol
from patients.protocol import effective_protocol


@pytest.fixture
def url(alices_patient):
    return reverse("patients:protocol", args=[alices_patient.pk])


def test_blank_fields_show_the_clinic_default_as_placeholder(client, alice, carol, url):
    clinic_settings_create(
        clinic=carol.clinic, values={"target_pct_mvc": 70.0, "sessions_per_week": 4}, user=carol
    )
    client.force_login(alice)
    html = client.get(url).content.decode()
    assert 'placeholder="70.0 (clinic default)"' in html
    assert 'placeholder="4 (clinic default)"' in html


def test_overrides_are_saved_and_blank_means_the_default(client, alice, alices_patient, url):
    client.force_login(alice)
    response = client.post(
        url,
        {
            "target_pct_mvc": "60",
            "hold_s": "3",
            "weight_compliance": "0.7",
            "weight_symmetry": "0.1",
            "weight_effort": "0.1",
            "weight_game": "0.1",
        },
        follow=True,
    )
    assert "Protocol saved" in response.content.decode()
    protocol = PatientProtocol.objects.get(patient=alices_patient)
    assert (protocol.target_pct_mvc, protocol.hold_s, protocol.sessions_per_week) == (60, 3, None)
    effective = effective_protocol(alices_patient)
    assert effective.target_pct_mvc == 60
    assert effective.sessions_per_week == 5  # the clinic default
    assert effective.scoring_weights["compliance"] == 0.7
    # Clearing a field gives it back to the clinic.
    client.post(url, {"target_pct_mvc": "", "hold_s": "3"})
    protocol.refresh_from_db()
    assert protocol.target_pct_mvc is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("target_pct_mvc", "0"),
        ("target_pct_mvc", "ninety"),
        ("hold_s", "-1"),
        ("sessions_per_week", "99"),
        ("weight_compliance", "lots"),
        ("weight_compliance", "5"),
        ("weight_game", "-0.1"),
    ],
)
def test_bad_input_is_a_form_error(client, alice, alices_patient, url, field, value):
    client.force_login(alice)
    response = client.post(url, {field: value})
    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()
    assert not PatientProtocol.objects.filter(patient=alices_patient).exists()


def test_a_researcher_sees_the_protocol_read_only(client, rita, url):
    client.force_login(rita)
    html = client.get(url).content.decode()
    assert "What applies now" in html
    assert "Save protocol" not in html
    assert " disabled" in html


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({"weight_compliance": "0.7"}, "Give all four weights, or leave all four blank"),
        (
            {
                "weight_compliance": "0.7",
                "weight_symmetry": "0.7",
                "weight_effort": "0.1",
                "weight_game": "0.1",
            },
            "The weights add up to 1.60; they must add up to 1.",
        ),
    ],
)
def test_weights_must_be_all_four_adding_up_to_one(
    client, alice, alices_patient, url, weights, message
):
    client.force_login(alice)
    response = client.post(url, weights)
    assert message in response.content.decode()
    assert not PatientProtocol.objects.filter(patient=alices_patient).exists()


def test_blank_weights_show_the_clinic_weights(client, alice, url):
    client.force_login(alice)
    html = client.get(url).content.decode()
    assert 'placeholder="0.5 (clinic default)"' in html
    assert "compliance 0.5, symmetry 0.2, effort 0.2, game 0.1" in html
