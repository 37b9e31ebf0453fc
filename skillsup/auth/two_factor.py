"""Two-factor sign-in pages: the second step of a sign-in (a one-time code, or a recovery
code, or setting it up for someone who must have it), and setting it up, making new recovery
codes and turning it off from one's account page.

The rules are in :mod:`skillsup.services.two_factor`; the pending sign-in these pages work
on in :mod:`skillsup.auth.signin`. Every code checked counts against the same limits as
passwords (per account and per address), failures only: a success gives its attempt back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import segno
from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from markupsafe import Markup
from werkzeug.wrappers import Response

from ..extensions import limiter
from ..forms import ActionForm
from ..models import User
from ..services import accounts, two_factor
from ..web import current_actor, home_url_for, unit_of_work
from . import views
from .forms import RecoveryCodeForm, TwoFactorCodeForm
from .signin import (
    PENDING_KEY,
    PendingSignIn,
    Stage,
    advance,
    carry_on_after_change,
    finish_sign_in,
    had_pending_sign_in,
    pending_sign_in,
)

#: A view function, as the limits decorate it.
View = Callable[..., Any]

#: The limits' buckets: per account (the person signing in, or signed in) and per address.
TWO_FACTOR_SCOPES = ("two-factor-account", "two-factor-address")

#: The page of each stage of a pending sign-in.
_STAGE_PAGES = {
    Stage.CODE: "auth.two_factor_code",
    Stage.SETUP: "auth.two_factor_setup",
    Stage.CODES_SHOWN: "auth.two_factor_continue",
}


# Limits --------------------------------------------------------------------------------------


def _per_account_limit() -> str:
    return str(current_app.config["LOGIN_LIMIT_PER_ACCOUNT"])


def _per_address_limit() -> str:
    return str(current_app.config["LOGIN_LIMIT_PER_ADDRESS"])


def _pending_user_id() -> int | None:
    pending = PendingSignIn.from_session(session.get(PENDING_KEY))
    return pending.user_id if pending is not None else None


def _account_key() -> str:
    user_id = current_user.id if current_user.is_authenticated else _pending_user_id()
    return f"two-factor-account:{user_id}"


def _no_sign_in_pending() -> bool:
    return current_user.is_authenticated or _pending_user_id() is None


def _signed_out() -> bool:
    return not current_user.is_authenticated


def _limited(exempt_when: Callable[[], bool]) -> Callable[[View], View]:
    """The two limits, shared by every page that checks a code (a guess on one counts on all),
    left out where no code can be checked (``exempt_when``)."""

    def decorate(view: View) -> View:
        view = limiter.shared_limit(
            _per_account_limit,
            scope=TWO_FACTOR_SCOPES[0],
            key_func=_account_key,
            methods=["POST"],
            exempt_when=exempt_when,
        )(view)
        return limiter.shared_limit(
            _per_address_limit,
            scope=TWO_FACTOR_SCOPES[1],
            methods=["POST"],
            exempt_when=exempt_when,
        )(view)

    return decorate


_sign_in_limits = _limited(_no_sign_in_pending)
_account_limits = _limited(_signed_out)


def _counted_failure(user: User, what: str) -> None:
    current_app.logger.warning(
        "failed two-factor %s for user %s from %s", what, user.id, request.remote_addr
    )


# Pieces of the pages -------------------------------------------------------------------------


def qr_code_svg(uri: str) -> Markup:
    """The QR code of ``uri`` as inline SVG (made here: no request leaves the portal)."""
    svg = segno.make(uri, error="m").svg_inline(
        scale=5,
        border=2,
        omitsize=True,
        svgclass="qr-code",
        lineclass=None,
        title=_("QR code to scan"),
    )
    return Markup(svg)  # noqa: S704 (segno's own markup: the URI is encoded, not embedded)


def _setup_key(user: User) -> two_factor.SetupKey:
    """The key ``user`` is setting up; a new one if they have none yet."""
    key = two_factor.pending_setup(user)
    if key is not None:
        return key
    with unit_of_work():
        key = two_factor.start_setup(user)
    return key


def _setup_page(
    user: User, form: TwoFactorCodeForm, *, for_sign_in: bool, status: int
) -> tuple[str, int]:
    key = _setup_key(user)
    return (
        render_template(
            "auth/two_factor_setup.html",
            form=form,
            key=key,
            qr_code=qr_code_svg(key.uri),
            for_sign_in=for_sign_in,
            required=two_factor.is_required_for(user),
            person=user,
        ),
        status,
    )


def _recovery_codes_page(codes: Sequence[str], *, for_sign_in: bool, new: bool) -> Response:
    """The recovery codes, shown this once: never kept by a cache or the browser's history."""
    response = Response(
        render_template(
            "auth/recovery_codes.html",
            codes=codes,
            codes_text="\n".join(codes) + "\n",
            for_sign_in=for_sign_in,
            new=new,
            continue_form=ActionForm(),
        ),
        mimetype="text/html",
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def _status(form: TwoFactorCodeForm | RecoveryCodeForm) -> int:
    return 400 if form.is_submitted() else 200


# The second step of a sign-in ----------------------------------------------------------------


def _pending(*stages: Stage) -> tuple[PendingSignIn, User] | Response:
    """The pending sign-in at one of ``stages``, else where to go: home when signed in, the
    stage's own page, or the login page (saying so when the sign-in has expired)."""
    if current_user.is_authenticated:
        return redirect(home_url_for(current_user))
    had_one = had_pending_sign_in()
    found = pending_sign_in()
    if found is None:
        if had_one:
            flash(_("Your sign-in has expired. Log in again."), "info")
        return redirect(url_for("auth.login"))
    pending, _user = found
    if pending.stage not in stages:
        return redirect(url_for(_STAGE_PAGES[Stage(pending.stage)]))
    return found


@_sign_in_limits
def two_factor_code() -> tuple[str, int] | Response:
    """Ask for the one-time code of someone signing in."""
    found = _pending(Stage.CODE)
    if isinstance(found, Response):
        return found
    pending, user = found
    form = TwoFactorCodeForm()
    status = _status(form)
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            two_factor.verify_code(user, form.code.data)
        if work.succeeded:
            views._give_back_login_attempts(TWO_FACTOR_SCOPES)
            return finish_sign_in(pending, user)
        _counted_failure(user, "code")
        status = work.status_code
    elif form.is_submitted():
        _counted_failure(user, "code (malformed)")
    return render_template("auth/two_factor.html", form=form), status


@_sign_in_limits
def two_factor_recovery() -> tuple[str, int] | Response:
    """Sign in with a recovery code in place of a one-time code."""
    found = _pending(Stage.CODE)
    if isinstance(found, Response):
        return found
    pending, user = found
    form = RecoveryCodeForm()
    status = _status(form)
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            left = two_factor.use_recovery_code(user, form.recovery_code.data)
        if work.succeeded:
            views._give_back_login_attempts(TWO_FACTOR_SCOPES)
            answer = finish_sign_in(pending, user)
            flash(
                ngettext(
                    "You signed in with a recovery code: %(num)d is left. Make new ones "
                    "from your account page.",
                    "You signed in with a recovery code: %(num)d are left. Make new ones "
                    "from your account page if you are running out.",
                    left,
                ),
                "warning" if left <= 3 else "info",
            )
            return answer
        _counted_failure(user, "recovery code")
        status = work.status_code
    elif form.is_submitted():
        _counted_failure(user, "recovery code (malformed)")
    return render_template("auth/two_factor_recovery.html", form=form), status


@_sign_in_limits
def two_factor_setup() -> tuple[str, int] | Response:
    """Set two-factor sign-in up, for an admin or HR officer who must have it before they
    reach any page; then their recovery codes, shown once."""
    found = _pending(Stage.SETUP)
    if isinstance(found, Response):
        return found
    pending, user = found
    form = TwoFactorCodeForm()
    status = _status(form)
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            codes = two_factor.confirm_setup(user, form.code.data)
        if work.succeeded:
            views._give_back_login_attempts(TWO_FACTOR_SCOPES)
            advance(pending, Stage.CODES_SHOWN)
            return _recovery_codes_page(codes, for_sign_in=True, new=False)
        _counted_failure(user, "setup code")
        status = work.status_code
    return _setup_page(user, form, for_sign_in=True, status=status)


def two_factor_continue() -> tuple[str, int] | Response:
    """Once the recovery codes have been shown: start the session (POST), or say that
    two-factor sign-in is set up and offer to go on (GET, after a reload)."""
    found = _pending(Stage.CODES_SHOWN)
    if isinstance(found, Response):
        return found
    pending, user = found
    form = ActionForm()
    if form.validate_on_submit():
        return finish_sign_in(pending, user)
    return render_template("auth/two_factor_continue.html", form=form), _status(form)


# One's own account ---------------------------------------------------------------------------


@login_required
@_account_limits
def account_two_factor_setup() -> tuple[str, int] | Response:
    """Set two-factor sign-in up from one's account page (anyone); then the recovery codes,
    shown once. Ends every other session of the person."""
    user = current_actor()
    if user.two_factor_enabled:
        flash(_("Two-factor sign-in is already turned on."), "info")
        return redirect(url_for("auth.account") + "#two-factor")
    form = TwoFactorCodeForm()
    status = _status(form)
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            codes = two_factor.confirm_setup(user, form.code.data)
            accounts.end_all_sessions(user)
        if work.succeeded:
            views._give_back_login_attempts(TWO_FACTOR_SCOPES)
            carry_on_after_change(user)
            flash(
                _(
                    "Two-factor sign-in is on. You have been logged out everywhere else; "
                    "from now on you will be asked for a code when you log in."
                ),
                "success",
            )
            return _recovery_codes_page(codes, for_sign_in=False, new=False)
        status = work.status_code
    return _setup_page(user, form, for_sign_in=False, status=status)


@login_required
@_account_limits
def account_recovery_codes() -> tuple[str, int] | Response:
    """Replace one's recovery codes (after a current code); the new ones are shown once.
    Ends every other session of the person."""
    user = current_actor()
    form = TwoFactorCodeForm(prefix="renew")
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            codes = two_factor.regenerate_recovery_codes(user, form.code.data)
            accounts.end_all_sessions(user)
        if work.succeeded:
            views._give_back_login_attempts(TWO_FACTOR_SCOPES)
            carry_on_after_change(user)
            flash(
                _(
                    "You have new recovery codes: the old ones no longer work. You have "
                    "been logged out everywhere else."
                ),
                "success",
            )
            return _recovery_codes_page(codes, for_sign_in=False, new=True)
        _counted_failure(user, "code to renew recovery codes")
        return views.two_factor_account_page(renew_form=form), work.status_code
    return views.two_factor_account_page(renew_form=form), 400


@login_required
@_account_limits
def account_two_factor_off() -> tuple[str, int] | Response:
    """Turn one's own two-factor sign-in off (after a current code), unless one's role must
    use it. Ends every other session of the person."""
    user = current_actor()
    form = TwoFactorCodeForm(prefix="off")
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            two_factor.turn_off(user, form.code.data)
            accounts.end_all_sessions(user)
        if work.succeeded:
            views._give_back_login_attempts(TWO_FACTOR_SCOPES)
            carry_on_after_change(user)
            flash(
                _(
                    "Two-factor sign-in is off: you log in with your password alone. You "
                    "have been logged out everywhere else."
                ),
                "success",
            )
            return redirect(url_for("auth.account") + "#two-factor")
        _counted_failure(user, "code to turn two-factor sign-in off")
        return views.two_factor_account_page(off_form=form), work.status_code
    return views.two_factor_account_page(off_form=form), 400
