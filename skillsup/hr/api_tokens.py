"""HR pages: the company's API tokens, which let its HR system call the API as the officer
who created them (:mod:`skillsup.api_token_pages`)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from .. import api_token_pages

PAGES = api_token_pages.ApiTokenPages(
    home_endpoint="hr.dashboard",
    home_label=_l("Dashboard"),
    list_endpoint="hr.api_tokens",
    revoke_endpoint="hr.revoke_api_token",
    audit_endpoint="hr.audit_log",
    lead=_l(
        "A token lets your company's HR system use the SkillsUp API: read your staff's "
        "training records, add staff or nominate them into classes, as you do on these pages."
    ),
    acts_as=_l(
        "A token acts as the HR officer who created it, for your company only, with the "
        "scopes chosen. It stops working if that officer leaves or is no longer an HR officer: "
        "any HR officer of your company may revoke it."
    ),
)


def api_tokens() -> Response | tuple[str, int]:
    """The company's tokens, and the form to create one."""
    return api_token_pages.tokens_page(PAGES)


def revoke_api_token(token_id: int) -> Response | tuple[str, int]:
    """The confirmation page of revoking one of the company's tokens, and revoking it."""
    return api_token_pages.revoke_page(PAGES, token_id)
