"""Progress and attendance: a company's token reads its own staff's; another company's
employee is not there for it (404). A class is there for every company's token: one without
staff in it gets an empty list."""

from __future__ import annotations

from skillsup.models import ApiScope

from .matrix import ApiCase, needs

CASES = [
    ApiCase(
        "api_progress.list_progress", "GET", lambda s: "/api/v1/progress", needs(ApiScope.READ, 200)
    ),
    ApiCase(
        "api_progress.get_class_progress",
        "GET",
        lambda s: f"/api/v1/progress/classes/{s.class_code}",
        needs(ApiScope.READ, 200),
    ),
    ApiCase(
        "api_progress.get_employee_progress",
        "GET",
        lambda s: f"/api/v1/progress/employees/{s.users['learner_a']}",
        needs(ApiScope.READ, 200, hr_b=404),
    ),
]

#: Real values for the path parameters, for the Schemathesis run.
PATH_VALUES = {
    "/api/v1/progress/classes/{code}": lambda s: {"code": s.class_code},
    "/api/v1/progress/employees/{employee_id}": lambda s: {"employee_id": s.users["learner_a"]},
}
