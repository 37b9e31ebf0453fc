"""What the browser tests share: the live server, logging in, and checks a person would make.

The live server is the real application served on localhost by a thread, against a fresh
SQLite database seeded with the demo data. Tests add the data their journey needs through
:meth:`LiveServer.app_context` and the model classes, and look at it through a browser.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, got_request_exception
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

#: Where Debian's package puts the browser; the tests never download one.
CHROMIUM_PATH = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
INSTALL_HINT = "apt-get install chromium fonts-noto-cjk"
PYTHON_PACKAGES = "playwright axe-playwright-python"
REQUIRE_BROWSER_VARIABLE = "SKILLSUP_REQUIRE_BROWSER"

#: Every demo account signs in with it (see skillsup/devdata/demo).
DEMO_PASSWORD = "skillsup-demo"
ADMIN = "admin@skillsup.test"
TRAINER = "trainer@skillsup.test"
HR_A = "hr@partner-a.test"
HR_B = "hr@partner-b.test"
LEARNER_A = "learner@partner-a.test"
LEARNER_B = "learner@partner-b.test"

#: The live server's settings: the real application, with CSRF protection on (a real browser
#: posts real forms) and e-mail written to the log.
BROWSER_CONFIG: dict[str, Any] = {
    "SKILLSUP_ENV": "testing",
    "SECRET_KEY": "browser-tests-secret-key-that-is-long-enough",
    "MAIL_SERVER": None,
    "MAIL_DELIVER_IN_REQUEST": True,
}

#: Axe findings of these impacts fail a page.
BLOCKING_IMPACTS = ("serious", "critical")


def browser_missing_reason(path: str = CHROMIUM_PATH) -> str | None:
    """Why the browser tests cannot run here, or ``None`` when they can."""
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        return (
            f"Chromium is not installed at {path}: install it with `{INSTALL_HINT}` "
            "to run the browser tests"
        )
    try:
        import axe_playwright_python  # noqa: F401
        import playwright.sync_api  # noqa: F401
    except ImportError as error:
        return (
            f"the browser test libraries are missing ({error.name}): install them with "
            f"`pip install {PYTHON_PACKAGES}`"
        )
    return None


def browser_required(environ: dict[str, str] | None = None) -> bool:
    """Whether a missing browser fails the run instead of skipping the browser tests."""
    environ = dict(os.environ if environ is None else environ)
    return environ.get(REQUIRE_BROWSER_VARIABLE, "").strip().lower() in {"1", "true", "yes"}


def skip_without_playwright() -> None:
    """Skip a test module when Playwright is not installed, unless the browser is required:
    then the module's own import of it fails the run."""
    if not browser_required():
        pytest.importorskip(
            "playwright.sync_api",
            reason=f"the browser tests need `pip install {PYTHON_PACKAGES}`",
        )


# The live server ---------------------------------------------------------------------------


class _QuietHandler(WSGIRequestHandler):
    """Werkzeug's request handler without a log line per request."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


def _buffered(app: Flask) -> Any:
    """The application, with each response read whole before it is sent.

    Werkzeug's development server leaves a streamed file (a style sheet, say) open when the
    browser drops the connection half-way, as a closing context may; the ResourceWarning
    would then fail whichever test is running. Read whole, the file is closed in time.
    """

    def application(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        result = app(environ, start_response)
        try:
            return list(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()

    return application


@dataclass
class LiveServer:
    """The application served on ``url``; ``errors`` collects exceptions raised by requests."""

    app: Flask
    url: str
    errors: list[str] = field(default_factory=list)
    _server: BaseWSGIServer | None = None
    _thread: threading.Thread | None = None

    @classmethod
    def start(cls, app: Flask) -> LiveServer:
        server = make_server(
            "127.0.0.1", 0, _buffered(app), threaded=True, request_handler=_QuietHandler
        )
        live = cls(app=app, url=f"http://127.0.0.1:{server.server_port}", _server=server)

        def record(_sender: Any, exception: BaseException, **_extra: Any) -> None:
            live.errors.append(f"{type(exception).__name__}: {exception}")

        got_request_exception.connect(record, app, weak=False)
        live._thread = threading.Thread(
            target=server.serve_forever, name="skillsup-live-server", daemon=True
        )
        live._thread.start()
        return live

    def stop(self) -> None:
        from skillsup.extensions import db

        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        with self.app.app_context():
            db.engine.dispose()

    @contextmanager
    def app_context(self) -> Iterator[None]:
        """The application's context in the test's own thread, for setting up and checking."""
        from skillsup.extensions import db

        with self.app.app_context():
            try:
                yield
            finally:
                db.session.remove()


def serve_demo(
    database: Path, config: Mapping[str, Any] | None = None, today: date | None = None
) -> LiveServer:
    """Serve the application on a free local port over a fresh SQLite database at
    ``database``, seeded with the demo data (anchored on ``today``, by default Hong Kong's).
    ``config`` adds to or overrides :data:`BROWSER_CONFIG`."""
    from skillsup import create_app
    from skillsup.devdata.demo import seed_demo
    from skillsup.extensions import db

    app = create_app(
        {**BROWSER_CONFIG, **(config or {}), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}"}
    )
    with app.app_context():
        db.create_all()
        seed_demo(today)
        db.session.commit()
        db.session.remove()
    return LiveServer.start(app)


# Browser contexts --------------------------------------------------------------------------

#: How long a browser action may wait before the test fails (milliseconds).
ACTION_TIMEOUT_MS = 10_000


class Browsing:
    """Opens browser contexts on the live server, logged in or not, that report problems.

    The cookies of a logged-in session are made once per account and run, by the login form.
    No test logs out: logging out ends every session of the account, these included.
    """

    def __init__(self, browser: Any, server: LiveServer) -> None:
        self.browser = browser
        self.server = server
        self._states: dict[str, dict[str, Any]] = {}

    def signed_in_state(self, email: str, password: str = DEMO_PASSWORD) -> dict[str, Any]:
        """The cookies of a session of ``email``, for a new context's ``storage_state``."""
        if email not in self._states:
            context = self.browser.new_context(base_url=self.server.url, locale="en-GB")
            context.set_default_timeout(ACTION_TIMEOUT_MS)
            log_in(context.new_page(), email, password)
            self._states[email] = context.storage_state()
            context.close()
        return self._states[email]

    def new_context(
        self,
        problems: list[str],
        *,
        as_user: str | None = None,
        locale: str = "en-GB",
        axe: bool = False,
        **options: Any,
    ) -> Any:
        """A new context; what goes wrong in its pages is added to ``problems``: a response
        of 500 or more, a style sheet, script or image that fails to load, a Content Security
        Policy violation, a JavaScript error."""
        if as_user is not None:
            options["storage_state"] = self.signed_in_state(as_user)
        context = self.browser.new_context(
            base_url=self.server.url, locale=locale, timezone_id="Asia/Hong_Kong", **options
        )
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        if axe:
            context.add_init_script(script=axe_source())

        def on_console(message: Any) -> None:
            if message.type == "error" and (
                "Content Security Policy" in message.text or "Refused to" in message.text
            ):
                problems.append(f"console: {message.text}")

        def on_response(response: Any) -> None:
            kind = response.request.resource_type
            if response.status >= 500:
                problems.append(f"{response.status} from {response.request.method} {response.url}")
            elif response.status >= 400 and kind != "document":
                problems.append(f"{response.status} for a {kind}: {response.url}")

        context.on("console", on_console)
        context.on("weberror", lambda error: problems.append(f"JavaScript error: {error.error}"))
        context.on("response", on_response)
        return context


# Surveys of many pages -----------------------------------------------------------------------


@dataclass
class Finding:
    """What a survey found on one page: ``result`` from its check, or the ``error`` that
    stopped it, and the problems the browser saw meanwhile."""

    url: str = ""
    result: Any = None
    problems: list[str] = field(default_factory=list)
    error: str | None = None


def survey(
    browsing: Browsing,
    cases: Sequence[tuple[str, str | None, Any]],
    visit: Callable[[Any, Any], None],
    collect: Callable[[Any, Any], Any],
    *,
    lanes: int = 2,
    **options: Any,
) -> dict[str, Finding]:
    """Check many pages quickly: ``cases`` are (key, account or None, case).

    The cases of an account are shared out among ``lanes`` contexts (each a browser process
    of its own), each reusing one page: in every round each lane runs ``visit`` (open the
    page and start the check), then each lane runs ``collect`` (wait for the check's
    result), so that the lanes' checks run at the same time. ``options`` go to every context.
    """
    findings: dict[str, Finding] = {}
    by_account: dict[str | None, list[tuple[str, Any]]] = {}
    for key, account, case in cases:
        by_account.setdefault(account, []).append((key, case))
    for account, members in by_account.items():
        pages: list[tuple[Any, list[str]]] = []
        try:
            for _ in range(min(lanes, len(members))):
                problems: list[str] = []
                context = browsing.new_context(problems, as_user=account, **options)
                pages.append((context.new_page(), problems))
            for first in range(0, len(members), len(pages)):
                round_ = list(zip(pages, members[first : first + len(pages)], strict=False))
                errors_before = len(browsing.server.errors)
                started = []
                for (page, problems), (key, case) in round_:
                    problems.clear()
                    finding = findings[key] = Finding()
                    try:
                        visit(page, case)
                    except Exception as error:
                        finding.error = f"{type(error).__name__}: {error}"
                    else:
                        started.append((page, case, finding))
                for page, case, finding in started:
                    try:
                        finding.url = page.url
                        finding.result = collect(page, case)
                    except Exception as error:
                        finding.error = f"{type(error).__name__}: {error}"
                raised = [f"the server raised: {e}" for e in browsing.server.errors[errors_before:]]
                for (_page, problems), (key, _case) in round_:
                    findings[key].problems.extend([*problems, *raised])
        finally:
            for page, _problems in pages:
                page.context.close()
    return findings


# Small screens -----------------------------------------------------------------------------

#: A phone's screen, as Playwright's options of a context.
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}

# What is wider than the screen, and what is positioned inside a table's scrolling box
# (.table-wrap) but placed relative to something outside it, so that the box cannot hold it:
# such an element widens the page whenever it sits in the part of the table scrolled away.
PHONE_FIT = """() => {
  const width = document.documentElement.clientWidth;
  const name = (el) => el.tagName.toLowerCase() + (el.className ? '.' + el.className : '');
  const wide = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.getBoundingClientRect().right > width + 1 && !el.closest('.table-wrap')) {
      wide.push(name(el));
    }
  }
  const escaping = [];
  for (const wrap of document.querySelectorAll('.table-wrap')) {
    for (const el of wrap.querySelectorAll('td *, th *')) {
      if (!['absolute', 'fixed'].includes(getComputedStyle(el).position)) continue;
      let holder = el.parentElement;
      while (holder && getComputedStyle(holder).position === 'static') {
        holder = holder.parentElement;
      }
      if (!holder || !wrap.contains(holder)) {
        escaping.push(`${name(el)} "${el.textContent.trim().slice(0, 40)}"`);
      }
    }
  }
  return {
    page: document.documentElement.scrollWidth,
    screen: width,
    wide: wide.slice(0, 5),
    escaping: escaping.slice(0, 3),
    escapingCount: escaping.length,
  };
}"""


# In the browser ----------------------------------------------------------------------------


def log_in(page: Any, email: str, password: str = DEMO_PASSWORD) -> None:
    """Log in through the login form, as a person would, and wait for the home page."""
    from playwright.sync_api import expect

    page.goto("/login")
    # E-mail first: the address decides where the person signs in, then the password.
    page.get_by_label("E-mail address").fill(email)
    page.get_by_role("button", name="Continue", exact=True).click()
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page).not_to_have_url(re.compile(r"/login"))


def switch_language(page: Any, language_name: str) -> None:
    """Press the language button in the header (it posts to /language) and wait for the page."""
    with page.expect_navigation():
        page.locator("form.language-switch").get_by_role("button", name=language_name).click()


AXE_START = """(impacts) => {
  window.__skillsupAxe = axe.run(document, {resultTypes: ['violations']}).then(
    (results) => results.violations.filter((violation) => impacts.includes(violation.impact))
  );
}"""
AXE_RESULT = "() => window.__skillsupAxe"


def axe_source() -> str:
    """axe-core's script, as shipped with axe-playwright-python."""
    if not _AXE_SOURCE:
        from axe_playwright_python.sync_playwright import Axe

        _AXE_SOURCE.append(Axe().axe_script)
    return _AXE_SOURCE[0]


_AXE_SOURCE: list[str] = []


def start_axe(page: Any) -> None:
    """Start axe-core on the current page without waiting for it: pages of other contexts
    (other browser processes) can be checked meanwhile. :func:`axe_result` collects it.

    axe-core is injected through the DevTools protocol, which the page's Content Security
    Policy does not govern; a context opened with ``axe=True`` has it in every page already.
    """
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source())
    page.evaluate(AXE_START, list(BLOCKING_IMPACTS))


def axe_result(page: Any) -> list[dict[str, Any]]:
    """The serious or critical findings of the axe-core run started on ``page``."""
    return page.evaluate(AXE_RESULT)  # type: ignore[no-any-return]


def describe_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:5]:
            lines.append(f"    {', '.join(map(str, node['target']))}: {node['html'][:160]}")
        if len(violation["nodes"]) > 5:
            lines.append(f"    ... and {len(violation['nodes']) - 5} more")
    return "\n".join(lines)


FOCUS_STATE_SCRIPT = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const visible = (node) => {
    const style = getComputedStyle(node);
    const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
    const shadow = style.boxShadow && style.boxShadow !== 'none';
    return outline || shadow;
  };
  // A radio button or checkbox may show its focus on the label around it.
  const holder = el.closest('label, .mark-option');
  const all = Array.from(document.querySelectorAll('*'));
  const box = el.getBoundingClientRect();
  return {
    tag: el.tagName.toLowerCase(),
    type: el.getAttribute('type') || '',
    name: el.getAttribute('name') || '',
    value: el.value === undefined ? '' : String(el.value),
    text: (el.innerText || el.getAttribute('aria-label') || el.value || '').trim().slice(0, 80),
    href: el.getAttribute('href') || '',
    order: all.indexOf(el),
    focusVisible: el.matches(':focus-visible'),
    ringVisible: visible(el) || (holder !== null && visible(holder)),
    onScreen: box.width > 0 && box.height > 0 && box.right > 0 && box.bottom > 0
      && box.left < window.innerWidth && box.top < window.innerHeight,
  };
}"""


def focus_state(page: Any) -> dict[str, Any] | None:
    """What has the keyboard focus: its tag, text and place in the page, and whether it shows."""
    return page.evaluate(FOCUS_STATE_SCRIPT)  # type: ignore[no-any-return]


def tab_until(page: Any, matches: Any, limit: int = 80) -> list[dict[str, Any]]:
    """Press Tab until ``matches(state)`` holds; every stop on the way is returned, in order."""
    stops: list[dict[str, Any]] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        state = focus_state(page)
        if state is None:
            continue
        stops.append(state)
        if matches(state):
            return stops
    raise AssertionError(
        f"{limit} presses of Tab never reached the control; the focus went through: "
        + ", ".join(f"{s['tag']} {s['text']!r}" for s in stops)
    )


def assert_focus_path(stops: list[dict[str, Any]]) -> None:
    """Each stop shows a focus ring, is on screen, and follows the one before it in the page."""
    hidden = [s for s in stops if not s["ringVisible"]]
    assert not hidden, "focus is not visible on: " + ", ".join(
        f"{s['tag']} {s['text']!r}" for s in hidden
    )
    off_screen = [s for s in stops if not s["onScreen"]]
    assert not off_screen, "focus went to elements off screen: " + ", ".join(
        f"{s['tag']} {s['text']!r}" for s in off_screen
    )
    orders = [s["order"] for s in stops]
    assert orders == sorted(orders), "the focus jumps back and forth: " + ", ".join(
        f"{s['tag']} {s['text']!r}" for s in stops
    )
