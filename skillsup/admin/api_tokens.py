"""Programme administration: the institute-wide API tokens, which act for every company
(:mod:`skillsup.api_token_pages`)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from .. import api_token_pages

PAGES = api_token_pages.ApiTokenPages(
    home_endpoint="admin.home",
    home_label=_l("Admin"),
    list_endpoint="admin.api_tokens",
    revoke_endpoint="admin.revoke_api_token",
    audit_endpoint="admin.audit_log",
    lead=_l(
        "An institute-wide token lets one of the institute's systems use the SkillsUp API "
        "for every partner company. Each company's HR officers manage their own company's "
        "tokens on their pages."
    ),
    acts_as=_l(
        "A token acts as the admin who created it, with the scopes chosen. It stops working "
        "if that admin is deactivated or is no longer an admin: any admin may revoke it."
    ),
)


def api_tokens() -> Response | tuple[str, int]:
    """The institute-wide tokens, and the form to create one."""
    return api_token_pages.tokens_page(PAGES)


def revoke_api_token(token_id: int) -> Response | tuple[str, int]:
    """The confirmation page of revoking an institute-wide token, and revoking it."""
    return api_token_pages.revoke_page(PAGES, token_id)
