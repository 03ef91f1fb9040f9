"""The OpenAPI document: valid, complete for every route, and true to what the API returns."""

from __future__ import annotations

import re

import pytest
from conftest import T0
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from board.api.actions import ACTIONS
from board.auth.services import issue_token

SCHEMA_DIALECT = "https://spec.openapis.org/oas/3.1/dialect/base"


@pytest.fixture
def document(client, directory):
    """The served document."""
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def test_openapi_document_validates(document):
    """openapi-spec-validator accepts the document as OpenAPI 3.1."""
    validate(document)
    assert document["openapi"].startswith("3.1")
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def _documented_routes(app, document) -> set[tuple[str, str]]:
    """(endpoint, METHOD) for every documented operation, found by matching its path."""
    adapter = app.url_map.bind("localhost")
    found = set()
    for path, item in document["paths"].items():
        concrete = re.sub(r"\{[^}]+\}", "MS-2026-ABCDEF", path)
        for method in item:
            endpoint, _args = adapter.match(concrete, method=method.upper())
            found.add((endpoint, method.upper()))
    return found


def test_every_api_route_is_documented(app, document):
    """A route added to the blueprint without an entry in the document fails here."""
    registered = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert registered, "the api blueprint registers no routes"
    assert _documented_routes(app, document) == registered


def test_every_action_is_documented_with_its_body(document):
    """Each workflow action has its own path, body schema and the error answers it can give."""
    for name, action in ACTIONS.items():
        operation = document["paths"][f"/api/v1/messages/{{code}}/actions/{name}"]["post"]
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        assert set(schema["properties"]) == {f.name for f in action.fields}
        assert set(schema["required"]) == {f.name for f in action.fields if f.required}
        assert {"401", "403", "404", "409", "422"} <= set(operation["responses"])
        assert operation["security"] == [{"bearerAuth": []}]
    for name in ("return", "transfer", "extend", "sign_off", "follow_up", "request_review"):
        assert f"/api/v1/messages/{{code}}/actions/{name}" in document["paths"]


def _validator(document, name: str) -> Draft202012Validator:
    """A JSON Schema validator for one component schema, resolving its $refs in the document."""
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": f"#/components/schemas/{name}",
        "components": document["components"],
    }
    return Draft202012Validator(schema)


def _check(document, name: str, instance) -> None:
    errors = list(_validator(document, name).iter_errors(instance))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


def test_responses_match_their_documented_schemas(client, document, make_message, citizen):
    """Real answers (public and private, lists and errors) fit the schemas the document gives."""
    closed = make_message("closed")
    petition = make_message(
        "received",
        track="petition",
        kind="claim",
        real_name="陈明亮",
        phone="13912345678",
        address="杭州市西湖区文三路 1 号",
    )
    auth = {"Authorization": f"Bearer {issue_token(citizen, now=T0)}"}
    _check(document, "Message", client.get(f"/api/v1/messages/{closed.code}").get_json())
    _check(
        document,
        "Message",
        client.get(f"/api/v1/messages/{petition.code}", headers=auth).get_json(),
    )
    _check(document, "MessagePage", client.get("/api/v1/messages", headers=auth).get_json())
    _check(document, "RegionPage", client.get("/api/v1/regions").get_json())
    _check(document, "BoardPage", client.get("/api/v1/boards").get_json())
    _check(document, "UnitPage", client.get("/api/v1/units").get_json())
    for response in (
        client.get("/api/v1/messages?page=0"),
        client.post("/api/v1/messages", json={}),
        client.get("/api/v1/nothing-here"),
    ):
        assert response.status_code >= 400
        _check(document, "Error", response.get_json())


def test_deadline_calculation_fits_its_schema_provisional_or_not(client, document):
    """The calculator's answer, for a span with and without an official schedule."""
    from board.calendar.services import load_calendar_year

    load_calendar_year(2026, now=T0)
    final = client.get("/api/v1/deadlines/calc?start=2026-09-28&policy=board_reply_long")
    provisional = client.get("/api/v1/deadlines/calc?start=2026-12-07&policy=board_reply_long")
    assert (final.get_json()["provisional"], provisional.get_json()["provisional"]) == (False, True)
    for response in (final, provisional):
        _check(document, "DeadlineCalculation", response.get_json())
    schema = document["components"]["schemas"]["DeadlineCalculation"]
    assert "provisional" in schema["required"]
    assert "provisional" in document["components"]["schemas"]["Deadline"]["required"]


def test_schema_check_catches_a_wrong_shape(document):
    """The shape check above is not vacuous: a message without its code is refused."""
    errors = list(_validator(document, "Message").iter_errors({"title": "x"}))
    assert any("'code' is a required property" in e.message for e in errors)


def test_documented_query_parameters_are_the_ones_read(client, document, directory):
    """Each documented list parameter is understood: a malformed value is a 422 naming it."""
    bad = {"integer": "x", "boolean": "maybe", "date": "2026-13-45"}
    checked = 0
    for path, item in document["paths"].items():
        operation = item.get("get")
        if not operation or "{" in path or path.endswith("/search"):
            continue
        for param in operation.get("parameters", []):
            schema = param["schema"]
            value = bad.get(schema.get("format") or schema["type"])
            if value is None and "enum" in schema:
                value = "not-a-choice"
            if value is None:
                continue
            response = client.get(f"{path}?{param['name']}={value}")
            assert response.status_code == 422, (path, param["name"])
            assert param["name"] in response.get_json()["error"]["fields"]
            checked += 1
    assert checked >= 10
