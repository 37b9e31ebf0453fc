"""The API's reference for people, at ``/api/v1/docs``: the OpenAPI document the API generates
(flask-smorest, ``/api/v1/openapi.json``) read into sections, operations, parameters and
fields, and shown as a page of the portal, server-side, in the reader's language (the
document's own descriptions stay in English).

It is a plain page, not an operation of the API: no token, no problem details, and not in the
document (so that it stays a description of the API alone). Every operation the document
holds is shown, so that the page grows with the API.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, current_app, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup, escape

from .. import permissions
from ..services.api_tokens import SECRET_PREFIX
from .core import IDEMPOTENCY_WINDOW, SECURITY_SCHEME, URL_PREFIX
from .pagination import DEFAULT_LIMIT, MAX_LIMIT

bp = Blueprint("api_reference", __name__, url_prefix=URL_PREFIX)

METHODS = ("get", "post", "put", "patch", "delete")
#: The schema of every error answer: the introduction describes it once.
PROBLEM_SCHEMA = "Problem"


@dataclass(frozen=True)
class Shape:
    """What a value is, as the document says: its JSON type (``string``, ``integer``, an
    ``array`` of something, or one of the document's schemas, by name), its format, the
    values it may take, whether it may be null, and its bounds."""

    type: str
    format: str | None = None
    schema: str | None = None
    items: Shape | None = None
    choices: tuple[Any, ...] = ()
    nullable: bool = False
    minimum: Any = None
    maximum: Any = None
    max_length: int | None = None
    default: Any = None
    has_default: bool = False


@dataclass(frozen=True)
class Field:
    name: str
    shape: Shape
    required: bool
    description: str


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str
    shape: Shape
    required: bool
    description: str


@dataclass(frozen=True)
class Answer:
    """One response of an operation: its status, what it means, and its body's schema (by
    name, with its fields) when it has one."""

    status: str
    description: str
    content_type: str | None
    schema: str | None
    fields: list[Field]
    is_problem: bool


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    anchor: str
    summary: str
    description: str
    #: The scopes a token needs; empty for an operation anyone may call.
    scopes: list[str]
    parameters: list[Parameter]
    body_schema: str | None
    body_fields: list[Field]
    answers: list[Answer]


@dataclass(frozen=True)
class Section:
    """The operations of one tag (one resource) of the document."""

    name: str
    title: str
    anchor: str
    description: str
    operations: list[Operation] = field(default_factory=list)


@dataclass(frozen=True)
class SchemaPage:
    """A schema of the document's components, with its fields, for the operations to link to."""

    name: str
    anchor: str
    description: str
    fields: list[Field]


@dataclass(frozen=True)
class Reference:
    title: str
    version: str
    description: str
    sections: list[Section]
    schemas: list[SchemaPage]
    problem_fields: list[Field]

    @property
    def operations(self) -> Iterator[Operation]:
        for section in self.sections:
            yield from section.operations


# ---------------------------------------------------------------------------------------------
# Reading the document


def _slug(*parts: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", "-".join(parts).lower()).strip("-")


def schema_anchor(name: str) -> str:
    return _slug("schema", name)


class _Document:
    """The OpenAPI document, with its ``$ref``s resolved."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self.used_schemas: list[str] = []

    def resolve(self, item: Mapping[str, Any]) -> Mapping[str, Any]:
        seen = 0
        while "$ref" in item and seen < 20:
            item = self._at(str(item["$ref"]))
            seen += 1
        return item

    def _at(self, ref: str) -> Mapping[str, Any]:
        node: Any = self.document
        for part in ref.removeprefix("#/").split("/"):
            node = node.get(part, {}) if isinstance(node, Mapping) else {}
        return node if isinstance(node, Mapping) else {}

    def schema_name(self, schema: Mapping[str, Any]) -> str | None:
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            name = ref.rsplit("/", 1)[-1]
            if name not in self.used_schemas:
                self.used_schemas.append(name)
            return name
        return None

    def shape(self, schema: Mapping[str, Any]) -> Shape:
        name = self.schema_name(schema)
        if name is not None:
            return Shape(type="object", schema=name)
        for combined in ("allOf", "anyOf", "oneOf"):
            options = schema.get(combined)
            if isinstance(options, list) and options:
                others = [option for option in options if option.get("type") != "null"]
                base = self.shape(others[0]) if others else Shape(type="null")
                nullable = len(others) < len(options)
                return Shape(**{**base.__dict__, "nullable": base.nullable or nullable})
        kinds = schema.get("type")
        kinds = list(kinds) if isinstance(kinds, list) else [kinds] if kinds else []
        nullable = "null" in kinds
        kinds = [kind for kind in kinds if kind != "null"]
        choices = tuple(schema.get("enum") or ())
        if None in choices:
            nullable = True
            choices = tuple(choice for choice in choices if choice is not None)
        kind = kinds[0] if kinds else ("string" if choices else "any")
        items = None
        if kind == "array" and isinstance(schema.get("items"), Mapping):
            items = self.shape(schema["items"])
        return Shape(
            type=kind,
            format=schema.get("format"),
            items=items,
            choices=choices,
            nullable=nullable,
            minimum=schema.get("minimum"),
            maximum=schema.get("maximum"),
            max_length=schema.get("maxLength"),
            default=schema.get("default"),
            has_default="default" in schema and schema.get("default") not in (None, ""),
        )

    def fields(self, schema: Mapping[str, Any]) -> list[Field]:
        """The fields of an object schema (the schema a ``$ref`` names)."""
        schema = self.resolve(schema)
        required = set(schema.get("required") or ())
        properties = schema.get("properties") or {}
        return [
            Field(
                name=name,
                shape=self.shape(prop),
                required=name in required,
                description=str(prop.get("description", "")),
            )
            for name, prop in properties.items()
        ]


def _parameters(doc: _Document, *lists: Any) -> list[Parameter]:
    found: dict[tuple[str, str], Parameter] = {}
    for items in lists:
        for raw in items or ():
            item = doc.resolve(raw)
            key = (str(item.get("name")), str(item.get("in")))
            found[key] = Parameter(
                name=key[0],
                location=key[1],
                shape=doc.shape(item.get("schema") or {}),
                required=bool(item.get("required")),
                description=str(item.get("description", "")),
            )
    order = {"path": 0, "query": 1, "header": 2}
    return sorted(found.values(), key=lambda p: (order.get(p.location, 3), not p.required))


def _json_schema(content: Mapping[str, Any]) -> tuple[str | None, Mapping[str, Any] | None]:
    for content_type, media in content.items():
        schema = media.get("schema") if isinstance(media, Mapping) else None
        if isinstance(schema, Mapping):
            return content_type, schema
    return None, None


def _answers(doc: _Document, responses: Mapping[str, Any]) -> list[Answer]:
    answers = []
    for status, raw in responses.items():
        response = doc.resolve(raw)
        content_type, schema = _json_schema(response.get("content") or {})
        name = doc.schema_name(schema) if schema is not None else None
        is_problem = name == PROBLEM_SCHEMA
        answers.append(
            Answer(
                status=str(status),
                description=str(response.get("description", "")),
                content_type=content_type,
                schema=name,
                fields=[] if schema is None or is_problem else doc.fields(schema),
                is_problem=is_problem,
            )
        )
    return sorted(answers, key=lambda a: (not a.status.isdigit(), a.status))


def _scopes(operation: Mapping[str, Any], document: Mapping[str, Any]) -> list[str]:
    security = operation.get("security", document.get("security") or [])
    return [scope for entry in security for scope in entry.get(SECURITY_SCHEME, [])]


def _operation(doc: _Document, path: str, method: str, item: Mapping[str, Any]) -> Operation:
    operation = item[method]
    body_schema = None
    body_fields: list[Field] = []
    body = doc.resolve(operation.get("requestBody") or {})
    _content_type, schema = _json_schema(body.get("content") or {})
    if schema is not None:
        # A body may add rules to a named schema (``allOf`` it with ``oneOf`` a choice of
        # fields): the page describes the named schema.
        named = next(
            (part for part in schema.get("allOf") or () if isinstance(part, Mapping)), schema
        )
        body_schema = doc.schema_name(named)
        body_fields = doc.fields(named)
    return Operation(
        method=method.upper(),
        path=path,
        anchor=_slug("op", method, path),
        summary=str(operation.get("summary", "")),
        description=str(operation.get("description", "")),
        scopes=_scopes(operation, doc.document),
        parameters=_parameters(doc, item.get("parameters"), operation.get("parameters")),
        body_schema=body_schema,
        body_fields=body_fields,
        answers=_answers(doc, operation.get("responses") or {}),
    )


def _title(tag: str) -> str:
    """A tag's heading: the resource's blueprint name, ``api_catalogue``, as "Catalogue"."""
    return tag.removeprefix("api_").replace("_", " ").capitalize()


def read_reference(document: Mapping[str, Any]) -> Reference:
    """The document as the page shows it: its sections (one per tag, in the document's order),
    their operations (in path order), and the schemas they use."""
    doc = _Document(document)
    tags = {str(tag["name"]): str(tag.get("description", "")) for tag in document.get("tags") or ()}
    sections: dict[str, Section] = {}
    for path, item in (document.get("paths") or {}).items():
        for method in METHODS:
            if method not in item:
                continue
            tag = next(iter(item[method].get("tags") or ()), "other")
            if tag not in sections:
                sections[tag] = Section(tag, _title(tag), _slug("tag", tag), tags.get(tag, ""))
            sections[tag].operations.append(_operation(doc, path, method, item))
    ordered = [sections[tag] for tag in tags if tag in sections]
    ordered += [section for tag, section in sections.items() if tag not in tags]
    problem = {"$ref": f"#/components/schemas/{PROBLEM_SCHEMA}"}
    problem_fields = doc.fields(problem)
    schemas = []
    # Walking each schema's fields may name more schemas: the list grows as it is read.
    for name in doc.used_schemas:
        if name == PROBLEM_SCHEMA:
            continue
        raw = doc.resolve({"$ref": f"#/components/schemas/{name}"})
        schemas.append(
            SchemaPage(
                name,
                schema_anchor(name),
                str(raw.get("description", "")),
                doc.fields(raw),
            )
        )
    info = document.get("info") or {}
    return Reference(
        title=str(info.get("title", "")),
        version=str(info.get("version", "")),
        description=str(info.get("description", "")),
        sections=ordered,
        schemas=schemas,
        problem_fields=problem_fields,
    )


def doc_text(text: str) -> Markup:
    """A description of the document as HTML: escaped, with its `code` marked as code."""
    escaped = str(escape(text))
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped))  # noqa: S704 (escaped above)


def api_document() -> dict[str, Any]:
    """The application's OpenAPI document, as ``/api/v1/openapi.json`` serves it."""
    api = current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"]
    return dict(api.spec.to_dict())


# ---------------------------------------------------------------------------------------------
# The page


def _tokens_url() -> str | None:
    """Where the reader manages their tokens, if they may."""
    if not permissions.can_manage_api_tokens(current_user):
        return None
    return url_for("admin.api_tokens" if permissions.is_admin(current_user) else "hr.api_tokens")


@bp.route("/docs")
def reference() -> str:
    """The API's reference: how to call it, then every operation of its document."""
    reference = read_reference(api_document())
    example = next(
        (op.path for op in reference.operations if op.method == "GET" and "{" not in op.path),
        None,
    )
    return render_template(
        "api/reference.html",
        reference=reference,
        example_url=None if example is None else request.url_root.rstrip("/") + example,
        document_url=url_for("api-docs.openapi_json"),
        tokens_url=_tokens_url(),
        schema_anchor=schema_anchor,
        doc_text=doc_text,
        secret_prefix=SECRET_PREFIX,
        default_limit=DEFAULT_LIMIT,
        max_limit=MAX_LIMIT,
        idempotency_hours=int(IDEMPOTENCY_WINDOW.total_seconds() // 3600),
        rate_limit=current_app.config["API_RATE_LIMIT"],
    )
