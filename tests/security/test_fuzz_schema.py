"""The OpenAPI schema, fuzzed with schemathesis against a real server.

Every operation gets its documented examples, the coverage phase's edge cases
(missing, wrong-typed and boundary values, NUL characters) and a bounded number of
generated requests, from a fixed seed so a run is repeatable. No answer may be a
server error, and each must match the schema: a documented status code, the
documented content type and the documented body. Once as a superuser (every request
passes the permission check) and once anonymously (every request stops at it).

The schema is made in-process so that pytest collects one test per operation
(schemathesis's fixture-loaded schemas do not run under pytest 9); the first test
proves the server serves exactly this schema.
"""

import json

import httpx
import pytest
import schemathesis
from django.contrib.auth.models import User
from django.core.management import call_command
from drf_spectacular.views import SpectacularAPIView
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from supervisor.services import agent_claim_mission, agent_heartbeat
from tests.conftest import token_for
from tests.credits.factories import make_account
from tests.hardware.factories import make_robot, report_state, send_command
from tests.missions.factories import make_mission
from tests.supervisor.factories import make_agent

# django_db: the session creates the test database only for tests marked so.
pytestmark = [pytest.mark.slow, pytest.mark.django_db]

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
SEED = 20261127
MAX_EXAMPLES = 15


def fuzz_config() -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "cache": {"enabled": False},
            "generation": {
                "mode": "all",
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "allow-x00": True,
            },
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": True},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": False},
            },
            "request-timeout": 10,
        }
    )


def served_schema() -> dict:
    """What ``GET /api/schema/?format=json`` answers, made in-process."""
    generator = SpectacularAPIView().generator_class(urlconf=None)
    return json.loads(json.dumps(generator.get_schema(request=None, public=True)))


SCHEMA = served_schema()
# The test-only widgets route is not part of the project.
schema = schemathesis.openapi.from_dict(SCHEMA, config=fuzz_config()).exclude(
    path_regex="^/api/test-"
)


@pytest.fixture(scope="module")
def fuzzed(live_server_process, django_db_blocker):
    """The session's server with one of everything (so lists and details have bodies
    to check) and a superuser's headers. The fuzzer's writes are committed, so the
    database is emptied afterwards, as a transactional test's teardown does."""
    with django_db_blocker.unblock():
        mission = make_mission(name="Survey")
        make_account("agent-1", initial_credits="100")
        make_agent("agent-1")  # registered and beating: it may claim
        assert agent_claim_mission(agent_id="agent-1").pk == mission.id
        agent_heartbeat(agent_id="agent-1", current_mission_id=mission.id)
        make_robot("go2-alpha")
        report_state("go2-alpha")
        send_command("go2-alpha")
        root = User.objects.create_superuser("fuzzer", password="pw-not-used-123")
        headers = {"Authorization": f"Token {token_for(root)}"}
    yield live_server_process, headers
    with django_db_blocker.unblock():
        call_command("flush", verbosity=0, interactive=False)


def test_the_live_server_serves_the_fuzzed_schema(fuzzed):
    server, superuser_headers = fuzzed
    for headers in ({}, superuser_headers):
        response = httpx.get(f"{server.url}/api/schema/?format=json", headers=headers)
        assert response.status_code == 200
        assert response.json() == SCHEMA


@schema.parametrize()
def test_superuser_requests_get_no_server_error_and_match_the_schema(case, fuzzed):
    server, headers = fuzzed
    case.call_and_validate(base_url=server.url, headers=headers, checks=CHECKS)


@schema.parametrize()
def test_anonymous_requests_get_no_server_error_and_match_the_schema(case, fuzzed):
    server, _ = fuzzed
    case.call_and_validate(base_url=server.url, checks=CHECKS)
