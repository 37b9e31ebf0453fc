"""What a signed-in session's User-Agent says about its device, in the reader's words:
"Chrome on Windows", "Safari on iPhone", else "Unknown device"."""

from __future__ import annotations

from functools import lru_cache

from flask_babel import gettext as _
from ua_parser import parse

#: Browsers by the name the parser gives them, where people know them by another: the
#: mobile builds of a browser are the browser.
_BROWSERS = {
    "Mobile Safari": "Safari",
    "Mobile Safari UI/WKWebView": "Safari",
    "Chrome Mobile": "Chrome",
    "Chrome Mobile iOS": "Chrome",
    "Chrome Mobile WebView": "Chrome",
    "HeadlessChrome": "Chrome",
    "Chromium": "Chromium",
    "Firefox Mobile": "Firefox",
    "Firefox iOS": "Firefox",
    "Edge Mobile": "Edge",
    "Opera Mobile": "Opera",
}

#: Systems by the name the parser gives them, where people know them by another.
_SYSTEMS = {
    "Mac OS X": "macOS",
    "Chrome OS": "ChromeOS",
    "Windows Phone": "Windows Phone",
}

#: Devices named rather than their system (an iPhone, not "iOS").
_NAMED_DEVICES = ("iPhone", "iPad", "iPod")


@lru_cache(maxsize=512)
def _parts(user_agent: str) -> tuple[str | None, str | None]:
    """The browser and the system (or named device) of ``user_agent``, each ``None`` when
    the parser does not know it."""
    result = parse(user_agent[:512])
    browser = system = None
    if result.user_agent is not None and result.user_agent.family != "Other":
        browser = _BROWSERS.get(result.user_agent.family, result.user_agent.family)
    device = result.device.family if result.device is not None else None
    if device in _NAMED_DEVICES:
        system = device
    elif result.os is not None and result.os.family != "Other":
        system = _SYSTEMS.get(result.os.family, result.os.family)
    return browser, system


def device_name(user_agent: str | None) -> str:
    """The browser and system a User-Agent names, "Chrome on Windows"; one of them alone
    when the other is unknown; "Unknown device" when neither is known."""
    browser, system = _parts(user_agent or "")
    if browser and system:
        return _("%(browser)s on %(system)s", browser=browser, system=system)
    if browser:
        return browser
    if system:
        return _("A browser on %(system)s", system=system)
    return _("Unknown device")
