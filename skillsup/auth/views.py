"""Signing in and out, registration, invitations, password resets and one's own account."""

from __future__ import annotations

from dataclasses import dataclass
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
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user
from werkzeug.wrappers import Response

from .. import permissions
from ..devices import device_name
from ..extensions import db, limiter
from ..forms import ActionForm
from ..labels import label
from ..links import PortalLinks
from ..models import CompanyIdentityProvider, SignInMethod, User, UserSession, normalise_email
from ..services import (
    accounts,
    calendar,
    people,
    single_sign_on,
    sso_providers,
    subsidy,
    two_factor,
    user_sessions,
)
from ..services.errors import (
    AccountUnavailable,
    DomainError,
    InvalidCredentials,
    InvalidToken,
    NotFound,
    ProviderUnavailable,
    SignInRefused,
)
from ..services.single_sign_on import ProviderSignIn
from ..services.tokens import Purpose, user_for_token
from ..web import current_actor, current_session, home_url_for, unit_of_work
from .forms import (
    CefUsedElsewhereForm,
    ChangePasswordForm,
    EmailStepForm,
    ForgotPasswordForm,
    LoginForm,
    ProfileForm,
    RegisterForm,
    SetPasswordForm,
    TwoFactorCodeForm,
)
from .signin import carry_on_after_change, complete_first_factor

#: The ways of signing in the account page has words for.
SIGN_IN_METHODS = frozenset(method.value for method in SignInMethod)


def _login_account_key() -> str:
    return "login-account:" + normalise_email(request.form.get("email", ""))[:254]


_LOGIN_SCOPES = ("login-account", "login-address")


def _give_back_login_attempts(scopes: tuple[str, ...] = _LOGIN_SCOPES) -> None:
    """Give back what a successful sign-in counted against the login limits (or the limits
    of ``scopes``: the two-factor pages count codes as this counts passwords).

    Each attempt is counted before its password is checked (Flask-Limiter's ``hit``, an
    atomic increment in its storage), and one over the limit is refused (429) without the
    check: counted after the answer instead, parallel guesses were all checked before the
    first of them was counted. Only failures are meant to count, so a success takes its own
    attempt back, and someone who signs in is never locked out by their earlier successes.
    """
    storage = limiter.limiter.storage
    for counted in limiter.current_limits:
        # The bucket is named "<endpoint>:<scope>" (Flask-Limiter's scope_for).
        if counted.breached or counted.request_args[-1].rpartition(":")[2] not in scopes:
            continue
        # Not below none, should the window have ended meanwhile.
        if storage.get(counted.key) > 0:
            storage.incr(counted.key, counted.limit.get_expiry(), amount=-1)


def _per_account_limit() -> str:
    return str(current_app.config["LOGIN_LIMIT_PER_ACCOUNT"])


def _per_address_limit() -> str:
    return str(current_app.config["LOGIN_LIMIT_PER_ADDRESS"])


def _email_step_limit() -> str:
    return str(current_app.config["LOGIN_LIMIT_EMAIL_STEP"])


def _email_step_only() -> bool:
    """Whether a POST to the login page is its first step (the address alone, or the choice
    of the company's sign-in service): the login limits count password attempts only."""
    return "sso" in request.form or not (
        request.form.get("password") or request.form.get("step") == "password"
    )


#: Where the session keeps a sign-in in progress at a company's identity provider.
SSO_PENDING = "sso_pending"


@limiter.limit(
    _per_account_limit,
    key_func=_login_account_key,
    methods=["POST"],
    scope=_LOGIN_SCOPES[0],
    exempt_when=_email_step_only,
)
@limiter.limit(
    _per_address_limit, methods=["POST"], scope=_LOGIN_SCOPES[1], exempt_when=_email_step_only
)
@limiter.limit(
    _email_step_limit,
    methods=["POST"],
    scope="login-step",
    exempt_when=lambda: not _email_step_only(),
)
def login() -> str | tuple[str, int] | Response:
    """Signing in, e-mail first.

    The first step asks for the address alone. An address at a domain whose company signs its
    staff in through an identity provider goes there; any other gets the password step, with
    the address kept (and, when the company's provider also allows a password, the choice of
    either). Only the domain decides, never whether the address has an account. A POST with
    both address and password signs in at once, as it always has, unless the company's
    provider allows no password.
    """
    if current_user.is_authenticated:
        return redirect(home_url_for(current_user))
    if request.method == "POST" and not _email_step_only():
        return _password_step()
    email_form = EmailStepForm()
    if email_form.validate_on_submit():
        email = normalise_email(email_form.email.data or "")
        provider = sso_providers.provider_for_email(email)
        if provider is not None and ("sso" in request.form or not provider.password_allowed):
            return _go_to_provider(provider, email)
        form = LoginForm(formdata=None, data={"email": email})
        return _render_login(form, provider)
    return render_template("auth/login.html", email_form=email_form, form=None, provider=None)


def _render_login(form: LoginForm, provider: CompanyIdentityProvider | None) -> str:
    """The password step for the address in ``form``."""
    return render_template(
        "auth/login.html",
        email_form=None,
        form=form,
        provider=provider,
        change_url=url_for("auth.login", next=request.args.get("next") or None),
    )


def _password_step() -> str | tuple[str, int] | Response:
    form = LoginForm()
    email = normalise_email(form.email.data or "")
    if form.validate_on_submit():
        with unit_of_work(quietly=(InvalidCredentials, AccountUnavailable)) as work:
            sso_providers.check_password_allowed(email)
            user = accounts.authenticate(email, form.password.data or "")
        if work.refusal is None:
            _give_back_login_attempts()
            return complete_first_factor(user, remember=bool(form.remember.data), method="password")
        current_app.logger.warning(
            "failed login for %s from %s: %s",
            email,
            request.remote_addr,
            type(work.refusal).__name__,
        )
        form.form_errors.append(str(work.refusal.message))
    elif form.email.errors:
        # The password step shows the address as text: a wrong one is corrected at the first
        # step, beside its box.
        email_form = EmailStepForm(formdata=None, data={"email": form.email.data or ""})
        email_form.email.errors = list(form.email.errors)
        return render_template("auth/login.html", email_form=email_form, form=None, provider=None)
    provider = sso_providers.provider_for_email(email) if "@" in email else None
    return _render_login(form, provider)


def _go_to_provider(
    provider: CompanyIdentityProvider, email: str
) -> str | tuple[str, int] | Response:
    """Send the person to their company's provider, keeping the sign-in's state, nonce and
    code verifier in their session until they come back (:func:`sso_callback`)."""
    try:
        url, pending = single_sign_on.begin(
            provider, email, url_for("auth.sso_callback", _external=True)
        )
    except ProviderUnavailable as error:
        return _sso_failed(error)
    session[SSO_PENDING] = pending.to_session()
    current_app.logger.info(
        "sso: %s sent to %s from %s", email, provider.issuer, request.remote_addr
    )
    # A page that moves on by itself (a meta refresh, no JavaScript needed), not a redirect:
    # browsers hold the redirect of a form's POST to the page's form-action 'self'.
    return render_template(
        "auth/sso_redirect.html", provider_url=url, company_name=provider.company.name
    )


def _sso_failed(error: DomainError) -> tuple[str, int]:
    current_app.logger.warning(
        "sso: sign-in refused from %s: %s: %s",
        request.remote_addr,
        type(error).__name__,
        error,
    )
    return render_template("auth/sso_failed.html", message=error.message), error.status_code


@limiter.limit(_per_address_limit, scope="sso-callback")
def sso_callback() -> str | tuple[str, int] | Response:
    """Where every company's identity provider sends the person back: check the answer
    against the sign-in kept in the session (used once, whatever the outcome), exchange the
    code, check the ID token, find or create the account, and start the session."""
    pending = ProviderSignIn.from_session(session.pop(SSO_PENDING, None))
    answer = {key: value for key, value in request.args.items() if isinstance(value, str)}
    try:
        pending = single_sign_on.check_answer(pending, answer)
        provider = db.session.get(CompanyIdentityProvider, pending.provider_id)
        if provider is None or not provider.is_enabled:
            raise SignInRefused(single_sign_on.STATE_UNKNOWN)
        claims = single_sign_on.finish(
            provider, pending, answer["code"], url_for("auth.sso_callback", _external=True)
        )
    except (SignInRefused, ProviderUnavailable) as error:
        return _sso_failed(error)
    with unit_of_work(quietly=(SignInRefused,)) as work:
        user = single_sign_on.link_account(provider, claims)
    if work.refusal is not None:
        return _sso_failed(work.refusal)
    return complete_first_factor(user, remember=False, method="sso")


@login_required
def logout() -> Response:
    form = ActionForm()
    if form.validate_on_submit():
        _log_out(current_actor())
    return redirect(url_for("main.index"))


def _log_out(user: User) -> None:
    """Log out: every session of the person ends, on every device (DESIGN's baseline)."""
    with unit_of_work():
        accounts.end_all_sessions(user)
    current_app.logger.info("logout: user %s", user.id)
    language = str(get_locale() or "en")
    logout_user()
    session.clear()
    # The person goes on reading in their language: the message below and the pages after.
    session["lang"] = language
    flash(_("You have logged out."), "success")


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
            # Setting the password is the first factor: an admin or HR officer who must
            # use two-factor sign-in sets it up before reaching any page.
            answer = complete_first_factor(user, remember=False, method="invitation")
            flash(_("Welcome to SkillsUp, %(name)s.", name=user.name), "success")
            return answer
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
            carry_on_after_change(user)
            flash(
                _("Your password has been changed. You have been logged out everywhere else."),
                "success",
            )
            return redirect(url_for("auth.account"))
    return _account_page(_saved_profile_form(), password_form), 400


@login_required
def end_session(session_id: int) -> Response:
    """End one of one's own sessions, on another device; ending this device's is logging out.
    Another person's session, or none such, is not there (404)."""
    me = current_actor()
    try:
        record = user_sessions.find_own(me, session_id)
    except NotFound:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    current = current_session()
    if current is not None and record.id == current.id:
        _log_out(me)
        return redirect(url_for("main.index"))
    device = device_name(record.user_agent)
    with unit_of_work() as work:
        if user_sessions.end(me, record, current=current):
            work.flash(_("The session on %(device)s has ended: it is logged out.", device=device))
        else:
            work.flash(_("That session had ended already."), "info")
    current_app.logger.info("user %s ended their session %s", me.id, record.id)
    return redirect(url_for("auth.account") + "#sessions")


@login_required
def end_other_sessions() -> Response:
    """End every session of one's own but this device's."""
    if not ActionForm().validate_on_submit():
        abort(400)
    me = current_actor()
    current = current_session()
    if current is None:  # pragma: no cover - a signed-in request always has its session
        abort(400)
    with unit_of_work() as work:
        ended = user_sessions.end_others(me, current)
        if ended:
            work.flash(
                ngettext(
                    "%(num)d other session has ended: it is logged out.",
                    "%(num)d other sessions have ended: they are logged out.",
                    ended,
                )
            )
        else:
            work.flash(_("You were not logged in anywhere else."), "info")
    current_app.logger.info("user %s ended %s other session(s)", me.id, ended)
    return redirect(url_for("auth.account") + "#sessions")


@dataclass(frozen=True)
class SessionRow:
    """One live session as the account page lists it."""

    record: UserSession
    device: str
    #: How the person signed in, in words ("" for a way the page has no words for).
    method: str
    current: bool


def _session_rows() -> list[SessionRow]:
    current = current_session()
    rows = []
    for record in user_sessions.active_sessions(current_actor()):
        method = SignInMethod(record.method) if record.method in SIGN_IN_METHODS else None
        rows.append(
            SessionRow(
                record=record,
                device=device_name(record.user_agent),
                method=label(method),
                current=current is not None and record.id == current.id,
            )
        )
    # This device first, then the others as seen most recently.
    return sorted(rows, key=lambda row: not row.current)


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


def two_factor_account_page(
    *, renew_form: TwoFactorCodeForm | None = None, off_form: TwoFactorCodeForm | None = None
) -> str:
    """The account page showing the two-factor forms posted (with their errors)."""
    return _account_page(
        _saved_profile_form(),
        ChangePasswordForm(formdata=None),
        two_factor_forms={"renew": renew_form, "off": off_form},
    )


def _two_factor_section(
    user: User, forms: dict[str, TwoFactorCodeForm | None]
) -> dict[str, object]:
    """What the account page's "Two-factor sign-in" section shows and offers."""
    enabled = user.two_factor_enabled
    setting_requires = two_factor.setting_requires()
    return {
        "enabled": enabled,
        "enabled_at": user.two_factor_enabled_at,
        "required": two_factor.is_required_for(user),
        "codes_left": two_factor.recovery_codes_left(user) if enabled else 0,
        "can_turn_off": permissions.can_turn_off_two_factor(
            user, setting_requires=setting_requires
        ),
        "renew_form": forms.get("renew") or TwoFactorCodeForm(formdata=None, prefix="renew"),
        "off_form": forms.get("off") or TwoFactorCodeForm(formdata=None, prefix="off"),
    }


def _account_page(
    profile_form: ProfileForm,
    password_form: ChangePasswordForm,
    cef_form: CefUsedElsewhereForm | None = None,
    *,
    two_factor_forms: dict[str, TwoFactorCodeForm | None] | None = None,
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
        two_factor=_two_factor_section(user, two_factor_forms or {}),
        sessions=_session_rows(),
        session_form=ActionForm(),
    )


def _subscribe_url(feed_url: str) -> str:
    """The feed's address with the ``webcal`` scheme: the same host and path, which a calendar
    app opened from the link subscribes to (it fetches it over HTTP(S) itself)."""
    return urlunsplit(urlsplit(feed_url)._replace(scheme="webcal"))
