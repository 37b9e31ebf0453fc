"""Signing in and out, registration, invitations, password resets and one's own account."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from .. import permissions
from ..extensions import limiter
from ..forms import ActionForm
from ..links import PortalLinks
from ..models import User, normalise_email
from ..services import accounts, calendar, people, subsidy
from ..services.errors import AccountUnavailable, InvalidCredentials, InvalidToken
from ..services.tokens import Purpose, user_for_token
from ..web import current_actor, home_url_for, redirect_to_next, unit_of_work
from .forms import (
    CefUsedElsewhereForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    ProfileForm,
    RegisterForm,
    SetPasswordForm,
)


def _login_account_key() -> str:
    return "login-account:" + normalise_email(request.form.get("email", ""))[:254]


_LOGIN_SCOPES = ("login-account", "login-address")


def _give_back_login_attempts() -> None:
    """Give back what a successful sign-in counted against the login limits.

    Each attempt is counted before its password is checked (Flask-Limiter's ``hit``, an
    atomic increment in its storage), and one over the limit is refused (429) without the
    check: counted after the answer instead, parallel guesses were all checked before the
    first of them was counted. Only failures are meant to count, so a success takes its own
    attempt back, and someone who signs in is never locked out by their earlier successes.
    """
    storage = limiter.limiter.storage
    for counted in limiter.current_limits:
        # The bucket is named "<endpoint>:<scope>" (Flask-Limiter's scope_for).
        if counted.breached or counted.request_args[-1].rpartition(":")[2] not in _LOGIN_SCOPES:
            continue
        # Not below none, should the window have ended meanwhile.
        if storage.get(counted.key) > 0:
            storage.incr(counted.key, counted.limit.get_expiry(), amount=-1)


def _per_account_limit() -> str:
    return str(current_app.config["LOGIN_LIMIT_PER_ACCOUNT"])


def _per_address_limit() -> str:
    return str(current_app.config["LOGIN_LIMIT_PER_ADDRESS"])


def _start_session(user: User, remember: bool = False) -> None:
    # A fresh session on every login, so that a planted session id is worthless.
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    login_user(user, remember=remember)
    session.permanent = True


@limiter.limit(
    _per_account_limit, key_func=_login_account_key, methods=["POST"], scope=_LOGIN_SCOPES[0]
)
@limiter.limit(_per_address_limit, methods=["POST"], scope=_LOGIN_SCOPES[1])
def login() -> str | Response:
    if current_user.is_authenticated:
        return redirect(home_url_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        with unit_of_work(quietly=(InvalidCredentials, AccountUnavailable)) as work:
            user = accounts.authenticate(form.email.data or "", form.password.data or "")
        if work.refusal is None:
            _give_back_login_attempts()
            _start_session(user, remember=bool(form.remember.data))
            current_app.logger.info("login: user %s from %s", user.id, request.remote_addr)
            return redirect_to_next(home_url_for(user))
        current_app.logger.warning(
            "failed login for %s from %s: %s",
            normalise_email(form.email.data or ""),
            request.remote_addr,
            type(work.refusal).__name__,
        )
        form.form_errors.append(str(work.refusal.message))
    return render_template("auth/login.html", form=form)


@login_required
def logout() -> Response:
    form = ActionForm()
    if form.validate_on_submit():
        user = current_actor()
        with unit_of_work():
            accounts.end_all_sessions(user)
        current_app.logger.info("logout: user %s", user.id)
        language = str(get_locale() or "en")
        logout_user()
        session.clear()
        # The person goes on reading in their language: the message below and the pages after.
        session["lang"] = language
        flash(_("You have logged out."), "success")
    return redirect(url_for("main.index"))


@limiter.limit("20 per hour", methods=["POST"], scope="register")
def register() -> str | Response:
    if current_user.is_authenticated:
        return redirect(home_url_for(current_user))
    form = RegisterForm()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            accounts.register_learner(
                form.email.data or "",
                form.name.data or "",
                form.password.data or "",
                links=PortalLinks(),
            )
            work.flash(_("Check your inbox: we have sent you a link to confirm your address."))
        if work.succeeded:
            return redirect(url_for("auth.login"))
    return render_template("auth/register.html", form=form)


def confirm_email(token: str) -> str | tuple[str, int] | Response:
    form = ActionForm()
    try:
        user_for_token(token, Purpose.CONFIRM_EMAIL)
    except InvalidToken as error:
        return render_template("auth/invalid_link.html", message=error.message), 400
    if form.validate_on_submit():
        with unit_of_work() as work:
            accounts.confirm_email(token)
            work.flash(_("Your address is confirmed. You can log in now."))
        return redirect(url_for("auth.login") if work.succeeded else request.path)
    return render_template("auth/confirm_email.html", form=form)


def confirm_email_change(token: str) -> str | tuple[str, int] | Response:
    form = ActionForm()
    try:
        user = user_for_token(token, Purpose.CHANGE_EMAIL)
    except InvalidToken as error:
        return render_template("auth/invalid_link.html", message=error.message), 400
    if user.pending_email is None:
        return render_template("auth/invalid_link.html", message=InvalidToken().message), 400
    if form.validate_on_submit():
        with unit_of_work() as work:
            people.confirm_email_change(token)
            work.flash(_("Your new e-mail address is confirmed: use it to log in from now on."))
        if not work.succeeded:
            return redirect(request.path)
        return redirect(
            home_url_for(current_user) if current_user.is_authenticated else url_for("auth.login")
        )
    return render_template(
        "auth/confirm_email_change.html", form=form, new_email=user.pending_email
    )


def accept_invitation(token: str) -> str | tuple[str, int] | Response:
    try:
        invitee = user_for_token(token, Purpose.INVITATION)
    except InvalidToken as error:
        return render_template("auth/invalid_link.html", message=error.message), 400
    form = SetPasswordForm()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            user = accounts.accept_invitation(token, form.password.data or "")
        if work.succeeded:
            _start_session(user)
            flash(_("Welcome to SkillsUp, %(name)s.", name=user.name), "success")
            return redirect(home_url_for(user))
    return render_template("auth/accept_invitation.html", form=form, invitee=invitee)


@limiter.limit("10 per hour", methods=["POST"], scope="forgot-password")
def forgot_password() -> str | Response:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            accounts.request_password_reset(form.email.data or "")
            work.flash(
                _(
                    "If that address has an account, we have sent it a link to reset the "
                    "password. The link works for one hour."
                )
            )
        if work.succeeded:
            return redirect(url_for("auth.login"))
    return render_template("auth/forgot_password.html", form=form)


def reset_password(token: str) -> str | tuple[str, int] | Response:
    try:
        user_for_token(token, Purpose.PASSWORD_RESET)
    except InvalidToken as error:
        return render_template("auth/invalid_link.html", message=error.message), 400
    form = SetPasswordForm()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            accounts.reset_password(token, form.password.data or "")
        if work.succeeded:
            logout_user()
            session.clear()
            flash(_("Your password has been changed. Log in with the new one."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form)


def _saved_profile_form() -> ProfileForm:
    """The profile form as saved, whatever this request posted: a checkbox a POST for another
    form leaves out must not show as unticked."""
    form = ProfileForm(formdata=None, obj=current_user)
    form.preferred_language.data = current_user.preferred_language or ""
    return form


@login_required
def account() -> str:
    return _account_page(_saved_profile_form(), ChangePasswordForm())


@login_required
def cef_used_elsewhere() -> tuple[str, int] | Response:
    """Enter, change or clear the Continuing Education Fund subsidy used elsewhere."""
    me = current_actor()
    if not permissions.can_enter_cef_used_elsewhere(me):
        abort(403)
    form = CefUsedElsewhereForm()
    if "clear" in request.form:
        # Clearing ignores whatever is in the box.
        form.cef_subsidy_used_elsewhere.process_formdata([""])
        form.cef_subsidy_used_elsewhere.raw_data = [""]
    if form.validate_on_submit():
        amount = (form.cef_subsidy_used_elsewhere.data or "").strip() or None
        with unit_of_work(form) as work:
            subsidy.set_cef_used_elsewhere(me, me, amount)
            work.flash(
                _("The CEF subsidy you used elsewhere has been saved.")
                if amount is not None
                else _("The CEF subsidy you used elsewhere has been cleared.")
            )
        if work.succeeded:
            return redirect(url_for("auth.account") + "#cef")
    return _account_page(_saved_profile_form(), ChangePasswordForm(), form), 400


@login_required
def update_profile() -> tuple[str, int] | Response:
    profile_form = ProfileForm()
    if profile_form.validate_on_submit():
        with unit_of_work(profile_form) as work:
            accounts.update_preferences(
                current_actor(),
                name=profile_form.name.data or "",
                preferred_language=profile_form.preferred_language.data,
                wants_reminders=bool(profile_form.wants_reminders.data),
                wants_attendance_warnings=bool(profile_form.wants_attendance_warnings.data),
            )
            work.flash(_("Your details have been saved."))
        if work.succeeded:
            return redirect(url_for("auth.account"))
    return _account_page(profile_form, ChangePasswordForm()), 400


@login_required
def change_password() -> tuple[str, int] | Response:
    password_form = ChangePasswordForm()
    if password_form.validate_on_submit():
        user = current_actor()
        with unit_of_work(password_form) as work:
            accounts.change_password(
                user, password_form.current_password.data or "", password_form.password.data or ""
            )
        if work.succeeded:
            # Every other session has ended; this one goes on under the new version.
            _start_session(user)
            flash(
                _("Your password has been changed. You have been logged out everywhere else."),
                "success",
            )
            return redirect(url_for("auth.account"))
    return _account_page(_saved_profile_form(), password_form), 400


@login_required
def calendar_feed() -> Response:
    """Create the private calendar feed address, or replace it with a new one."""
    if not ActionForm().validate_on_submit():
        abort(400)
    user = current_actor()
    had_one = bool(user.calendar_token)
    with unit_of_work() as work:
        calendar.reset_token(user)
        if had_one:
            work.flash(_("Your calendar feed has a new address. The old one no longer works."))
        else:
            work.flash(_("Your calendar feed is ready. Copy its address into your calendar app."))
    return redirect(url_for("auth.account") + "#calendar")


def _account_page(
    profile_form: ProfileForm,
    password_form: ChangePasswordForm,
    cef_form: CefUsedElsewhereForm | None = None,
) -> str:
    user = current_actor()
    if not permissions.can_enter_cef_used_elsewhere(user):
        cef_form = None
    elif cef_form is None:
        # The amount as saved, whatever this request posted.
        cef_form = CefUsedElsewhereForm(formdata=None)
        saved = user.cef_subsidy_used_elsewhere
        cef_form.cef_subsidy_used_elsewhere.data = "" if saved is None else f"{saved:.2f}"
    feed_url = webcal_url = None
    if user.calendar_token:
        feed_url = url_for("main.calendar_feed", token=user.calendar_token, _external=True)
        webcal_url = _subscribe_url(feed_url)
    return render_template(
        "auth/account.html",
        profile_form=profile_form,
        password_form=password_form,
        feed_url=feed_url,
        webcal_url=webcal_url,
        calendar_form=ActionForm(),
        cef_form=cef_form,
        cef_cap=subsidy.cef_lifetime_cap() if cef_form is not None else None,
    )


def _subscribe_url(feed_url: str) -> str:
    """The feed's address with the ``webcal`` scheme: the same host and path, which a calendar
    app opened from the link subscribes to (it fetches it over HTTP(S) itself)."""
    return urlunsplit(urlsplit(feed_url)._replace(scheme="webcal"))
