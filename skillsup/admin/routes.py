"""The URL map of the ``admin`` blueprint: every page and action it answers, in one place."""

from __future__ import annotations

from flask import Blueprint

from ..models import Role
from ..web import FORM, GET, POST, Route, require_roles
from . import api_tokens, classes, companies, courses, enrolments, funding, people, views

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.before_request(require_roles(Role.ADMIN))

# fmt: off
ROUTES: list[Route] = [
    # address                                                            view                             methods
    # home and people
    ("/",                                                                views.home,                      GET),
    ("/users",                                                           views.user_list,                 GET),
    ("/users/invite",                                                    views.invite_user,               FORM),
    ("/users/invitations",                                               people.invitation_list,          GET),
    ("/users/<int:user_id>",                                             people.user_detail,              GET),
    ("/users/<int:user_id>/edit",                                        people.user_edit,                FORM),
    ("/users/<int:user_id>/email-change/cancel",                         people.cancel_email_change,      POST),
    ("/users/<int:user_id>/invitation/resend",                           people.resend_invitation,        POST),
    ("/users/<int:user_id>/invitation/revoke",                           people.revoke_invitation,        POST),
    ("/users/<int:user_id>/two-factor/reset",                            people.user_two_factor_reset,    FORM),
    ("/users/<int:user_id>/deactivate",                                  views.deactivate_user,           FORM),
    ("/users/<int:user_id>/reactivate",                                  views.reactivate_user,           POST),
    ("/audit",                                                           views.audit_log,                 GET),
    ("/audit.csv",                                                       views.audit_log_csv,             GET),

    # courses
    ("/courses",                                                         courses.course_list,             GET),
    ("/courses/new",                                                     courses.new_course,              FORM),
    ("/courses/<int:course_id>",                                         courses.course_detail,           GET),
    ("/courses/<int:course_id>/edit",                                    courses.edit_course,             FORM),
    ("/courses/<int:course_id>/publish",                                 courses.publish_course,          POST),
    ("/courses/<int:course_id>/unpublish",                               courses.unpublish_course,        POST),
    ("/courses/<int:course_id>/archive",                                 courses.archive_course,          POST),

    # classes
    ("/classes",                                                         classes.class_list,              GET),
    ("/classes/new",                                                     classes.class_create,            FORM),
    ("/classes/<int:class_id>/edit",                                     classes.class_edit,              FORM),
    ("/classes/<int:class_id>",                                          classes.class_detail,            GET),
    ("/classes/<int:class_id>/sessions",                                 classes.session_add,             POST),
    ("/classes/<int:class_id>/sessions/<int:session_id>/edit",           classes.session_edit,            FORM),
    ("/classes/<int:class_id>/sessions/<int:session_id>/delete",         classes.session_delete,          FORM),
    ("/classes/<int:class_id>/sessions/generate",                        classes.sessions_generate,       POST),
    ("/classes/<int:class_id>/status/<action>",                          classes.class_status,            FORM),
    ("/classes/<int:class_id>/reopen",                                   classes.class_reopen,            FORM),

    # enrolments
    ("/classes/<int:class_id>/enrolments",                               enrolments.class_enrol,          POST),
    ("/enrolments/<int:enrolment_id>/withdraw",                          enrolments.enrolment_withdraw,   FORM),
    ("/enrolments/<int:enrolment_id>/approve",                           enrolments.enrolment_approve,    POST),

    # companies
    ("/companies",                                                       companies.company_list,          GET),
    ("/companies/new",                                                   companies.company_new,           FORM),
    ("/companies/<int:company_id>/edit",                                 companies.company_edit,          FORM),
    ("/companies/<int:company_id>",                                      companies.company_detail,        GET),
    ("/companies/<int:company_id>/quotas",                               companies.company_quota_add,     POST),
    ("/companies/<int:company_id>/quotas/<int:quota_id>/edit",           companies.company_quota_edit,    FORM),
    ("/companies/<int:company_id>/quotas/<int:quota_id>/delete",         companies.company_quota_remove,  POST),
    ("/companies/<int:company_id>/single-sign-on",                       companies.company_sso,           FORM),
    ("/companies/<int:company_id>/hr-officers",                          companies.company_hr_invite,     POST),
    ("/companies/<int:company_id>/hr-officers/<int:user_id>/deactivate", companies.company_hr_deactivate, FORM),
    ("/companies/<int:company_id>/hr-officers/<int:user_id>/reactivate", companies.company_hr_reactivate, POST),

    # funding schemes
    ("/funding",                                                         funding.scheme_list,             GET),
    ("/funding/new",                                                     funding.scheme_new,              FORM),
    ("/funding/<int:scheme_id>",                                         funding.scheme_detail,           GET),
    ("/funding/<int:scheme_id>/edit",                                    funding.scheme_edit,             FORM),
    ("/funding/<int:scheme_id>/figures",                                 funding.scheme_figures,          FORM),

    # API tokens
    ("/api-tokens",                                                      api_tokens.api_tokens,           FORM),
    ("/api-tokens/<int:token_id>/revoke",                                api_tokens.revoke_api_token,     FORM),
]
# fmt: on

for rule, view, methods in ROUTES:
    bp.add_url_rule(rule, view_func=view, methods=methods)
