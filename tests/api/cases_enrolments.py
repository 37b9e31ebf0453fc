"""A company's enrolments: its token reads and changes its own (B's token gets 404 for A's
enrolments), an institute-wide token every company's."""

from __future__ import annotations

from skillsup.models import ApiScope

from .matrix import ApiCase, needs


def _nomination(s):
    return {
        "class_code": s.open_class_code,
        "email": s.emails["learner_a"],
        # An admin places a learner of A (which approves its staff's enrolments) with a reason.
        "note": "Agreed with the team lead",
    }


CASES = [
    ApiCase(
        "api_enrolments.list_enrolments",
        "GET",
        lambda s: "/api/v1/enrolments",
        needs(ApiScope.READ, 200),
    ),
    ApiCase(
        "api_enrolments.get_enrolment",
        "GET",
        lambda s: f"/api/v1/enrolments/{s.pending_enrolment_id}",
        needs(ApiScope.READ, 200, hr_b=404),
    ),
    ApiCase(
        "api_enrolments.nominate",
        "POST",
        lambda s: "/api/v1/enrolments",
        # B's token names A's learner: no employee of B's has that address.
        needs(ApiScope.ENROLMENTS_WRITE, 201, hr_b=404),
        body=_nomination,
    ),
    ApiCase(
        "api_enrolments.withdraw",
        "POST",
        lambda s: f"/api/v1/enrolments/{s.confirmed_enrolment_id}/withdraw",
        needs(ApiScope.ENROLMENTS_WRITE, 200, hr_b=404),
        body=lambda s: {"reason": "Moved to another project"},
    ),
    ApiCase(
        "api_enrolments.approve",
        "POST",
        lambda s: f"/api/v1/enrolments/{s.pending_enrolment_id}/approve",
        needs(ApiScope.ENROLMENTS_WRITE, 200, hr_b=404),
    ),
    ApiCase(
        "api_enrolments.reject",
        "POST",
        lambda s: f"/api/v1/enrolments/{s.pending_enrolment_id}/reject",
        needs(ApiScope.ENROLMENTS_WRITE, 200, hr_b=404),
        body=lambda s: {"reason": "Not this term"},
    ),
]

#: Real values for the path parameters, for the Schemathesis run.
PATH_VALUES = {
    "/api/v1/enrolments/{enrolment_id}": lambda s: {"enrolment_id": s.pending_enrolment_id},
    "/api/v1/enrolments/{enrolment_id}/withdraw": lambda s: {
        "enrolment_id": s.confirmed_enrolment_id
    },
    "/api/v1/enrolments/{enrolment_id}/approve": lambda s: {"enrolment_id": s.pending_enrolment_id},
    "/api/v1/enrolments/{enrolment_id}/reject": lambda s: {"enrolment_id": s.pending_enrolment_id},
}
