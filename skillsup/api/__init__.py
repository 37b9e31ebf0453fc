"""The JSON API for partner companies' HR systems, at ``/api/v1``.

Each resource is a module with its blueprint (:class:`.core.ApiBlueprint`); the OpenAPI 3.1
document is generated from them by flask-smorest and served at ``/api/v1/openapi.json``.
"""

from __future__ import annotations

from flask import Flask

from .core import API_VERSION, SECURITY_SCHEME, URL_PREFIX, PortalApi
from .reference import bp as reference_bp
from .schemas import CODE_PARAMETER_SCHEMA, CodeConverter


def init_api(app: Flask) -> None:
    """Bind the API to ``app``: its document, its resources, its limits."""
    from . import catalogue, certificates, enrolments, progress, staff

    app.config.update(
        API_TITLE="SkillsUp API",
        API_VERSION=API_VERSION,
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX=URL_PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "info": {
                "description": (
                    "The SkillsUp portal's API for partner companies' HR systems: the "
                    "catalogue, a company's staff, enrolments, progress and certificates. "
                    "Errors are RFC 9457 problem details in the language of Accept-Language."
                ),
            },
            "servers": [{"url": "/"}],
            "components": {
                "securitySchemes": {
                    SECURITY_SCHEME: {
                        "type": "http",
                        "scheme": "bearer",
                        "description": (
                            "An API token created by an HR officer (for their company) or an "
                            "admin (institute-wide) on the portal's API tokens page."
                        ),
                    }
                }
            },
        },
    )
    app.url_map.converters["code"] = CodeConverter
    api = PortalApi(app)
    api.register_converter(CodeConverter, lambda _converter: dict(CODE_PARAMETER_SCHEMA))
    for module in (catalogue, staff, enrolments, progress, certificates):
        api.register_blueprint(module.blp)
    app.register_blueprint(reference_bp)  # a page for people: not in the document
