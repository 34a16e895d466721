"""Whatever a browser (or an attacker) posts, the patient and session forms never answer 500."""

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db

ANY_TEXT = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["", " ", "-1", "1e309", "NaN", "2024-02-30", "9" * 40, "\x00", "P001"]),
)
FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FUZZ
@given(
    data=st.fixed_dictionaries(
        {},
        optional={
            name: ANY_TEXT
            for name in [
                "clinic",
                "code",
                "mrn",
                "first_name",
                "last_name",
                "date_of_birth",
                "sex",
                "treatment_start",
                "planned_sessions",
                "therapists",
                "is_active",
            ]
        },
    )
)
def test_the_patient_form_answers_200_or_302_for_any_input(client, carol, alices_patient, data):
    client.force_login(carol)
    for url in (reverse("patients:create"), reverse("patients:edit", args=[alices_patient.pk])):
        assert client.post(url, data).status_code in (200, 302)


@FUZZ
@given(
    data=st.fixed_dictionaries(
        {},
        optional={
            name: ANY_TEXT for name in ["started_at", "therapist", "rpe", "bfr_pressure_pct_aop"]
        },
    ),
    query=st.dictionaries(
        st.sampled_from(["q", "active", "therapist", "voided", "page"]), ANY_TEXT, max_size=4
    ),
)
def test_the_session_form_and_list_filters_answer_200_or_302_for_any_input(
    client, carol, alices_patient, data, query
):
    client.force_login(carol)
    url = reverse("patients:session-create", args=[alices_patient.pk])
    assert client.post(url, data).status_code in (200, 302)
    assert client.get(reverse("patients:list"), query).status_code == 200
