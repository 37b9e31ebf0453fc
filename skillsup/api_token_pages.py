"""The API token pages, shared by the HR officers' (their company's tokens) and the admins'
(the institute-wide tokens): each blueprint's view names its own addresses, and the service
(:mod:`skillsup.services.api_tokens`) decides which tokens the reader manages.

A token's secret is shown once, on the page that answers the form that created it: not in a
flash message (kept in the session cookie), not in an address (kept in histories and logs),
and with ``Cache-Control: no-store`` so that no cache keeps the page.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

from flask import abort, make_response, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response
from wtforms import SelectChoice, StringField
from wtforms.validators import Length, Optional

from .confirmation import Confirmation, act_on_confirmation, render_confirmation
from .extensions import db
from .forms import ActionForm, CheckboxListField, DayField, PortalForm
from .i18n import fmt_date
from .labels import label
from .models import ApiScope, ApiToken, ApiTokenState, User, utcnow
from .services import api_tokens
from .services.api_tokens import NAME_LENGTH, NewToken
from .services.errors import NotFound
from .timeutil import hk_date
from .web import Work, current_actor, page_number, unit_of_work

PER_PAGE = 25

#: What each scope lets a token do, in a line under its checkbox.
SCOPE_EXPLANATIONS: dict[ApiScope, Any] = {
    ApiScope.READ: _l(
        "See the catalogue, and the staff, enrolments, progress and certificates that you "
        "may see on these pages."
    ),
    ApiScope.STAFF_WRITE: _l("Add staff and change their accounts, as on the staff pages."),
    ApiScope.ENROLMENTS_WRITE: _l(
        "Nominate staff into classes, decide on requests and withdraw enrolments."
    ),
}


class CreateTokenForm(PortalForm):
    """A new token: its name, its scopes and, if it is to expire, the day it does. The rules
    are the service's; the date field offers the days it allows."""

    name = StringField(
        _l("Token name"),
        validators=[Length(max=NAME_LENGTH, message=_l("Use at most %(max)d characters."))],
        description=_l(
            "What will use it, such as “Nightly HR sync”: the audit log names the changes "
            "made with it."
        ),
    )
    scopes = CheckboxListField(
        _l("What it may do"),
        choices=[SelectChoice(scope.value, scope.value) for scope in ApiScope],
    )
    expires_on = DayField(
        _l("Expires on (optional)"),
        validators=[Optional()],
        description=_l(
            "It stops working at the start of this day, Hong Kong time, at most two years "
            "from today. Leave it empty for a token that does not expire: revoke it when it "
            "is no longer needed."
        ),
    )

    def offer_days(self) -> None:
        """Let the date picker offer only the days a token may expire on."""
        today = hk_date(utcnow())
        self.expires_on.render_kw = {
            "min": (today + timedelta(days=1)).isoformat(),
            "max": api_tokens.latest_expiry(today).isoformat(),
        }


@dataclasses.dataclass(frozen=True)
class ApiTokenPages:
    """A blueprint's API token pages: the page they sit under (for the breadcrumb), their
    addresses, and what the list says the tokens are for."""

    home_endpoint: str
    home_label: Any
    list_endpoint: str
    revoke_endpoint: str
    audit_endpoint: str
    lead: Any
    acts_as: Any


@dataclasses.dataclass(frozen=True)
class TokenRow:
    token: ApiToken
    state: ApiTokenState

    @property
    def scopes(self) -> list[ApiScope]:
        return [ApiScope(scope) for scope in self.token.scopes if scope in set(ApiScope)]


def _form() -> CreateTokenForm:
    form = CreateTokenForm(prefix="token")
    form.offer_days()
    return form


def _scope_options(form: CreateTokenForm) -> list[tuple[Any, str, Any]]:
    """Each scope's checkbox with its label and explanation."""
    return [
        (option, label(ApiScope(option.data)), SCOPE_EXPLANATIONS[ApiScope(option.data)])
        for option in form.scopes
    ]


def tokens_page(pages: ApiTokenPages) -> Response | tuple[str, int]:
    """The tokens the reader manages, newest first (the revoked last), with the form to
    create one. A token created is shown on a page of its own, with its secret, once."""
    me = current_actor()
    form = _form()
    status = 200
    if form.validate_on_submit() and _every_problem_shown(me, form) == 0:
        with unit_of_work(form) as work:
            created = api_tokens.create_token(
                me, form.name.data or "", form.scopes.data or [], expires_on=form.expires_on.data
            )
        if work.succeeded:
            return _created_page(pages, created)
        status = work.status_code
    elif form.is_submitted():
        status = 400
    return _render_list(pages, form), status


def _every_problem_shown(me: User, form: CreateTokenForm) -> int:
    """Put every reason the service would refuse the form's values for on its field, rather
    than the first alone; how many there are."""
    problems = api_tokens.new_token_problems(
        me, form.name.data or "", form.scopes.data or [], expires_on=form.expires_on.data
    )
    for problem in problems:
        field = form[problem.field or "name"]
        field.errors = [*field.errors, str(problem.message)]
    return len(problems)


def _render_list(pages: ApiTokenPages, form: CreateTokenForm) -> str:
    page = db.paginate(
        api_tokens.visible_tokens(current_actor()),
        page=page_number(),
        per_page=PER_PAGE,
        max_per_page=PER_PAGE,
        error_out=False,
    )
    now = utcnow()
    rows = [TokenRow(token, api_tokens.token_state(token, now)) for token in page.items]
    return render_template(
        "api_tokens/tokens.html",
        pages=pages,
        page=page,
        rows=rows,
        form=form,
        scope_options=_scope_options(form),
        ApiTokenState=ApiTokenState,
    )


def _created_page(pages: ApiTokenPages, created: NewToken) -> Response:
    response = make_response(
        render_template(
            "api_tokens/created.html",
            pages=pages,
            token=created.token,
            secret=created.secret,
            scopes=TokenRow(created.token, ApiTokenState.ACTIVE).scopes,
        )
    )
    # The secret is in this page alone: no cache, no back-button copy, keeps it.
    response.headers["Cache-Control"] = "no-store"
    return response


def _token_or_404(token_id: int) -> ApiToken:
    try:
        return api_tokens.find_token(current_actor(), token_id)
    except NotFound:
        abort(404)


def revoke_page(pages: ApiTokenPages, token_id: int) -> Response | tuple[str, int]:
    """The confirmation page of revoking a token (what stops working), and revoking it."""
    token = _token_or_404(token_id)
    form = ActionForm()
    back = url_for(pages.list_endpoint)

    def revoke(work: Work) -> None:
        if api_tokens.revoke_token(current_actor(), token):
            work.flash(
                _(
                    "The token “%(name)s” has been revoked: its next request will be refused.",
                    name=token.name,
                )
            )
        else:
            work.flash(_("This token had already been revoked."), "info")

    answer = act_on_confirmation(form, revoke, back)
    if isinstance(answer, Response):
        return answer
    return render_confirmation(_revoke_confirmation(pages, token, form), status=answer)


def _revoke_confirmation(pages: ApiTokenPages, token: ApiToken, form: ActionForm) -> Confirmation:
    refusal = None
    if token.revoked_at is not None:
        revoker: User | None = token.revoked_by
        refusal = _(
            "This token was revoked on %(date)s by %(name)s.",
            date=fmt_date(token.revoked_at),
            name=revoker.name if revoker is not None else "—",
        )
    return Confirmation(
        title=_("Revoke the API token “%(name)s”", name=token.name),
        action_url=url_for(pages.revoke_endpoint, token_id=token.id),
        button=_("Revoke the token"),
        cancel_url=url_for(pages.list_endpoint),
        cancel_label=_("Keep the token"),
        form=form,
        consequences=[
            _(
                "Every request with this token (%(prefix)s…) is refused from now on: the "
                "system that uses it can no longer reach the API.",
                prefix=token.prefix,
            ),
            _(
                "It cannot be undone. To connect the system again, create a new token and "
                "give the system its secret."
            ),
            _("The changes made with it stay in the audit log, which names the token."),
        ],
        refusal=refusal,
    )
