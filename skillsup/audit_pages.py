"""The audit log's search page and CSV download, shared by the admins' and the HR officers'
pages: each blueprint's view names its own template and addresses, and the service
(:mod:`skillsup.services.audit_log`) decides which entries the reader may see."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from flask import Response, abort, render_template, request, stream_with_context, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select
from wtforms import IntegerField, SelectChoice, SelectField, StringField
from wtforms.validators import Length, NumberRange, Optional

from . import audit_text
from .extensions import db
from .forms import DayField, OneOfTheChoices, PortalForm
from .models import AuditEntry, User
from .services import audit_log
from .services import exports as export_service
from .services.audit_log import AuditFilters
from .services.errors import PermissionDenied, ValidationFailed
from .timeutil import today_hk
from .validators import MAX_ID
from .web import current_actor, page_number, unit_of_work

PER_PAGE = 50
CHOOSE_FROM_THE_LIST = _l("Choose from the list.")
CSV_MIMETYPE = "text/csv"


class AuditFilterForm(PortalForm):
    """The search of the audit log, read from the query string: it changes nothing, so it
    carries no CSRF token."""

    class Meta:
        csrf = False

    person = StringField(
        _l("Person"),
        validators=[Optional(), Length(max=100)],
        description=_l("Part of the name or e-mail address of who did it."),
    )
    action = SelectField(
        _l("Action"),
        choices=[],
        default="",
        validate_choice=False,
        validators=[OneOfTheChoices(CHOOSE_FROM_THE_LIST)],
    )
    object_type = SelectField(
        _l("Object"),
        choices=[],
        default="",
        validate_choice=False,
        validators=[OneOfTheChoices(CHOOSE_FROM_THE_LIST)],
    )
    object_id = IntegerField(
        _l("Object ID"),
        validators=[
            Optional(),
            NumberRange(min=1, max=MAX_ID, message=_l("Enter a whole number from 1 to %(max)d.")),
        ],
    )
    from_day = DayField(_l("From"), validators=[Optional()])
    to_day = DayField(_l("To"), validators=[Optional()])

    def set_choices(self, actor: User) -> None:
        actions = sorted(
            (audit_text.action_label(action), action) for action in audit_log.actions_for(actor)
        )
        self.action.choices = [
            SelectChoice("", _l("Every action")),
            *(SelectChoice(action, name) for name, action in actions),
        ]
        self.object_type.choices = [
            SelectChoice("", _l("Every kind of object")),
            *(
                SelectChoice(kind, audit_text.object_type_label(kind))
                for kind in audit_log.object_types_for(actor)
            ),
        ]

    def filters(self) -> AuditFilters:
        return AuditFilters(
            person=(self.person.data or "").strip(),
            action=self.action.data or "",
            object_type=self.object_type.data or "",
            object_id=self.object_id.data,
            from_day=self.from_day.data,
            to_day=self.to_day.data,
        )

    def query_args(self) -> dict[str, str]:
        """The filters as typed, for the links to other pages and to the download."""
        return {
            field.short_name: str(request.args.get(field.short_name, ""))
            for field in self
            if request.args.get(field.short_name)
        }


def _form(actor: User) -> AuditFilterForm:
    form = AuditFilterForm(request.args)
    form.set_choices(actor)
    return form


def _search(actor: User, form: AuditFilterForm) -> Select[AuditEntry] | None:
    """The form's search, or ``None`` with the reason on the form's field (the service's
    reasons too: a date range that ends before it starts)."""
    if not form.validate():
        return None
    try:
        return audit_log.search(actor, form.filters())
    except PermissionDenied:
        abort(403)
    except ValidationFailed as error:
        field = form[error.field] if error.field and error.field in form else form.to_day
        field.errors = [*field.errors, str(error.message)]
        return None


@dataclasses.dataclass(frozen=True)
class AuditPages:
    """A blueprint's audit log: its page's template, its addresses, and the pages of the
    objects an entry may be about (by object type: the address of the object with that id)."""

    template: str
    endpoint: str
    csv_endpoint: str
    object_links: Mapping[str, Callable[[int], str]] = dataclasses.field(default_factory=dict)


def audit_log_page(pages: AuditPages) -> tuple[str, int]:
    """One page of the entries the reader may see that match the query string's filters,
    newest first; 400 with the reasons on the form when a filter is wrong."""
    me = current_actor()
    form = _form(me)
    return _render(pages, form, _search(me, form))


def _render(
    pages: AuditPages, form: AuditFilterForm, statement: Select[AuditEntry] | None
) -> tuple[str, int]:
    page = db.paginate(
        statement if statement is not None else audit_log.nothing(),
        page=page_number(),
        per_page=PER_PAGE,
        max_per_page=PER_PAGE,
        error_out=False,
    )
    args: dict[str, Any] = form.query_args() if statement is not None else {}

    def object_url(entry: AuditEntry) -> str:
        link = pages.object_links.get(entry.object_type)
        if link is not None and entry.object_id is not None:
            return link(entry.object_id)
        return url_for(pages.endpoint, object_type=entry.object_type, object_id=entry.object_id)

    return render_template(
        pages.template,
        form=form,
        page=page,
        entries=audit_text.readable_entries(page.items),
        endpoint=pages.endpoint,
        filter_args=args,
        csv_url=url_for(pages.csv_endpoint, **args),
        object_url=object_url,
        object_type_label=audit_text.object_type_label,
        person_url=lambda person: url_for(pages.endpoint, person=person.email),
    ), (200 if statement is not None else 400)


def audit_log_csv(pages: AuditPages) -> Response | tuple[str, int]:
    """The entries the page's filters find, every one, as a CSV file; the download is itself
    recorded in the log. Wrong filters show the page again with the reasons (400)."""
    me = current_actor()
    form = _form(me)
    statement = _search(me, form)
    if statement is None:
        return _render(pages, form, None)
    filters = form.filters()
    rows = audit_log.export_rows(me, filters)
    with unit_of_work():
        audit_log.record_export(me, filters)
    header = [str(heading) for heading in audit_log.EXPORT_HEADER]
    response = Response(
        stream_with_context(export_service.table_csv_chunks(header, rows)),
        mimetype=CSV_MIMETYPE,
    )
    filename = f"skillsup-audit-log-{today_hk().isoformat()}.csv"
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    return response
