"""Errors as RFC 9457 problem details, in the language the caller asked for.

Every refusal of the API (a rule of the services, bad input, a missing token, too many
requests, an address that is not there) is answered with ``application/problem+json``: a
``title`` for the kind of problem, a ``detail`` for this occurrence (a refused rule's own
message: the same words as the pages), and, for invalid input, ``errors`` naming each field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from flask import Response, current_app, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from ..services.errors import DomainError

#: Where the API is: its requests get problem details instead of error pages.
API_PREFIX = "/api/"
PROBLEM_TYPE = "application/problem+json"

#: The title of each status the API answers with.
TITLES: dict[int, Any] = {
    400: _l("Bad request"),
    401: _l("Authentication needed"),
    403: _l("Not allowed"),
    404: _l("Not found"),
    405: _l("Method not allowed"),
    406: _l("Not acceptable"),
    409: _l("Conflict"),
    410: _l("Gone"),
    412: _l("Precondition failed"),
    413: _l("Too large"),
    415: _l("Unsupported media type"),
    422: _l("The request's data is not valid"),
    428: _l("Precondition required"),
    429: _l("Too many requests"),
    500: _l("Something went wrong"),
    503: _l("Service unavailable"),
}

#: The detail of a status when nothing more specific is known.
DETAILS: dict[int, Any] = {
    400: _l("The request could not be understood."),
    401: _l("Send an API token in the Authorization header: Bearer <token>."),
    403: _l("This token may not do that."),
    404: _l("There is nothing at this address, or this token may not see it."),
    405: _l("This address does not accept that method."),
    413: _l("The request is larger than allowed."),
    415: _l("Send the request's data as JSON (Content-Type: application/json)."),
    429: _l("Too many requests. Wait a little and try again."),
    500: _l("The error has been recorded. Please try again later."),
}

# The validation library's own messages, in the portal's catalogue: every field error is
# given in the caller's language.
FIELD_MESSAGES: dict[str, Any] = {
    "Missing data for required field.": _l("This field is required."),
    "Field may not be null.": _l("This field may not be empty (null)."),
    "Invalid value.": _l("This value is not allowed."),
    "Invalid type.": _l("This value has the wrong type."),
    "Invalid input type.": _l("This value has the wrong type."),
    "Unknown field.": _l("This field is not known."),
    "Not a valid string.": _l("Enter text."),
    "Not a valid utf-8 string.": _l("Enter text."),
    "Not a valid integer.": _l("Enter a whole number."),
    "Not a valid number.": _l("Enter a number."),
    "Number too large.": _l("The number is too large."),
    "Not a valid boolean.": _l("Enter true or false."),
    "Not a valid date.": _l("Enter a date as YYYY-MM-DD."),
    "Not a valid datetime.": _l("Enter a time in ISO 8601 with its offset."),
    "Not a valid aware datetime.": _l("Enter a time in ISO 8601 with its offset."),
    "Not a valid list.": _l("Enter a list."),
    "Not a valid mapping type.": _l("Enter an object."),
    "Not a valid email address.": _l("Enter a valid e-mail address."),
    "Not a valid UUID.": _l("Enter a valid UUID."),
}
_MUST_BE_ONE_OF = re.compile(r"^Must be one of: (?P<choices>.*)\.$")


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


class ApiProblem(HTTPException):
    """A problem to answer with: raised anywhere under the API, answered by the handler."""

    def __init__(
        self,
        status: int,
        detail: Any = None,
        *,
        code: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(description=str(detail) if detail is not None else None)
        self.code = status
        self.problem_code = code
        self.errors = errors
        self.extra_headers = dict(headers or {})


def _code_of(error: DomainError) -> str:
    """``ClassFull`` → ``class_full``: a stable name for a refusal that programs can test."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(error).__name__).lower()


def from_domain_error(error: DomainError, fields: Mapping[str, str] | None = None) -> ApiProblem:
    """The problem for a rule's refusal, with its message (the pages' words). A refusal the
    services raise as a bad request is, to an API, either invalid input (422, pointing at the
    body's field it names; ``fields`` maps the services' names to the body's) or a request
    that is well formed but refused because of how things stand (409 Conflict: the class
    full or not open, the quota used, already enrolled, already decided...). Other statuses
    (401, 403, 404) stay as they are."""
    status = error.status_code
    errors = None
    if error.field:
        name = (fields or {}).get(error.field, error.field)
        errors = [{"pointer": f"#/{name}", "detail": str(error.message)}]
    if status == 400:
        status = 422 if errors else 409
    return ApiProblem(status, error.message, code=_code_of(error), errors=errors)


def translate_field_message(message: str) -> str:
    known = FIELD_MESSAGES.get(message)
    if known is not None:
        return str(known)
    one_of = _MUST_BE_ONE_OF.match(message)
    if one_of:
        return gettext("Choose one of: %(choices)s.", choices=one_of["choices"])
    return message


def _field_errors(
    messages: Any, location: str, path: tuple[str, ...] = ()
) -> Iterator[dict[str, Any]]:
    if isinstance(messages, Mapping):
        for name, inner in messages.items():
            yield from _field_errors(inner, location, (*path, str(name)))
    elif isinstance(messages, list | tuple):
        for message in messages:
            if isinstance(message, Mapping | list | tuple):
                yield from _field_errors(message, location, path)
            else:
                yield _error_entry(location, path, translate_field_message(str(message)))
    else:
        yield _error_entry(location, path, translate_field_message(str(messages)))


def _error_entry(location: str, path: tuple[str, ...], detail: str) -> dict[str, Any]:
    if location == "json":
        return {"pointer": "#/" + "/".join(path), "detail": detail}
    if location in {"query", "querystring"}:
        return {"parameter": ".".join(path), "detail": detail}
    if location == "headers":
        return {"header": ".".join(path), "detail": detail}
    return {"location": location, "field": ".".join(path), "detail": detail}


def validation_errors(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each field error of a request the validation refused (webargs' ``messages``, by
    location), with where it is and what is wrong, in the caller's language."""
    messages = data.get("messages") or {}
    entries: list[dict[str, Any]] = []
    for location, fields in messages.items():
        entries.extend(_field_errors(fields, location))
    return entries


def response_for(error: HTTPException) -> Response:
    """The problem-details answer for an HTTP error raised while answering the API."""
    status = error.code or 500
    title = TITLES.get(status, error.name)
    detail: Any = None
    errors: list[dict[str, Any]] | None = None
    problem_code: str | None = None
    headers: dict[str, str] = {}
    if isinstance(error, ApiProblem):
        detail = error.description
        errors = error.errors
        problem_code = error.problem_code
        headers.update(error.extra_headers)
    else:
        data = getattr(error, "data", None)
        if isinstance(data, Mapping) and "messages" in data:
            errors = validation_errors(data)
            detail = gettext("Some of the request's data is not valid: see errors.")
            headers.update(data.get("headers") or {})
        elif status == 400 and getattr(error, "skillsup_reason", False) and error.description:
            detail = error.description
        elif status == 429 and error.description:
            detail = DETAILS[429]
    if detail is None:
        detail = DETAILS.get(status, error.description or title)
    if status == 405:
        allowed = getattr(error, "valid_methods", None)
        if allowed:
            headers["Allow"] = ", ".join(allowed)
    if status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="skillsup"')
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": str(title),
        "status": status,
        "detail": str(detail),
        "instance": request.path,
    }
    if problem_code:
        body["code"] = problem_code
    if errors:
        body["errors"] = errors
    response = current_app.response_class(
        json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_TYPE
    )
    for name, value in headers.items():
        response.headers[name] = value
    response.headers["Content-Language"] = _content_language()
    return response


def _content_language() -> str:
    from flask_babel import get_locale

    from ..i18n import html_lang

    return html_lang(str(get_locale()))
