"""Which addresses a webhook may be sent to: the one home of the rule, checked when an endpoint
is registered or changed (:func:`check_url`) and again at every delivery
(:func:`delivery_target`), since what a host name resolves to may change in between.

A webhook is a request the portal's server makes to an address someone typed: it must never
reach the institute's own network (server-side request forgery). So an endpoint's address is
an ``https://`` URL with a host name, on port 443 or an unprivileged port (1024 and above),
without credentials or a fragment, at most :data:`URL_MAX_LENGTH` characters of printable
ASCII (an international domain name in its ``xn--`` form); its host is not an IP address and
not a name kept for local networks (``localhost``, ``*.local``, ``*.internal``...), and every
address it resolves to is a public one: not private, loopback, link-local, shared, reserved or
multicast. A name that does not resolve (yet) is accepted when registered; a delivery to it
fails, and is retried, until it does. At delivery the request goes to the very address that
was checked (the connection is pinned to it), so the name cannot be made to resolve elsewhere
between the check and the connection.

``WEBHOOKS_ALLOW_INSECURE`` (on in tests only) also allows ``http://``, IP addresses and local
and private networks, for a receiver on the test machine.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

from flask import current_app
from flask_babel import lazy_gettext as _l

from .errors import ValidationFailed

URL_MAX_LENGTH = 2000
#: The lowest port an endpoint may name, besides 443: those below are the well-known ports
#: of other services (SSH, SMTP, databases on some systems...).
LOWEST_PORT = 1024
#: Host names that only mean something on a local network, whatever they resolve to.
LOCAL_SUFFIXES = (
    ".localhost",
    ".local",
    ".localdomain",
    ".internal",
    ".intranet",
    ".lan",
    ".home",
    ".corp",
    ".home.arpa",
    ".arpa",
)


class UnsafeUrl(ValidationFailed):
    """The address is not one a webhook may be sent to; the message says why."""


@dataclass(frozen=True)
class Target:
    """Where a delivery goes: the URL's parts and the checked address to connect to."""

    scheme: str
    host: str
    port: int
    #: The path and query string, as the request line carries them.
    path: str
    #: The IP address checked for this delivery, which the connection is made to.
    address: str


def allow_insecure() -> bool:
    """Whether ``http://`` and local addresses are allowed (``WEBHOOKS_ALLOW_INSECURE``)."""
    return bool(current_app.config.get("WEBHOOKS_ALLOW_INSECURE"))


def _refuse(message: Any) -> UnsafeUrl:
    return UnsafeUrl(message, field="url")


def _parts(url: str, insecure: bool) -> SplitResult:
    """The parts of ``url`` when its form is allowed (see the module's docstring), else
    raises :class:`UnsafeUrl`."""
    if len(url) > URL_MAX_LENGTH:
        raise _refuse(_l("Keep the address under %(max)d characters.", max=URL_MAX_LENGTH))
    if not url.isascii() or any(not char.isprintable() or char.isspace() for char in url):
        raise _refuse(
            _l(
                "The address may hold no spaces or special characters: write an international "
                "domain name in its xn-- form, and percent-encode any other character."
            )
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise _refuse(_l("Enter a web address such as https://hr.example.com/skillsup.")) from None
    schemes = ("https", "http") if insecure else ("https",)
    if parts.scheme.lower() not in schemes:
        raise _refuse(_l("The address must begin with https://: events are sent encrypted."))
    if not parts.hostname:
        raise _refuse(_l("Enter a web address such as https://hr.example.com/skillsup."))
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise _refuse(
            _l(
                "Leave the user name and password out of the address: the receiver checks the "
                "signature of each event instead."
            )
        )
    if parts.fragment or url.endswith("#"):
        raise _refuse(_l("Leave the part after # out of the address: it is never sent."))
    if port is not None and port != 443 and port < LOWEST_PORT and not insecure:
        raise _refuse(
            _l(
                "Use the standard port 443, or a port from %(lowest)d up.",
                lowest=LOWEST_PORT,
            )
        )
    return parts


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether ``address`` is on the public internet: not private, loopback, link-local,
    shared, reserved or multicast."""
    return address.is_global and not address.is_multicast


def _check_host(host: str, insecure: bool) -> None:
    """Refuse a host that is an IP address or a name kept for local networks."""
    if insecure:
        return
    if _ip(host) is not None or host.startswith("["):
        raise _refuse(
            _l("Use the receiver's host name, not an IP address: its certificate names the host.")
        )
    name = host.rstrip(".").lower()
    if "." not in name or name == "localhost" or name.endswith(LOCAL_SUFFIXES):
        raise _refuse(
            _l(
                "The address must name a host on the internet (such as hr.example.com), not one "
                "of a local network."
            )
        )


def resolve(host: str, port: int) -> list[str]:
    """The IP addresses ``host`` resolves to (none when it does not resolve)."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    return list(dict.fromkeys(str(info[4][0]) for info in found))


def _unsafe_addresses(addresses: list[str]) -> list[str]:
    unsafe = []
    for text in addresses:
        address = _ip(text)
        if address is None or not is_public(address):
            unsafe.append(text)
    return unsafe


def check_url(url: str) -> str:
    """The endpoint address ``url`` as it is kept (stripped of surrounding spaces, the scheme
    and host in lower case), when a webhook may be sent to it (see the module's docstring).

    Raises :class:`UnsafeUrl` (field ``url``) saying what is wrong with it.
    """
    insecure = allow_insecure()
    url = (url or "").strip()
    if not url:
        raise _refuse(_l("Enter the address of your endpoint."))
    parts = _parts(url, insecure)
    host = parts.hostname or ""
    _check_host(host, insecure)
    if not insecure:
        unsafe = _unsafe_addresses(resolve(host, parts.port or 443))
        if unsafe:
            raise _refuse(
                _l(
                    "%(host)s leads to a private or local network address (%(address)s): "
                    "events are sent only to addresses on the internet.",
                    host=host,
                    address=unsafe[0],
                )
            )
    netloc = parts.netloc
    host_part = netloc.rsplit(":", 1)[0] if parts.port is not None else netloc
    netloc = host_part.lower() + netloc[len(host_part) :]
    return parts._replace(scheme=parts.scheme.lower(), netloc=netloc).geturl()


class UndeliverableAddress(Exception):
    """At delivery, the endpoint's host cannot be sent to: it did not resolve
    (``not_found``), or it leads to an address a webhook may not reach."""

    def __init__(self, detail: str, *, not_found: bool = False) -> None:
        super().__init__(detail)
        self.not_found = not_found


def delivery_target(url: str) -> Target:
    """Where to send a delivery to ``url`` now: the address is checked again as when it was
    registered, its host resolved, and every address it resolves to must be public.

    Raises :class:`UndeliverableAddress` when the address may not be sent to now.
    """
    insecure = allow_insecure()
    try:
        parts = _parts(url, insecure)
        _check_host(parts.hostname or "", insecure)
    except UnsafeUrl as refusal:
        raise UndeliverableAddress(str(refusal.message)) from None
    host = parts.hostname or ""
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    addresses = resolve(host, port)
    if not addresses:
        raise UndeliverableAddress(f"{host} could not be resolved", not_found=True)
    unsafe = [] if insecure else _unsafe_addresses(addresses)
    if unsafe:
        raise UndeliverableAddress(f"{host} resolves to a non-public address: {unsafe[0]}")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme=scheme, host=host, port=port, path=path, address=addresses[0])
