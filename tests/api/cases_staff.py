"""A company's staff: its own learners for a company's token (another's are not there: 404),
every company's for an institute-wide one; changes need the ``staff:write`` scope."""

from __future__ import annotations

from skillsup.models import ApiScope

from ..security.conftest import Scene
from .matrix import ApiCase, needs


def _employee(s: Scene) -> str:
    return f"/api/v1/staff/{s.users['learner_a']}"


#: A new employee of A, naming A: B's token names another company (404).
NEW_EMPLOYEE = {
    "email": "fay.tam@harbour-it.test",
    "name": "Fay Tam",
    "staff_number": "HB-0101",
    "department": "Service Desk",
    "company": "HBIT",
}

CASES = [
    ApiCase("api_staff.list_staff", "GET", lambda s: "/api/v1/staff", needs(ApiScope.READ, 200)),
    ApiCase(
        "api_staff.get_staff_member",
        "GET",
        _employee,
        needs(ApiScope.READ, 200, hr_b=404),
    ),
    ApiCase(
        "api_staff.sync_staff_member",
        "POST",
        lambda s: "/api/v1/staff",
        needs(ApiScope.STAFF_WRITE, 201, hr_b=404),
        body=lambda s: NEW_EMPLOYEE,
    ),
    ApiCase(
        "api_staff.change_staff_member",
        "PATCH",
        _employee,
        needs(ApiScope.STAFF_WRITE, 200, hr_b=404),
        body=lambda s: {"department": "Platform Engineering", "job_title": "Engineer"},
    ),
    ApiCase(
        "api_staff.deactivate_staff_member",
        "POST",
        lambda s: f"{_employee(s)}/deactivate",
        needs(ApiScope.STAFF_WRITE, 200, hr_b=404),
        body=lambda s: {"reason": "Left the company"},
    ),
    ApiCase(
        "api_staff.reactivate_staff_member",
        "POST",
        lambda s: f"{_employee(s)}/reactivate",
        needs(ApiScope.STAFF_WRITE, 200, hr_b=404),
        body=lambda s: {"reason": "Rejoined"},
    ),
]

#: Real values for the path parameters, for the Schemathesis run.
PATH_VALUES = {
    "/api/v1/staff/{employee_id}": lambda s: {"employee_id": s.users["learner_a"]},
    "/api/v1/staff/{employee_id}/deactivate": lambda s: {"employee_id": s.users["learner_a"]},
    "/api/v1/staff/{employee_id}/reactivate": lambda s: {"employee_id": s.users["learner_a"]},
}
