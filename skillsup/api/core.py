"""What every API resource stands on: its blueprint, the caller's token, the unit of work
of a change, ``Idempotency-Key`` and ``ETag``.

A request carries ``Authorization: Bearer <token>``; the token acts as the person who created
it, narrowed to its scopes (:mod:`skillsup.services.api_tokens`). Handlers are as thin as the
pages' views: load → authorize → call a service inside :func:`changes` → answer.
"""

from __future__ import annotations

import hashlib
import http
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar, cast

import marshmallow as ma
from flask import Response, current_app, g, request
from flask_babel import lazy_gettext as _l
from flask_smorest import Api, Blueprint
from flask_smorest.spec import prepare_response
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from ..extensions import csrf, db, limiter
from ..models import ApiScope, ApiToken, IdempotentAnswer, PartnerCompany, User, utcnow
from ..services import api_tokens
from ..services.audit import API_TOKEN_KEY
from ..services.errors import DomainError
from ..web import Work, unit_of_work
from .problems import PROBLEM_TYPE, ApiProblem, from_domain_error
from .schemas import ProblemSchema

View = TypeVar("View", bound=Callable[..., Any])

API_VERSION = "v1"
URL_PREFIX = "/api/v1"
SECURITY_SCHEME = "token"
#: How long a kept answer is given again for the same Idempotency-Key.
IDEMPOTENCY_WINDOW = timedelta(hours=24)
IDEMPOTENCY_KEY_LENGTH = 255
#: What an Idempotency-Key may be (a UUID, say): what the document can say exactly.
IDEMPOTENCY_KEY = re.compile(rf"[!-~]{{1,{IDEMPOTENCY_KEY_LENGTH}}}")


class PortalApi(Api):
    """flask-smorest's Api, answering errors as problem details: the error responses are
    documented as ``application/problem+json``, and the portal's own error handler answers
    them (flask-smorest's would replace the web pages' handler for the whole site)."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        pass

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            content_type = PROBLEM_TYPE if status >= 400 else self.DEFAULT_RESPONSE_CONTENT_TYPE
            prepare_response(response, self.spec, content_type)
            self.spec.components.response(status.name, response, lazy=True)
        response = {
            "description": "An error, as RFC 9457 problem details.",
            "schema": self.ERROR_SCHEMA,
        }
        prepare_response(response, self.spec, PROBLEM_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


class ApiBlueprint(Blueprint):
    """A resource's blueprint: CSRF does not apply (no cookie is read), every handler
    answers to a token unless it is marked :meth:`public`, requests are limited per token,
    and reads carry an ETag."""

    def __init__(self, name: str, import_name: str, **options: Any) -> None:
        options.setdefault("url_prefix", URL_PREFIX)
        super().__init__(name, import_name, **options)
        csrf.exempt(self)
        limiter.limit(
            lambda: str(current_app.config["API_RATE_LIMIT"]),
            key_func=rate_limit_key,
            scope="api",
        )(self)
        self.after_request(conditional_get)
        self.teardown_request(forget_token)

    def arguments(self, schema: Any, *, location: str = "json", **options: Any) -> Any:
        """flask-smorest's ``arguments``, refusing unknown fields wherever they are (a
        misspelt query parameter too, which webargs would otherwise drop without a word)."""
        options.setdefault("unknown", ma.RAISE)
        return super().arguments(schema, location=location, **options)

    @staticmethod
    def requires(scope: ApiScope) -> Callable[[View], View]:
        """The handler needs a valid token with ``scope``: 401 without one, 403 without the
        scope. Documented in the OpenAPI document as the operation's security."""

        def decorator(view: View) -> View:
            @wraps(view)
            def checked(*args: Any, **kwargs: Any) -> Any:
                token = current_token()
                if not token.allows(scope):
                    raise ApiProblem(
                        403,
                        _l("This token does not have the “%(scope)s” scope.", scope=scope.value),
                        code="missing_scope",
                    )
                return view(*args, **kwargs)

            documented = Blueprint.doc(security=[{SECURITY_SCHEME: [scope.value]}])(checked)
            return cast(View, documented)

        return decorator

    @staticmethod
    def public(view: View) -> View:
        """The handler answers anyone, token or not (the public catalogue)."""
        documented = Blueprint.doc(security=[])(view)
        documented._api_public = True
        return cast(View, documented)


# ---------------------------------------------------------------------------------------------
# The caller


def _bearer_secret() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return secret.strip() or None


def current_token() -> ApiToken:
    """The request's token, checked once per request; 401 when there is none or it may not
    be used (revoked, expired, its creator gone)."""
    token = g.get("api_token")
    if token is None:
        try:
            token = api_tokens.authenticate(_bearer_secret())
        except api_tokens.InvalidApiToken as error:
            raise from_domain_error(error) from error
        # The time it was last used, on its own: the request's change, if any, comes later.
        db.session.commit()
        g.api_token = token
        # Every change this request records in the audit log names the token.
        db.session.info[API_TOKEN_KEY] = token.id
    return cast(ApiToken, token)


def actor() -> User:
    """The person a request acts as: the creator of its token."""
    return current_token().created_by


def token_company() -> PartnerCompany | None:
    """The company the request's token is limited to; ``None`` for an institute-wide one."""
    return current_token().company


def company_in_scope(code: str | None) -> PartnerCompany | None:
    """The company a request is about. A company's token is about its own company: naming
    another one answers 404, as if it did not exist. An institute-wide token is about the
    company named by ``code`` (404 for none such), or about every company when ``code`` is
    empty (``None`` then)."""
    token = current_token()
    if token.company is not None:
        if code and code.strip().upper() != token.company.code:
            raise ApiProblem(404)
        return token.company
    if not code:
        return None
    company = db.session.scalar(
        select(PartnerCompany).where(PartnerCompany.code == code.strip().upper()[:20])
    )
    if company is None:
        raise ApiProblem(404)
    return company


def forget_token(_exception: BaseException | None = None) -> None:
    """Forget the request's token and Idempotency-Key: they are kept on ``g``, which lives as
    long as the application context, and a request run inside one it did not push (a
    test's, a script's) must not find the previous request's."""
    db.session.info.pop(API_TOKEN_KEY, None)
    g.pop("api_token", None)
    g.pop("idempotency", None)


# ---------------------------------------------------------------------------------------------
# Changes


@contextmanager
def changes(fields: Mapping[str, str] | None = None) -> Iterator[Work]:
    """The unit of work of an API change: the services' changes are committed once when the
    block ends (with the request's Idempotency-Key, if it has one, in the same
    transaction), or undone when a rule refuses, which becomes a problem answer with the
    rule's own message (:func:`.problems.from_domain_error`: 422 pointing at the field for a
    refusal that names an input, 409 for one that refuses a well-formed request because of
    how things stand). ``fields`` maps the services' field names to the body's."""
    with unit_of_work(quietly=(DomainError,)) as work:
        yield work
        _reserve_idempotency_key()
    if work.refusal is not None:
        raise from_domain_error(work.refusal, fields)


@dataclass
class _PendingKey:
    key: str
    request_hash: str
    answer: IdempotentAnswer | None = None


def _request_hash() -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b"\0")
    digest.update(request.full_path.encode())
    digest.update(b"\0")
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _reserve_idempotency_key() -> None:
    pending: _PendingKey | None = g.get("idempotency")
    if pending is None:
        return
    token_id = current_token().id
    # The token's answers past their day are of no more use: they go as new ones come.
    db.session.execute(
        delete(IdempotentAnswer).where(
            IdempotentAnswer.token_id == token_id,
            IdempotentAnswer.created_at <= utcnow() - IDEMPOTENCY_WINDOW,
        )
    )
    answer = IdempotentAnswer(
        token_id=token_id,
        key=pending.key,
        request_hash=pending.request_hash,
        # Filled in once the answer is written, after the commit (see :func:`idempotent`).
        status_code=0,
        body="",
        headers={},
    )
    db.session.add(answer)
    db.session.flush()
    pending.answer = answer


def _replay(answer: IdempotentAnswer, request_hash: str) -> Response:
    if answer.request_hash != request_hash:
        raise ApiProblem(
            422,
            _l("This Idempotency-Key was used for another request. Use a new key."),
            code="idempotency_key_reused",
        )
    if answer.status_code == 0:
        raise ApiProblem(
            409,
            _l(
                "A request with this Idempotency-Key is being carried out, or was carried out "
                "without its answer being kept. Read the resource to see its state."
            ),
            code="idempotency_key_in_use",
        )
    response = current_app.response_class(
        answer.body, status=answer.status_code, mimetype="application/json"
    )
    for name, value in answer.headers.items():
        response.headers[name] = value
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _kept_answer(key: str) -> IdempotentAnswer | None:
    return db.session.scalar(
        select(IdempotentAnswer).where(
            IdempotentAnswer.token_id == current_token().id, IdempotentAnswer.key == key
        )
    )


def idempotent(view: View) -> View:
    """A POST that may carry an ``Idempotency-Key`` header: the first request with a key
    makes the change and keeps its answer (for 24 hours); the same request again with the
    same key gets that answer again (``Idempotent-Replayed: true``) and changes nothing. The
    key on a different request is refused (422); while the first is still being carried
    out, 409. A request that was refused made no change and keeps no answer: it may be sent
    again with the same key."""

    @wraps(view)
    def keyed(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return view(*args, **kwargs)
        if not IDEMPOTENCY_KEY.fullmatch(key):
            raise ApiProblem(
                400,
                _l(
                    "An Idempotency-Key is 1 to 255 visible ASCII characters (letters, digits "
                    "and punctuation, no spaces), such as a UUID."
                ),
                code="invalid_idempotency_key",
            )
        request_hash = _request_hash()
        kept = _kept_answer(key)
        if kept is not None and kept.created_at > utcnow() - IDEMPOTENCY_WINDOW:
            return _replay(kept, request_hash)
        if kept is not None:
            # Past its window: the key may be used afresh.
            db.session.execute(delete(IdempotentAnswer).where(IdempotentAnswer.id == kept.id))
            db.session.commit()
        g.idempotency = _PendingKey(key, request_hash)
        try:
            response = current_app.make_response(view(*args, **kwargs))
        except (IntegrityError, ApiProblem):
            # Another request with the same key may have made the change meanwhile: this one
            # then failed on the key's uniqueness, or was refused by a rule because of that
            # change (already enrolled, say). The first one's answer is the answer.
            db.session.rollback()
            kept = _kept_answer(key)
            if kept is None:
                raise
            return _replay(kept, request_hash)
        pending: _PendingKey = g.idempotency
        if pending.answer is not None and response.status_code < 500:
            answer = pending.answer
            answer.status_code = response.status_code
            answer.body = response.get_data(as_text=True)
            answer.headers = {
                name: value
                for name, value in response.headers.items()
                if name in {"Location", "ETag"}
            }
            db.session.commit()
        return response

    return cast(View, Blueprint.doc(parameters=[IDEMPOTENCY_KEY_PARAMETER])(keyed))


IDEMPOTENCY_KEY_PARAMETER = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "description": (
        "A unique value for this change (a UUID, say). Sent again with the same request, it "
        "gets the first answer again instead of making the change twice, for 24 hours."
    ),
    "schema": {"type": "string", "pattern": f"^{IDEMPOTENCY_KEY.pattern}$"},
}


# ---------------------------------------------------------------------------------------------
# Reads


def conditional_get(response: Response) -> Response:
    """Every successful read carries a strong ``ETag`` of its body; a request whose
    ``If-None-Match`` names it gets ``304 Not Modified`` without the body. Answers depend on
    the token and the language, and may change at any time: caches must ask again."""
    if request.method not in {"GET", "HEAD"} or response.status_code != 200:
        return response
    if response.mimetype != "application/json" or response.direct_passthrough:
        return response
    response.set_etag(hashlib.sha256(response.get_data()).hexdigest()[:32])
    response.headers["Cache-Control"] = "private, no-cache"
    response.vary.update(("Authorization", "Accept-Language"))
    response.make_conditional(request)
    return response


def rate_limit_key() -> str:
    """Requests are counted per token (by its hash: unknown tokens share the caller's address)
    and, without one, per address."""
    secret = _bearer_secret()
    if secret:
        return "token:" + api_tokens.hash_secret(secret)
    return "address:" + (request.remote_addr or "unknown")
