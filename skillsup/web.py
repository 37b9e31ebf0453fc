"""Helpers shared by the views of every blueprint."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NoReturn, TypeGuard
from urllib.parse import urlsplit

from flask import abort, current_app, flash, g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter, Map, ValidationError
from werkzeug.wrappers import Response

from .extensions import db, login_manager
from .models import Role, User, UserSession
from .services import user_sessions
from .services.errors import DomainError
from .validators import MAX_ID

#: The methods a route answers, for the URL maps (``<blueprint>/routes.py``): a page, an
#: action, and a page with a form that posts back to it.
GET = ["GET"]
POST = ["POST"]
FORM = ["GET", "POST"]

#: One route of a URL map: its address, its view and the methods it answers.
Route = tuple[str, Callable[..., ResponseReturnValue], list[str]]


@dataclass(frozen=True)
class MenuEntry:
    """One entry of the main menu: the page it opens, its label and its icon (a name in
    static/icons/lucide-sprite.svg).

    The entry is the current section on its own page and every page whose address lies
    under it (``/admin/courses`` covers ``/admin/courses/7/edit``); ``also`` names the
    endpoints that belong to it although their address does not.
    """

    endpoint: str
    label: Any
    icon: str
    also: tuple[str, ...] = ()


@dataclass(frozen=True)
class MenuLink:
    """A menu entry as the header shows it: its address, label, icon and whether it is
    current."""

    url: str
    label: Any
    current: bool
    icon: str


#: The catalogue, first in everyone's menu.
CATALOGUE_ENTRY = MenuEntry("catalogue.course_list", _l("Courses"), "book-open")

#: Each role's menu after the catalogue: the one place that lists them.
MENUS: dict[Role, list[MenuEntry]] = {
    Role.LEARNER: [MenuEntry("learning.my_learning", _l("My learning"), "graduation-cap")],
    Role.HR: [
        MenuEntry("hr.dashboard", _l("Dashboard"), "layout-dashboard"),
        MenuEntry("hr.approvals", _l("Approvals"), "inbox"),
        MenuEntry("hr.staff_list", _l("Staff"), "users"),
        MenuEntry(
            "hr.class_list",
            _l("Classes"),
            "calendar-days",
            also=(
                "hr.nominations_import",
                "hr.nominations_import_confirm",
                "hr.nominations_import_sample",
            ),
        ),
        MenuEntry("hr.progress", _l("Progress"), "chart-line"),
        MenuEntry(
            "hr.reports_index",
            _l("Reports"),
            "file-text",
            # The company's webhooks are linked from Reports: data that leaves the portal.
            also=(
                "hr.certificates_to_renew",
                "hr.webhook_list",
                "hr.webhook_new",
                "hr.webhook_detail",
                "hr.webhook_edit",
                "hr.webhook_disable",
                "hr.webhook_rotate",
            ),
        ),
        MenuEntry(
            "hr.funding",
            _l("Funding"),
            "banknote",
            also=("hr.claims", "hr.claim_received", "hr.value"),
        ),
    ],
    Role.TRAINER: [MenuEntry("trainer.home", _l("My classes"), "presentation")],
    Role.ADMIN: [
        MenuEntry("admin.home", _l("Admin"), "layout-dashboard"),
        MenuEntry("admin.course_list", _l("Manage courses"), "library"),
        MenuEntry("admin.class_list", _l("Classes"), "calendar-days"),
        MenuEntry("admin.company_list", _l("Companies"), "building-2"),
        MenuEntry("admin.user_list", _l("Users"), "users"),
        MenuEntry("admin.scheme_list", _l("Funding"), "banknote"),
    ],
}

HOME_ENDPOINTS = {
    Role.LEARNER: "learning.my_learning",
    Role.HR: "hr.dashboard",
    Role.TRAINER: "trainer.home",
    Role.ADMIN: "admin.home",
}


def menu_entries(user: Any) -> list[MenuEntry]:
    """The entries a visitor's menu lists: the catalogue for everyone, then their role's."""
    entries = [CATALOGUE_ENTRY]
    if getattr(user, "is_authenticated", False):
        entries += MENUS[user.role]
    return entries


def _covers(base: str, path: str) -> bool:
    """Whether ``path`` is the page at ``base`` or lies under it (whole path segments)."""
    base = base.rstrip("/")
    return path == base or path.startswith(base + "/")


def current_entry(entries: list[MenuEntry]) -> MenuEntry | None:
    """The entry of ``entries`` whose section the current request is in, if any.

    An entry naming the request's endpoint in ``also`` wins; otherwise the entry with the
    longest address that covers the request's address (``/hr/staff`` over ``/hr/``).
    """
    if not request or request.endpoint is None:
        return None
    for entry in entries:
        if request.endpoint == entry.endpoint or request.endpoint in entry.also:
            return entry
    path = request.script_root + request.path
    covering = [entry for entry in entries if _covers(url_for(entry.endpoint), path)]
    return max(covering, key=lambda entry: len(url_for(entry.endpoint)), default=None)


def menu_for(user: Any) -> list[MenuLink]:
    """The main menu as the header shows it, with the current section marked."""
    entries = menu_entries(user)
    current = current_entry(entries)
    return [
        MenuLink(url_for(entry.endpoint), entry.label, entry is current, entry.icon)
        for entry in entries
    ]


def account_is_current() -> bool:
    """Whether the request is one of the signed-in user's own account pages."""
    if not request or request.endpoint is None:
        return False
    return _covers(url_for("auth.account"), request.script_root + request.path)


def home_url_for(user: Any) -> str:
    if getattr(user, "is_authenticated", False):
        return url_for(HOME_ENDPOINTS[user.role])
    return url_for("main.index")


def require_roles(*roles: Role) -> Callable[[], Response | None]:
    """A ``before_request`` hook for a blueprint: log in first, then one of ``roles`` or 403."""

    def check() -> Response | None:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if current_user.role not in roles:
            current_app.logger.warning(
                "access denied: user %s (%s) to %s",
                current_user.id,
                current_user.role,
                request.path,
            )
            abort(403)
        return None

    return check


def is_safe_next(target: str | None) -> TypeGuard[str]:
    """Whether ``target`` is a path on this site (no scheme, host, or backslash tricks)."""
    if not target:
        return False
    if any(ord(c) < 32 for c in target) or "\\" in target:
        return False
    if not target.startswith("/") or target.startswith("//"):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def redirect_to_next(default: str) -> Response:
    target = request.values.get("next")
    return redirect(target if is_safe_next(target) else default)


def current_actor() -> User:
    """The signed-in user as the services take them (the model, not Flask-Login's proxy)."""
    return current_user._get_current_object()


def remember_session(record: UserSession, key: str) -> None:
    """Make ``record`` the request's session and its holder signed in under ``key`` (the
    secret Flask-Login keeps as the user's id)."""
    record.user.session_key = key
    g.user_session = record


def current_session() -> UserSession | None:
    """The session record the signed-in user's request came with (``None`` when signed out)."""
    if not current_user.is_authenticated:
        return None
    record = g.get("user_session")
    return record if isinstance(record, UserSession) else None


def note_session_activity() -> None:
    """A ``before_request`` hook: note when, from where and with which browser the signed-in
    session was last seen (at most once a minute), committed at once and on its own, before
    the request's change, as the API does a token's last use. A remember-me cookie that finds
    nobody (its session ended) is cleared rather than tried on every request."""
    if request.endpoint is not None and request.endpoint.endswith("static"):
        return
    record = current_session()
    if record is None:
        cookie = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
        if cookie in request.cookies and session.get("_remember") != "clear":
            session["_remember"] = "clear"
        return
    if user_sessions.touch(
        record, ip_address=request.remote_addr, user_agent=request.user_agent.string
    ):
        db.session.commit()


class _ReasonedBadRequest(BadRequest):
    #: The error page shows this 400's description (see the error handlers in create_app).
    skillsup_reason = True


def bad_request(reason: str) -> NoReturn:
    """Answer 400 with ``reason`` shown on the error page (for input no form of ours sends)."""
    raise _ReasonedBadRequest(description=reason)


#: The furthest page of a list that ``?page=`` may ask for; further is that (empty) page.
MAX_PAGE = 100_000


class IdConverter(IntegerConverter):
    """The ``int`` of the URL maps: a whole number the database's INTEGER columns can hold
    (1 to :data:`MAX_ID` unless the rule says otherwise), else the address matches nothing and
    answers 404 without a query."""

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = 0,
        max: int | None = MAX_ID,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)

    def to_python(self, value: str) -> Any:
        # A very long run of digits is no id: refuse it before int() works through it.
        if len(value) > len(str(MAX_ID)) + 1:
            raise ValidationError()
        return super().to_python(value)


def page_number(name: str = "page") -> int:
    """The query argument ``name`` as a page number: a whole number from 1 (anything else is
    the first page), at most :data:`MAX_PAGE` (a page past the last one shows no rows)."""
    value = request.args.get(name, "")
    if not (value.isascii() and value.isdigit()) or int(value) < 1:
        return 1
    return min(int(value), MAX_PAGE) if len(value) <= 9 else MAX_PAGE


def _is_control(char: str, allowed: str) -> bool:
    code = ord(char)
    return (code < 32 or 127 <= code < 160) and char not in allowed


#: Characters that text typed in a form may hold although they are control characters.
MULTILINE_WHITESPACE = "\t\r\n"


def has_control_characters(text: str, allowed: str = "") -> bool:
    """Whether ``text`` holds a control character (NUL, ESC, DEL, C1...) not in ``allowed``."""
    return any(_is_control(char, allowed) for char in text)


def _json_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _json_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _json_strings(item)


def refuse_control_characters() -> None:
    """A ``before_request`` hook: answer 400, saying why, when the address, the query string,
    a form's text, an upload's file name or a JSON body holds a control character. No text the
    portal keeps may hold one (PostgreSQL refuses NUL outright), and only typed text, never an
    address, may break lines (a query string may hold a tab, as a pasted search may). The
    contents of uploaded files are not text of a form: their own readers check them."""
    texts: list[tuple[str, str]] = [(request.path, "")]
    # A tab is whitespace that a pasted search may hold, and harmless anywhere.
    texts += [(text, "\t") for item in request.args.items(multi=True) for text in item]
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        texts += [
            (text, MULTILINE_WHITESPACE) for item in request.form.items(multi=True) for text in item
        ]
        texts += [
            (upload.filename or "", "") for upload in request.files.values() if upload.filename
        ]
        if request.is_json:
            body = request.get_json(silent=True)
            texts += [(text, MULTILINE_WHITESPACE) for text in _json_strings(body)]
    if any(has_control_characters(text, allowed) for text, allowed in texts):
        bad_request(
            _(
                "The address or the form holds a character that is not allowed (a control "
                "character such as NUL). Remove it and try again."
            )
        )


class Work:
    """One unit of work of a request: what the service refused, if it did, and the messages
    to show once the change is saved."""

    def __init__(self) -> None:
        self.refusal: DomainError | None = None
        self._messages: list[tuple[str, str]] = []

    @property
    def succeeded(self) -> bool:
        return self.refusal is None

    @property
    def status_code(self) -> int:
        """The status to answer with when the view shows its page again: the refusal's."""
        return 200 if self.refusal is None else self.refusal.status_code

    def flash(self, message: Any, category: str = "success") -> None:
        """Show ``message`` once the change is saved (never for a change that was not)."""
        self._messages.append((str(message), category))


@contextmanager
def unit_of_work(
    form: FlaskForm | None = None,
    *,
    quietly: tuple[type[DomainError], ...] = (),
    dry_run: bool = False,
) -> Iterator[Work]:
    """Run a request's change as one unit: commit once when the block ends, or undo it.

    The block calls the services (which flush, never commit). When it ends normally the
    session commits, the e-mail the change queued leaves after the commit (the outbox's
    hook, :func:`skillsup.services.mail.install`), and the messages given to
    :meth:`Work.flash` are shown. When a service refuses (a :class:`DomainError`), everything
    the block changed is rolled back, so that nothing is half-saved, and the refusal is shown
    on the form field it names, else as a flash message, unless its class is in ``quietly``
    (the view shows it its own way, from :attr:`Work.refusal`); the view goes on after the
    block and tells success from refusal by :attr:`Work.succeeded`. Something the actor may
    not see is simply not there: a refusal with status 404 answers 404. Any other error rolls
    back and propagates. A ``dry_run`` (a preview) is rolled back even when it succeeds,
    ending its transaction and its locks before the page is rendered.
    """
    work = Work()
    try:
        yield work
    except DomainError as error:
        db.session.rollback()
        work.refusal = error
        if error.status_code == 404:
            abort(404)
        if not isinstance(error, quietly):
            _show_refusal(error, form)
        return
    except BaseException:
        db.session.rollback()
        raise
    if dry_run:
        db.session.rollback()
    else:
        try:
            db.session.commit()
        except BaseException:
            # A commit the database refused leaves the session unusable until rolled back,
            # and the error page needs it.
            db.session.rollback()
            raise
    for message, category in work._messages:
        flash(message, category)


def _show_refusal(error: DomainError, form: FlaskForm | None) -> None:
    if form is not None and error.field and error.field in form:
        form[error.field].errors = [*form[error.field].errors, str(error.message)]
    else:
        flash(str(error.message), "error")
