"""The URL map of the ``hr`` blueprint: every page and action it answers, in one place."""

from __future__ import annotations

from flask import Blueprint

from ..models import Role
from ..web import FORM, GET, POST, Route, require_roles
from . import api_tokens, funding, imports, reports, staff, views, webhooks

bp = Blueprint("hr", __name__, url_prefix="/hr")
bp.before_request(require_roles(Role.HR))

# fmt: off
ROUTES: list[Route] = [
    # address                                   view                                methods
    # dashboard, invitations and approvals
    ("/",                                       views.dashboard,                    GET),
    ("/staff/invite",                           views.invite_employee,              FORM),
    ("/approvals",                              views.approvals,                    GET),
    ("/approvals",                              views.decide,                       POST),
    ("/enrolments/<int:enrolment_id>/withdraw", views.withdraw,                     FORM),

    # staff
    ("/staff",                                  staff.staff_list,                   GET),
    ("/staff/<int:user_id>",                    staff.employee_detail,              GET),
    ("/staff/<int:user_id>/deactivate",         staff.deactivate_employee,          FORM),
    ("/staff/<int:user_id>/reactivate",         staff.reactivate_employee,          POST),
    ("/staff/<int:user_id>/nominate",           staff.nominate_employee,            POST),
    ("/classes",                                staff.class_list,                   GET),
    ("/classes/<class_code>",                   staff.class_detail,                 GET),
    ("/classes/<class_code>/nominate",          staff.nominate_staff,               POST),

    # imports
    ("/staff/import",                           imports.staff_import,               FORM),
    ("/staff/import/confirm",                   imports.staff_import_confirm,       POST),
    ("/staff/import/sample.csv",                imports.staff_import_sample,        GET),
    ("/nominations/import",                     imports.nominations_import,         FORM),
    ("/nominations/import/confirm",             imports.nominations_import_confirm, POST),
    ("/nominations/import/sample.csv",          imports.nominations_import_sample,  GET),

    # reports
    ("/progress",                               reports.progress,                   GET),
    ("/reports",                                reports.reports_index,              GET),
    ("/reports/progress.csv",                   reports.progress_csv,               GET),
    ("/reports/progress.xlsx",                  reports.progress_xlsx,              GET),
    ("/reports/enrolments.csv",                 reports.enrolments_csv,             GET),
    ("/reports/enrolments.xlsx",                reports.enrolments_xlsx,            GET),
    ("/certificates",                           reports.certificates_to_renew,      GET),
    ("/audit",                                  reports.audit_log,                  GET),
    ("/audit.csv",                              reports.audit_log_csv,              GET),

    # funding and the value of training
    ("/funding",                                funding.funding,                    GET),
    ("/funding/claims",                         funding.claims,                     GET),
    ("/funding/claims.csv",                     funding.claims_csv,                 GET),
    ("/funding/claims.xlsx",                    funding.claims_xlsx,                GET),
    ("/funding/claims/<int:enrolment_id>/<scheme_code>/received",
                                                funding.claim_received,             FORM),
    ("/value",                                  funding.value,                      GET),
    ("/value.csv",                              funding.value_csv,                  GET),
    ("/value.xlsx",                             funding.value_xlsx,                 GET),

    # webhooks: the company's HR system hears of enrolment and certificate events
    ("/webhooks",                               webhooks.webhook_list,              GET),
    ("/webhooks/new",                           webhooks.webhook_new,               FORM),
    ("/webhooks/<int:endpoint_id>",             webhooks.webhook_detail,            GET),
    ("/webhooks/<int:endpoint_id>/edit",        webhooks.webhook_edit,              FORM),
    ("/webhooks/<int:endpoint_id>/disable",     webhooks.webhook_disable,           FORM),
    ("/webhooks/<int:endpoint_id>/enable",      webhooks.webhook_enable,            POST),
    ("/webhooks/<int:endpoint_id>/rotate",      webhooks.webhook_rotate,            FORM),
    ("/webhooks/<int:endpoint_id>/test",        webhooks.webhook_test,              POST),
    ("/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/redeliver",
                                                webhooks.webhook_redeliver,         POST),
    # API tokens
    ("/api-tokens",                             api_tokens.api_tokens,              FORM),
    ("/api-tokens/<int:token_id>/revoke",       api_tokens.revoke_api_token,        FORM),
]
# fmt: on

for rule, view, methods in ROUTES:
    bp.add_url_rule(rule, view_func=view, methods=methods)
