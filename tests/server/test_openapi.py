"""Schemathesis against the OpenAPI document: generated requests to every operation, valid
and invalid ones, as an admin with a token; no 5xx, and every answer matches the documented
schema, status and content type. TOLOK_API_EXAMPLES sets the examples per operation."""

from __future__ import annotations

import itertools
import os

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.server.conftest import Served

EXAMPLES = int(os.environ.get("TOLOK_API_EXAMPLES", "10"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_every_operation_answers_as_documented(served: Served) -> None:
    program = served.token("admin@example.com", ["read", "write", "ingest:events"])
    api = schemathesis.openapi.from_asgi(
        "/openapi.json",
        served.client.app,
        headers={"Authorization": program.headers["Authorization"]},
    )
    browser = served.browser("admin@example.com")
    as_program = {"Authorization": program.headers["Authorization"]}
    as_browser = {
        "Cookie": f"tolok_session={browser.cookies.get('tolok_session')}",
        "X-CSRF-Token": browser.headers["X-CSRF-Token"],
    }
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 20
    for operation, headers in itertools.product(operations, [as_program, as_browser]):
        run(operation, headers)


def run(operation: schemathesis.APIOperation, headers: dict[str, str]) -> None:
    @given(case=operation.as_strategy() | operation.as_strategy(GenerationMode.NEGATIVE))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    check()
