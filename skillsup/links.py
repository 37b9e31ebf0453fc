"""Links to the portal's pages, for the e-mail it sends: built here, in the web layer.

Services build no URLs. A view that has a service send mail at once hands it a
:class:`PortalLinks` (for the request being served); the e-mail that services queue to be
written at delivery gets its links from :func:`current_links` (:mod:`skillsup.emails`).

In a request, links go to the host the request came to (or ``SERVER_NAME`` when it is set),
as every page's own links do. Outside one (``flask send-mail``, ``flask send-reminders``, a
command's mail delivered at once in development) there is no request to take the host from:
links are built from ``SERVER_NAME`` and ``PREFERRED_URL_SCHEME`` (the environment's
``SKILLSUP_SERVER_NAME`` and ``SKILLSUP_PREFERRED_URL_SCHEME``), which production must set;
development and tests fall back on the address ``make run`` serves.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, has_request_context, url_for
from werkzeug.routing import MapAdapter

from .config import ConfigurationError

#: The host of links built outside a request in development and tests: where `make run` serves.
DEVELOPMENT_SERVER_NAME = "127.0.0.1:5000"


class ServerNameMissing(ConfigurationError):
    """Links are needed outside a request, and production has not said the portal's address."""


class PortalLinks:
    """Absolute links to the pages that the portal's e-mail leads to.

    ``PortalLinks()`` builds them as Flask's ``url_for`` does (for the request being served,
    or with ``SERVER_NAME`` outside one); :meth:`for_server` from the portal's configured
    address. Satisfies :class:`skillsup.services.accounts.AccountLinks` and
    :class:`skillsup.services.reminders.ReminderLinks`.
    """

    def __init__(self, adapter: MapAdapter | None = None) -> None:
        self._adapter = adapter

    @classmethod
    def for_server(cls, app: Flask) -> PortalLinks:
        """Links to the portal at its configured address, wherever they are built.

        Raises :class:`ServerNameMissing` in production without ``SERVER_NAME``.
        """
        adapter = app.url_map.bind(
            server_name(app),
            script_name=app.config["APPLICATION_ROOT"],
            url_scheme=app.config["PREFERRED_URL_SCHEME"],
        )
        return cls(adapter)

    def _build(self, endpoint: str, **values: Any) -> str:
        if self._adapter is None:
            return url_for(endpoint, _external=True, **values)
        return self._adapter.build(endpoint, values, force_external=True)

    def my_learning(self) -> str:
        return self._build("learning.my_learning")

    def approvals(self) -> str:
        return self._build("hr.approvals")

    def staff_member(self, user_id: int) -> str:
        return self._build("hr.employee_detail", user_id=user_id)

    def certificates_to_renew(self) -> str:
        return self._build("hr.certificates_to_renew")

    def course_page(self, code: str) -> str:
        return self._build("catalogue.course_detail", code=code)

    def login(self) -> str:
        return self._build("auth.login")

    def forgot_password(self) -> str:
        return self._build("auth.forgot_password")

    def confirm_email(self, token: str) -> str:
        return self._build("auth.confirm_email", token=token)

    def confirm_email_change(self, token: str) -> str:
        return self._build("auth.confirm_email_change", token=token)

    def accept_invitation(self, token: str) -> str:
        return self._build("auth.accept_invitation", token=token)

    def reset_password(self, token: str) -> str:
        return self._build("auth.reset_password", token=token)

    def certificate_download(self, certificate_id: int) -> str:
        return self._build("certificates.download", certificate_id=certificate_id)

    def certificate_verification(self, code: str) -> str:
        return self._build("certificates.verify", code=code)


def server_name(app: Flask) -> str:
    """The host (and port) of links built outside a request: ``SERVER_NAME``, or in
    development and tests :data:`DEVELOPMENT_SERVER_NAME`.

    Raises :class:`ServerNameMissing` in production without ``SERVER_NAME``: a link to a
    guessed address would lead the recipient nowhere.
    """
    name = app.config.get("SERVER_NAME")
    if name:
        return str(name)
    if app.config["SKILLSUP_ENV"] == "production":
        raise ServerNameMissing(
            "SKILLSUP_SERVER_NAME is not set: e-mail written outside a request needs the "
            "portal's host name for its links. Set it to the name users reach the portal "
            "at (for example SKILLSUP_SERVER_NAME=skillsup.example.edu, with "
            "SKILLSUP_PREFERRED_URL_SCHEME=https)."
        )
    return DEVELOPMENT_SERVER_NAME


def current_links() -> PortalLinks:
    """The links for e-mail written now: the request's, or outside a request those of
    :meth:`PortalLinks.for_server` (which raises :class:`ServerNameMissing` in production
    without ``SERVER_NAME``)."""
    if has_request_context():
        return PortalLinks()
    return PortalLinks.for_server(current_app)
