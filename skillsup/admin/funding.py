"""Programme administration: the funding schemes, their names and the versions of their
figures."""

from __future__ import annotations

from dataclasses import dataclass

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response

from ..audit_text import readable_entries
from ..confirmation import Confirmation, render_confirmation
from ..extensions import db
from ..i18n import fmt_date
from ..models import CourseClass, FundingScheme, FundingSchemeVersion
from ..services import audit, funding_overview, funding_schemes
from ..services.funding_figures import SchemeFigures
from ..timeutil import today_hk
from ..web import current_actor, unit_of_work
from .funding_forms import FiguresForm, NewSchemeForm, SchemeNamesForm


def _scheme_or_404(scheme_id: int) -> FundingScheme:
    return db.get_or_404(FundingScheme, scheme_id)


def scheme_list() -> str:
    today = today_hk()
    return render_template(
        "admin/funding/list.html", rows=funding_overview.scheme_rows(today), today=today
    )


def scheme_detail(scheme_id: int) -> str:
    scheme = _scheme_or_404(scheme_id)
    today = today_hk()
    return render_template(
        "admin/funding/detail.html",
        scheme=scheme,
        timeline=funding_overview.scheme_timeline(scheme, today),
        shown=funding_overview.CLASSES_SHOWN,
        entries=readable_entries(audit.entries_for("funding_schemes", scheme.id)),
    )


def scheme_new() -> str | Response:
    form = NewSchemeForm()
    if request.method == "GET":
        form.class_rules_apply.data = True
        form.is_active.data = True
        form.effective_from.data = today_hk()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            scheme = funding_schemes.create_scheme(
                current_actor(), form.details(), form.figures(), form.effective_from.data
            )
            work.flash(_("Funding scheme %(code)s has been created.", code=scheme.code))
        if work.succeeded:
            return redirect(url_for("admin.scheme_detail", scheme_id=scheme.id))
    return render_template("admin/funding/new.html", form=form)


def scheme_edit(scheme_id: int) -> str | Response:
    scheme = _scheme_or_404(scheme_id)
    form = SchemeNamesForm()
    if request.method == "GET":
        form.name_en.data = scheme.name_en
        form.name_zh.data = scheme.name_zh
        form.is_active.data = scheme.is_active
    if form.validate_on_submit():
        before = _names(scheme)
        with unit_of_work(form) as work:
            funding_schemes.update_scheme(
                current_actor(), scheme, form.details(scheme.code, scheme.paid_to)
            )
        if work.succeeded:
            if _names(scheme) == before:
                flash(_("Nothing was changed."), "info")
            else:
                flash(_("The changes to %(code)s have been saved.", code=scheme.code), "success")
            return redirect(url_for("admin.scheme_detail", scheme_id=scheme.id))
    return render_template("admin/funding/edit.html", form=form, scheme=scheme)


def _names(scheme: FundingScheme) -> tuple[str, str | None, bool]:
    return (scheme.name_en, scheme.name_zh, scheme.is_active)


@dataclass(frozen=True)
class _Preview:
    """What a change of figures would do, worked out by the service in a dry run."""

    current: FundingSchemeVersion | None
    corrects: bool
    changed: list[str]
    classes: list[CourseClass]


def scheme_figures(scheme_id: int) -> str | Response | tuple[str, int]:
    """Change the figures from a date: the form (pre-filled with those in force), then a
    confirmation page listing the classes the new version would apply to, then the change."""
    scheme = _scheme_or_404(scheme_id)
    form = FiguresForm()
    today = today_hk()
    if request.method == "GET":
        current = funding_schemes.version_in_force(scheme.versions, today)
        if current is not None:
            form.fill_from(SchemeFigures.of(current))
        form.effective_from.data = today
        return render_template("admin/funding/figures.html", form=form, scheme=scheme)
    if request.form.get("back"):
        # From the confirmation page, to change the figures again: the form as posted.
        form.confirmed.data = ""
        return render_template("admin/funding/figures.html", form=form, scheme=scheme)
    if not form.validate_on_submit():
        return render_template("admin/funding/figures.html", form=form, scheme=scheme), 400
    effective_from = form.effective_from.data
    if form.confirmed.data == "1":
        with unit_of_work(form) as work:
            version = funding_schemes.change_figures(
                current_actor(), scheme, form.figures(), effective_from, today=today
            )
            work.flash(
                _(
                    "The figures of %(code)s from %(day)s have been saved.",
                    code=scheme.code,
                    day=fmt_date(version.effective_from),
                )
            )
        if work.succeeded:
            return redirect(url_for("admin.scheme_detail", scheme_id=scheme.id))
        form.confirmed.data = ""
        return render_template(
            "admin/funding/figures.html", form=form, scheme=scheme
        ), work.status_code
    # The first post: the service checks the figures in a dry run, and the page says what
    # the change would do before it is made.
    current = funding_schemes.version_in_force(scheme.versions, effective_from)
    before = SchemeFigures.of(current) if current is not None else None
    with unit_of_work(form, dry_run=True) as work:
        version = funding_schemes.change_figures(
            current_actor(), scheme, form.figures(), effective_from, today=today
        )
        after = SchemeFigures.of(version)
        preview = _Preview(
            current=current,
            corrects=current is not None and current.effective_from == effective_from,
            changed=funding_overview.changed_figures(before, after),
            classes=funding_schemes.classes_taking_version(scheme, effective_from),
        )
        class_rows = [(c.code, c.starts_on, c.status) for c in preview.classes]
    if not work.succeeded:
        return render_template(
            "admin/funding/figures.html", form=form, scheme=scheme
        ), work.status_code
    scheme = _scheme_or_404(scheme_id)
    form.confirmed.data = "1"
    day = fmt_date(effective_from)
    consequences = []
    if preview.corrects:
        consequences.append(_("The figures planned from %(day)s are corrected in place.", day=day))
    else:
        consequences.append(_("A new version of the figures applies from %(day)s.", day=day))
    consequences.append(
        ngettext(
            "It applies to %(num)d class, listed below: the classes that start from that date"
            " until the next version, if any.",
            "It applies to %(num)d classes, listed below: the classes that start from that"
            " date until the next version, if any.",
            len(class_rows),
        )
        if class_rows
        else _(
            "No class starting from that date runs under this scheme yet: it applies to"
            " those created later."
        )
    )
    consequences.append(
        _("Classes that started before that date keep the figures they started under.")
    )
    return render_confirmation(
        Confirmation(
            title=_("Change the figures of %(code)s", code=scheme.code),
            action_url=url_for("admin.scheme_figures", scheme_id=scheme.id),
            button=_("Save the new figures"),
            cancel_url=url_for("admin.scheme_detail", scheme_id=scheme.id),
            cancel_label=_("Keep the figures as they are"),
            form=form,
            consequences=consequences,
            consequences_heading=_("What the change does"),
            refusal=(
                None
                if preview.changed
                else _(
                    "These are the figures already in force on that date: there is nothing to"
                    " change."
                )
            ),
            hidden=form.carried(),
        ),
        template="admin/funding/figures_confirm.html",
        scheme=scheme,
        changed=preview.changed,
        form=form,
        figures=form.figures(),
        class_rows=class_rows,
        edit_url=url_for("admin.scheme_figures", scheme_id=scheme.id),
    )
