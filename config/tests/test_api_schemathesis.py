"""Schemathesis against the live schema of a real Daphne, with a valid token: whatever it
sends, no server error and no response that violates the schema."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from analysis.tests.support import analysed
from clinic.services import api_token_create

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]
EXAMPLES_PER_OPERATION = 20


def test_no_input_breaks_the_api_or_its_schema(daphne, broker, everyone, session_of, carol):
    for key in ("alices_patient", "bobs_patient", "daves_patient"):
        analysed(session_of(everyone[key]), f"{key}.c3d")
    _, token = api_token_create(user=carol, name="schemathesis")
    headers = {"Authorization": f"Token {token}"}
    schema = schemathesis.openapi.from_url(f"{daphne}/api/schema/?format=json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case):
            case.call_and_validate(
                base_url=daphne,
                headers=headers,
                checks=[not_a_server_error, response_schema_conformance],
                timeout=30,
            )

        check()
