"""Schemathesis against the API's own OpenAPI schema, in process (WSGI), as a province's write token.

Every operation gets a few generated requests, valid and invalid, from a fixed seed: none may end
in a server error, and every response must be as documented (status, content type, body schema).
"""

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from tests.helpers import SICHUAN

pytestmark = pytest.mark.django_db

EXAMPLES_PER_OPERATION = 20
CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 20220715,
        # Explicit examples and generated ones; the coverage phase's hundreds of edge cases per
        # operation would take the suite past its time budget.
        "phases": {"stateful": {"enabled": False}},
        "generation": {"max-examples": EXAMPLES_PER_OPERATION, "deterministic": True, "mode": "all"},
    }
)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def token_header(client_for, settings):  # noqa: F811
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"client": "100000/minute"}}
    return {"Authorization": f"Token {client_for(SICHUAN).secret}"}


# Loaded at collection, in process: one test per operation.
schema = schemathesis.openapi.from_wsgi("/api/schema/", application, config=CONFIG)


@pytest.fixture
def keep_connection():
    """Requests go through the WSGI app, not Django's test client: like the client, keep Django from
    closing the test's database connection (and its transaction) at the start and end of each."""
    for signal in (signals.request_started, signals.request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (signals.request_started, signals.request_finished):
        signal.connect(close_old_connections)


@schema.parametrize()
# One token and one database transaction serve all the examples of an operation, on purpose.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@pytest.mark.usefixtures("period", "media", "keep_connection")
def test_the_api_answers_as_its_schema_says(case, token_header):
    case.call_and_validate(headers=token_header, checks=CHECKS)
