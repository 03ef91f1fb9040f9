"""Schemathesis drives every read endpoint of the OpenAPI document: no answer is a server error.

Hypothesis generates parameters from the document (codes, dates, enums, cursors, page sizes,
and values outside them); each answer must be below 500 and match its documented status codes
and schema. Kept small (a few examples per operation) so the run stays well under a minute.
(Schemathesis's lazy pytest fixture does not work with pytest 9, so the operations are driven
with Hypothesis directly.)
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from opendata_world import NOW, build
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from board.api import views as api_views

EXAMPLES = 12
# Unknown codes are answered 422 by design (documented), so "valid data rejected" is not checked.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_read_endpoints_never_fail(app, directory, monkeypatch):
    """Generated GET requests: never a 5xx, and the answer conforms to the document."""
    monkeypatch.setattr(api_views, "utcnow", lambda: NOW)
    build(n=12)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.include(method="GET").get_all_operations()]
    paths = {op.path for op in operations}
    assert {"/api/v1/messages", "/api/v1/stats", "/api/v1/search", "/api/v1/regions"} <= paths
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def exercise(case):
            response = case.call()
            assert response.status_code < 500, (case.path, case.query, response.text[:500])
            case.validate_response(response, checks=CHECKS)

        exercise()
