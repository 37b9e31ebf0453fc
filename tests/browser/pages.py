"""The main pages of every role, for the accessibility and small-screen checks.

A page is a path (filled in from :class:`scenes.DemoPages`) seen by one account, or the
preview an HR officer gets after uploading a CSV file (which saves nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .scenes import DemoPages
from .support import ADMIN, HR_B, LEARNER_A, TRAINER


@dataclass(frozen=True)
class PageSpec:
    key: str
    account: str | None
    path: str
    upload: str | None = None  # "nominations" or "staff": upload a CSV file at ``path``

    def url(self, demo: DemoPages) -> str:
        return self.path.format(**vars(demo))


PAGES = (
    # Anyone
    PageSpec("public-home", None, "/"),
    PageSpec("public-catalogue", None, "/courses"),
    PageSpec("public-course", None, "/courses/{course_code}"),
    PageSpec("public-login", None, "/login"),
    PageSpec("public-register", None, "/register"),
    PageSpec("public-forgot-password", None, "/forgot-password"),
    PageSpec("public-verify", None, "/verify/{certificate_code}"),
    PageSpec("public-api-reference", None, "/api/v1/docs"),
    # Learner
    PageSpec("learner-my-learning", LEARNER_A, "/my-learning"),
    PageSpec("learner-account", LEARNER_A, "/account"),
    PageSpec("learner-course", LEARNER_A, "/courses/{course_code}"),
    # HR officer (of the company whose requests need approval, so that approvals has some)
    PageSpec("hr-dashboard", HR_B, "/hr/"),
    PageSpec("hr-approvals", HR_B, "/hr/approvals"),
    PageSpec("hr-staff", HR_B, "/hr/staff"),
    PageSpec("hr-employee", HR_B, "/hr/staff/{employee_id}"),
    PageSpec("hr-classes", HR_B, "/hr/classes"),
    PageSpec("hr-class", HR_B, "/hr/classes/{hr_class_code}"),
    PageSpec("hr-progress", HR_B, "/hr/progress?department={progress_department}"),
    PageSpec("hr-reports", HR_B, "/hr/reports"),
    PageSpec("hr-invite", HR_B, "/hr/staff/invite"),
    PageSpec("hr-nominations-import", HR_B, "/hr/nominations/import"),
    PageSpec("hr-nominations-preview", HR_B, "/hr/nominations/import", upload="nominations"),
    PageSpec("hr-staff-import", HR_B, "/hr/staff/import"),
    PageSpec("hr-staff-preview", HR_B, "/hr/staff/import", upload="staff"),
    PageSpec("hr-audit", HR_B, "/hr/audit"),
    PageSpec("hr-certificates", HR_B, "/hr/certificates"),
    PageSpec("hr-funding", HR_B, "/hr/funding"),
    PageSpec("hr-claims", HR_B, "/hr/funding/claims"),
    PageSpec("hr-value", HR_B, "/hr/value"),
    PageSpec("hr-webhooks", HR_B, "/hr/webhooks"),
    PageSpec("hr-webhook-new", HR_B, "/hr/webhooks/new"),
    PageSpec("hr-webhook", HR_B, "/hr/webhooks/{webhook_endpoint_id}"),
    PageSpec("hr-api-tokens", HR_B, "/hr/api-tokens"),
    PageSpec("hr-api-token-revoke", HR_B, "/hr/api-tokens/{hr_token_id}/revoke"),
    # Trainer
    PageSpec("trainer-home", TRAINER, "/trainer/"),
    PageSpec("trainer-roster", TRAINER, "/trainer/classes/{trainer_class_code}"),
    PageSpec(
        "trainer-attendance",
        TRAINER,
        "/trainer/classes/{trainer_class_code}/sessions/{trainer_session_id}/attendance",
    ),
    PageSpec("trainer-results", TRAINER, "/trainer/classes/{trainer_class_code}/results"),
    PageSpec("trainer-close", TRAINER, "/trainer/classes/{trainer_class_code}/close"),
    # Admin
    PageSpec("admin-home", ADMIN, "/admin/"),
    PageSpec("admin-courses", ADMIN, "/admin/courses"),
    PageSpec("admin-course", ADMIN, "/admin/courses/{course_id}"),
    PageSpec("admin-new-course", ADMIN, "/admin/courses/new"),
    PageSpec("admin-classes", ADMIN, "/admin/classes"),
    PageSpec("admin-class", ADMIN, "/admin/classes/{admin_class_id}"),
    PageSpec("admin-new-class", ADMIN, "/admin/classes/new"),
    PageSpec("admin-companies", ADMIN, "/admin/companies"),
    PageSpec("admin-company", ADMIN, "/admin/companies/{company_id}"),
    PageSpec("admin-users", ADMIN, "/admin/users"),
    PageSpec("admin-invite", ADMIN, "/admin/users/invite"),
    PageSpec("admin-invitations", ADMIN, "/admin/users/invitations"),
    PageSpec("admin-user", ADMIN, "/admin/users/{employee_id}"),
    PageSpec("admin-user-edit", ADMIN, "/admin/users/{employee_id}/edit"),
    PageSpec("admin-audit", ADMIN, "/admin/audit"),
    PageSpec("admin-funding", ADMIN, "/admin/funding"),
    PageSpec("admin-funding-scheme", ADMIN, "/admin/funding/{scheme_id}"),
    PageSpec("admin-funding-figures", ADMIN, "/admin/funding/{scheme_id}/figures"),
    PageSpec("admin-api-tokens", ADMIN, "/admin/api-tokens"),
)


def upload_csv(page: Any, demo: DemoPages, kind: str) -> None:
    """Upload a CSV file with one good row and one bad row on the current import page."""
    if kind == "nominations":
        name = "nominations.csv"
        text = (
            "E-mail,Staff number,Class code\r\n"
            f"{demo.nomination_email},,{demo.nomination_class_code}\r\n"
            f"nobody.here@partner-b.test,,{demo.nomination_class_code}\r\n"
        )
    else:
        name = "staff.csv"
        text = (
            "E-mail,Name,Staff number,Department,Job title\r\n"
            "carmen.fok@partner-b.test,Carmen Fok Wing Yan,LR90001,Finance Systems,Analyst\r\n"
            "someone@elsewhere.example,Someone Else,,,\r\n"
        )
    page.locator("input[type=file]").set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": text.encode("utf-8")}]
    )
    page.locator("form.import-upload button[type=submit]").click()
    page.locator(".import-counts").wait_for()
    # The preview's style sheet too: what is measured next depends on it.
    page.wait_for_load_state("load")
