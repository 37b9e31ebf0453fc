"""Forms for trainers.

The attendance and results pages have one set of controls per learner, so their inputs are
named after the enrolment (``mark-<id>``, ``score-<id>``, ``passed-<id>``) and read by the
views; these forms carry the CSRF token and the buttons.
"""

from __future__ import annotations

from flask_wtf import FlaskForm


class ActionForm(FlaskForm):
    """A button that changes something (save attendance, save results, close the class):
    it carries only the CSRF token."""
