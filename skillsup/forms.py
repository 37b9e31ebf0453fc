"""Forms shared by every part of the portal."""

from __future__ import annotations

from flask_wtf import FlaskForm


class ActionForm(FlaskForm):
    """A button that changes something (publish a course, withdraw, save attendance, close a
    class): it carries only the CSRF token."""
