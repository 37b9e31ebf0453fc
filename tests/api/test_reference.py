"""The API's reference for people at /api/v1/docs: made from the OpenAPI document, it lists
every operation the document holds (so it grows with the API), resolves the schemas they
name, reads in the visitor's language, needs no JavaScript, and is not itself in the
document."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask

from skillsup.api.reference import Shape, doc_text, read_reference
from skillsup.extensions import db

ZH = "zh_Hant_HK"


def _document(client: Any) -> dict[str, Any]:
    return client.get("/api/v1/openapi.json").get_json()


def _operations(document: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def test_the_page_lists_every_operation_of_the_document(client):
    document = _document(client)
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    operations = _operations(document)
    assert operations
    for method, path in operations:
        heading = re.search(
            rf'<h3 id="[^"]+"><span class="http-method http-{method.lower()}">{method}</span> '
            rf"<code>{re.escape(path)}</code></h3>",
            page,
        )
        assert heading, f"{method} {path} is not on the page"
        operation = document["paths"][path][method.lower()]
        if operation.get("summary"):
            assert str(doc_text(str(operation["summary"]))) in page


def test_every_operation_says_what_scope_it_needs(client):
    document = _document(client)
    reference = read_reference(document)
    shown = {(op.method, op.path): op.scopes for op in reference.operations}
    assert set(shown) == set(_operations(document))
    for (method, path), scopes in shown.items():
        security = document["paths"][path][method.lower()].get("security", [])
        assert scopes == [scope for entry in security for scope in entry.get("token", [])]


def test_the_schemas_the_operations_name_are_described_on_the_page(client):
    document = _document(client)
    page = client.get("/api/v1/docs").get_data(as_text=True)
    named = set(re.findall(r'"#/components/schemas/([A-Za-z0-9_]+)"', json.dumps(document)))
    named.discard("Problem")
    assert named
    for name in named:
        assert f'<h3 id="schema-{name.lower()}"><code>{name}</code></h3>' in page, name
        assert f'href="#schema-{name.lower()}"' in page, name
    # The problem details are described once, in the introduction.
    assert page.count('href="#errors"') >= len(_operations(document))
    for field in document["components"]["schemas"]["Problem"]["properties"]:
        assert f"<code>{field}</code>" in page


def test_the_page_is_not_an_operation_of_the_document(client):
    document = _document(client)
    assert not [path for path in document["paths"] if path.startswith("/api/v1/docs")]


def test_the_introduction_says_how_to_call_the_api(client):
    page = client.get("/api/v1/docs").get_data(as_text=True)
    for words in (
        "Authorization: Bearer su_…",
        "Accept-Language",
        "next_cursor",
        "If-None-Match",
        "Idempotency-Key",
        "application/problem+json",
        "600 per minute",
        'href="/api/v1/openapi.json"',
    ):
        assert words in page, words


def test_the_page_works_without_javascript_and_is_accessible(client):
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "<script" not in page
    assert page.count("<h1") == 1
    tables = page.count("<table")
    assert tables and page.count("<caption") == tables
    assert page.count('scope="col"') >= tables * 4
    # The document's own descriptions stay English, marked so.
    assert 'lang="en"' in page


def test_the_page_reads_in_chinese(client):
    client.post("/language", data={"lang": ZH, "next": "/api/v1/docs"})
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert '<html lang="zh-Hant-HK">' in page
    assert "API 參考" in page and "取得權杖" in page and "錯誤" in page
    assert "Getting started" not in page
    # Those of the document stay as written, marked as English.
    assert '<p lang="en">The published courses' in page


def test_an_api_caller_asking_in_chinese_reads_it_in_chinese(client):
    page = client.get("/api/v1/docs", headers={"Accept-Language": "zh-HK"}).get_data(as_text=True)
    assert '<html lang="zh-Hant-HK">' in page


def test_the_page_leads_to_the_readers_own_tokens(client, login_as, hr_officer, admin):
    assert "/hr/api-tokens" not in client.get("/api/v1/docs").get_data(as_text=True)
    login_as(hr_officer)
    assert 'href="/hr/api-tokens"' in client.get("/api/v1/docs").get_data(as_text=True)
    client.post("/logout")
    login_as(admin)
    assert 'href="/admin/api-tokens"' in client.get("/api/v1/docs").get_data(as_text=True)


def test_a_signed_in_readers_language_is_theirs(client, login_as, hr_officer):
    hr_officer.preferred_language = ZH
    db.session.commit()
    login_as(hr_officer)
    page = client.get("/api/v1/docs", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="zh-Hant-HK">' in page


# Reading a document ----------------------------------------------------------------------------

#: A document with what the API's first resource does not have yet: a request body, a header
#: parameter, a nullable reference, an array of references, an operation without a tag.
SAMPLE = {
    "openapi": "3.1.0",
    "info": {"title": "Sample", "version": "v1", "description": "A `sample`."},
    "tags": [{"name": "api_staff", "description": "Staff."}],
    "paths": {
        "/api/v1/staff/{staff_id}": {
            "parameters": [
                {"in": "path", "name": "staff_id", "required": True, "schema": {"type": "integer"}}
            ],
            "post": {
                "tags": ["api_staff"],
                "summary": "Change an employee.",
                "security": [{"token": ["staff:write"]}],
                "parameters": [
                    {"$ref": "#/components/parameters/Key"},
                ],
                "requestBody": {
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/StaffInput"}}
                    }
                },
                "responses": {
                    "default": {"$ref": "#/components/responses/DEFAULT_ERROR"},
                    "200": {
                        "description": "OK",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Staff"}}
                        },
                    },
                    "204": {"description": "No Content"},
                },
            },
        },
        "/api/v1/ping": {"get": {"responses": {"200": {"description": "OK"}}}},
    },
    "components": {
        "parameters": {
            "Key": {
                "in": "header",
                "name": "Idempotency-Key",
                "schema": {"type": "string", "maxLength": 255},
            }
        },
        "responses": {
            "DEFAULT_ERROR": {
                "description": "An error.",
                "content": {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                },
            }
        },
        "schemas": {
            "Problem": {"type": "object", "properties": {"detail": {"type": "string"}}},
            "StaffInput": {
                "type": "object",
                "required": ["email"],
                "properties": {
                    "email": {"type": "string", "format": "email", "description": "Work address."},
                    "department": {"type": ["string", "null"], "maxLength": 100},
                    "manager": {"anyOf": [{"$ref": "#/components/schemas/Ref"}, {"type": "null"}]},
                },
            },
            "Staff": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "teams": {"type": "array", "items": {"$ref": "#/components/schemas/Ref"}},
                    "joined_on": {"type": "string", "format": "date"},
                },
            },
            "Ref": {"type": "object", "properties": {"id": {"type": "integer"}}},
        },
    },
}


def test_a_document_is_read_into_sections_operations_and_fields():
    reference = read_reference(SAMPLE)
    assert [section.title for section in reference.sections] == ["Staff", "Other"]
    change = reference.sections[0].operations[0]
    assert (change.method, change.path, change.scopes) == (
        "POST",
        "/api/v1/staff/{staff_id}",
        ["staff:write"],
    )
    assert [(p.name, p.location, p.required) for p in change.parameters] == [
        ("staff_id", "path", True),
        ("Idempotency-Key", "header", False),
    ]
    assert change.body_schema == "StaffInput"
    email, department, manager = change.body_fields
    assert (email.name, email.required, email.shape.format, email.description) == (
        "email",
        True,
        "email",
        "Work address.",
    )
    assert department.shape == Shape(type="string", nullable=True, max_length=100)
    assert (manager.shape.schema, manager.shape.nullable) == ("Ref", True)
    assert [answer.status for answer in change.answers] == ["200", "204", "default"]
    ok, empty, error = change.answers
    assert ok.schema == "Staff" and [f.name for f in ok.fields] == ["id", "teams", "joined_on"]
    assert ok.fields[1].shape.items == Shape(type="object", schema="Ref")
    assert empty.schema is None and empty.content_type is None
    assert error.is_problem and not error.fields
    assert [schema.name for schema in reference.schemas] == ["StaffInput", "Ref", "Staff"]
    ping = reference.sections[1].operations[0]
    assert ping.scopes == [] and ping.answers[0].fields == []


def test_a_document_with_a_body_renders_its_fields(app: Flask, monkeypatch: pytest.MonkeyPatch):
    from skillsup.api import reference as module

    monkeypatch.setattr(module, "api_document", lambda: SAMPLE)
    page = app.test_client().get("/api/v1/docs").get_data(as_text=True)
    assert "Request body" in page and 'href="#schema-staffinput"' in page
    assert "<code>Idempotency-Key</code>" in page and "a header" in page
    assert 'array of <a href="#schema-ref"><code>Ref</code></a>' in page
    assert "No body." in page
    assert "Needs a token with the scope <code>staff:write</code>" in page
    assert '<p lang="en">A <code>sample</code>.</p>' in page
