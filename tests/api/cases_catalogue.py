"""The public catalogue answers everyone, with any token or none."""

from __future__ import annotations

from .matrix import ApiCase, public

CASES = [
    ApiCase("api_catalogue.list_courses", "GET", lambda s: "/api/v1/courses", public()),
    ApiCase(
        "api_catalogue.get_course", "GET", lambda s: f"/api/v1/courses/{s.course_code}", public()
    ),
    ApiCase("api_catalogue.list_classes", "GET", lambda s: "/api/v1/classes", public()),
    ApiCase(
        "api_catalogue.get_class", "GET", lambda s: f"/api/v1/classes/{s.class_code}", public()
    ),
    ApiCase("api-docs.openapi_json", "GET", lambda s: "/api/v1/openapi.json", public()),
]

#: Real values for the path parameters, for the Schemathesis run.
PATH_VALUES = {
    "/api/v1/courses/{code}": lambda s: {"code": s.course_code},
    "/api/v1/classes/{code}": lambda s: {"code": s.class_code},
}
