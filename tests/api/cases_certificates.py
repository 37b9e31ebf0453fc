"""Certificates: a company's token reads its own staff's (another company's is not there for
it: 404); anyone checks one by its verification code."""

from __future__ import annotations

from skillsup.models import ApiScope

from .matrix import ApiCase, needs, public

CASES = [
    ApiCase(
        "api_certificates.list_certificates",
        "GET",
        lambda s: "/api/v1/certificates",
        needs(ApiScope.READ, 200),
    ),
    ApiCase(
        "api_certificates.get_certificate",
        "GET",
        lambda s: f"/api/v1/certificates/{s.certificate_id}",
        needs(ApiScope.READ, 200, hr_b=404),
    ),
    ApiCase(
        "api_certificates.verify_certificate",
        "GET",
        lambda s: f"/api/v1/certificates/verify/{s.verification_code}",
        public(),
    ),
]

#: Real values for the path parameters, for the Schemathesis run.
PATH_VALUES = {
    "/api/v1/certificates/{certificate_id}": lambda s: {"certificate_id": s.certificate_id},
    "/api/v1/certificates/verify/{code}": lambda s: {"code": s.verification_code},
}
