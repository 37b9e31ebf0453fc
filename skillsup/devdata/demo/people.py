"""The demo's people: institute staff, the partner companies and their employees.

Accounts are written as they are: everyone shares one password hash, names are invented and
addresses at ``.test`` domains. The companies are created, and leavers deactivated, through
the services, as an admin and an HR officer do it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from ...extensions import db
from ...models import ApiScope, ApiToken, CompanyDomain, PartnerCompany, Role, User
from ...services import api_tokens, companies, sso_providers, staff
from ...services.passwords import hash_password
from ..calendar import hk_date
from ..names import invent_name
from .state import DEMO_PASSWORD, DemoLearner, SeedState, Step


@dataclass(frozen=True)
class StaffSpec:
    email: str
    name: str
    role: Role
    department: str | None = None
    job_title: str | None = None
    language: str | None = None


ADMINS = (
    StaffSpec(
        "admin@skillsup.test",
        "Grace Ip Wai Yee",
        Role.ADMIN,
        "Lifelong Learning Programme Office",
        "Programme Officer",
        "en",
    ),
    StaffSpec(
        "admin2@skillsup.test",
        "Henry Chiu Kin Man",
        Role.ADMIN,
        "Lifelong Learning Programme Office",
        "Senior Programme Officer",
        "zh_Hant_HK",
    ),
)

TRAINERS = (
    StaffSpec(
        "trainer@skillsup.test",
        "Alan Yip Chun Kit",
        Role.TRAINER,
        "Department of Information Technology",
        "Lecturer, Cloud and Software Engineering",
        "en",
    ),
    StaffSpec(
        "trainer2@skillsup.test",
        "Irene Tsang Mei Ling",
        Role.TRAINER,
        "Department of Information Technology",
        "Senior Lecturer, Cybersecurity and Networking",
        "zh_Hant_HK",
    ),
    StaffSpec(
        "trainer3@skillsup.test",
        "Vincent Lam Tsz Ho",
        Role.TRAINER,
        "Department of Information Technology",
        "Lecturer, Data and Digital Workplace",
        None,
    ),
    StaffSpec(
        "trainer4@skillsup.test",
        "Catherine Mok Suk Yee",
        Role.TRAINER,
        "Department of Business and IT Management",
        "Lecturer, Project and Service Management",
        "en",
    ),
)


#: The demo's one API token: its company's HR officer connected the company's HR system.
INTEGRATION_COMPANY = "LRFT"
INTEGRATION_NAME = "Nightly HR sync"


@dataclass(frozen=True)
class CompanySpec:
    code: str
    name: str
    domain: str
    requires_approval: bool
    staff_prefix: str
    quota_seats: int
    hr_name: str
    hr_title: str
    lead_learner: tuple[str, str, str]  # name, department, job title
    departments: tuple[tuple[str, tuple[str, ...]], ...]
    learners: int = 30


COMPANIES = (
    CompanySpec(
        code="HVIT",
        name="Harbourview IT Services Ltd",
        domain="partner-a.test",
        requires_approval=False,
        staff_prefix="HV",
        quota_seats=150,
        hr_name="Yvonne Lo Mei Kuen",
        hr_title="HR Business Partner",
        lead_learner=("Chan Tai Man", "Infrastructure", "Systems Engineer"),
        departments=(
            ("Infrastructure", ("Systems Engineer", "Senior Systems Engineer", "Storage Analyst")),
            ("Service Desk", ("Service Desk Analyst", "Senior Service Desk Analyst", "Team Lead")),
            ("Software Delivery", ("Analyst Programmer", "Software Engineer", "QA Engineer")),
            ("Cloud Platform", ("Cloud Engineer", "Platform Engineer")),
            ("Project Office", ("Project Coordinator", "Project Manager")),
        ),
    ),
    CompanySpec(
        code="LRFT",
        name="Lion Rock Financial Technology Ltd",
        domain="partner-b.test",
        requires_approval=True,
        staff_prefix="LR",
        quota_seats=120,
        hr_name="Patrick Szeto Ka Fai",
        hr_title="Learning and Development Manager",
        lead_learner=("Wong Ka Yan", "Finance Systems", "Systems Analyst"),
        departments=(
            ("Finance Systems", ("Systems Analyst", "Business Analyst", "Analyst Programmer")),
            ("Information Security", ("Security Analyst", "IT Risk Officer")),
            ("Data and Analytics", ("Data Analyst", "BI Developer", "Data Engineer")),
            ("Application Support", ("Application Support Analyst", "Support Team Lead")),
            ("Software Delivery", ("Software Engineer", "Senior Software Engineer")),
        ),
    ),
    CompanySpec(
        code="PDLS",
        name="Pearl Delta Logistics Systems Ltd",
        domain="partner-c.test",
        requires_approval=False,
        staff_prefix="PD",
        quota_seats=120,
        hr_name="Bonnie Kwan Siu Ling",
        hr_title="Training Officer",
        lead_learner=("Cheung Wing Sze", "IT Operations", "IT Support Officer"),
        departments=(
            ("IT Operations", ("IT Support Officer", "Network Engineer", "Systems Administrator")),
            ("Warehouse Systems", ("Systems Analyst", "Analyst Programmer")),
            ("Digital Transformation", ("Business Analyst", "Automation Specialist")),
            ("Service Desk", ("Service Desk Analyst", "Service Desk Supervisor")),
        ),
    ),
)


def _free_staff_number(number: str, in_use: set[str]) -> str:
    """``number``, or the next one up if someone in the company already has it."""
    prefix, digits = number[:2], int(number[2:])
    while f"{prefix}{digits}" in in_use:
        digits += 1
    in_use.add(f"{prefix}{digits}")
    return f"{prefix}{digits}"


class PeopleSeeding(SeedState):
    """Seeds the people and the companies they work for."""

    def password_hash(self) -> str:
        if self._password_hash is None:
            self._password_hash = hash_password(DEMO_PASSWORD)
        return self._password_hash

    def seed_people(self, story_emails: set[str]) -> None:
        """The admins and trainers, the companies, and their HR officers and learners, found
        by e-mail (or code) or created; the learners of ``story_emails`` are kept out of the
        classes filled at random.

        The companies are created by the first admin through the companies service. A learner
        who has left the company is deactivated by their HR officer, when they left, through
        the staff service (see :meth:`schedule_departures`).
        """
        specs = self.people_specs()
        existing = {
            user.email: user
            for user in db.session.scalars(
                select(User).where(User.email.in_([spec["email"] for spec, _ in specs]))
            )
        }
        institute = [(index, spec) for index, (spec, code) in enumerate(specs) if code is None]
        self.save_users(institute, None, existing)
        # The companies join once the institute's staff have, before their own staff do.
        self.seed_companies(self.days_ago(420 - len(institute) + 1) + timedelta(hours=2))
        staff_numbers_in_use = self.staff_numbers_in_use()
        for company_spec in COMPANIES:
            mine = [
                (index, spec)
                for index, (spec, code) in enumerate(specs)
                if code == company_spec.code
            ]
            self.save_users(mine, company_spec, existing, staff_numbers_in_use[company_spec.code])
        db.session.flush()

        for spec, company_code in specs:
            user = self.users[spec["email"]]
            if company_code is None or spec["role"] is not Role.LEARNER:
                continue
            company_spec = next(c for c in COMPANIES if c.code == company_code)
            if user.role is not Role.LEARNER or user.company_id != self.companies[company_code].id:
                continue
            self.learners.append(
                DemoLearner(
                    user=user,
                    spec=company_spec,
                    hr=self.users[f"hr@{company_spec.domain}"],
                    # A leaver of this run leaves later in the history; one of an earlier run
                    # has left already.
                    leaves_at=self.departures.get(user.email, user.deactivated_at),
                    story=user.email in story_emails,
                )
            )

    def people_specs(self) -> list[tuple[dict[str, Any], str | None]]:
        """Everyone the demo has, with the code of their company (``None`` for institute
        staff), in the order they joined. Invented names and staff numbers come from the
        seeded random source, so every run invents the same people."""
        rng = self.rng
        specs: list[tuple[dict[str, Any], str | None]] = []
        for member in (*ADMINS, *TRAINERS):
            specs.append(
                (
                    {
                        "email": member.email,
                        "name": member.name,
                        "role": member.role,
                        "department": member.department,
                        "job_title": member.job_title,
                        "preferred_language": member.language,
                    },
                    None,
                )
            )
        taken_emails = {spec["email"] for spec, _ in specs}
        for company_spec in COMPANIES:
            taken_numbers: set[str] = set()

            def staff_number(
                spec: CompanySpec = company_spec, taken: set[str] = taken_numbers
            ) -> str:
                while True:
                    number = f"{spec.staff_prefix}{rng.randint(10000, 99999)}"
                    if number not in taken:
                        taken.add(number)
                        return number

            specs.append(
                (
                    {
                        "email": f"hr@{company_spec.domain}",
                        "name": company_spec.hr_name,
                        "role": Role.HR,
                        "department": "Human Resources",
                        "job_title": company_spec.hr_title,
                        "staff_number": staff_number(),
                        "preferred_language": "en",
                    },
                    company_spec.code,
                )
            )
            lead_name, lead_department, lead_title = company_spec.lead_learner
            people: list[dict[str, Any]] = [
                {
                    "email": f"learner@{company_spec.domain}",
                    "name": lead_name,
                    "department": lead_department,
                    "job_title": lead_title,
                    "preferred_language": None,
                }
            ]
            while len(people) < company_spec.learners:
                name, local_part = invent_name(rng)
                email = f"{local_part}@{company_spec.domain}"
                if email in taken_emails:
                    continue
                taken_emails.add(email)
                department, titles = rng.choice(company_spec.departments)
                people.append(
                    {
                        "email": email,
                        "name": name,
                        "department": department,
                        "job_title": rng.choice(titles),
                        "preferred_language": rng.choice(("en", "zh_Hant_HK", "zh_Hant_HK", None)),
                    }
                )
            for index, person in enumerate(people):
                person["role"] = Role.LEARNER
                person["staff_number"] = staff_number()
                # The last learner of the first two companies has left the company.
                person["has_left"] = index == len(people) - 1 and company_spec.code != "PDLS"
                specs.append((person, company_spec.code))
        return specs

    def save_users(
        self,
        specs: list[tuple[int, dict[str, Any]]],
        company_spec: CompanySpec | None,
        existing: dict[str, User],
        staff_numbers_in_use: set[str] | None = None,
    ) -> None:
        """Create the accounts of ``specs`` (each with its place in the list of everyone)
        that do not exist yet, all with the demo password, joined a day apart."""
        company = self.companies[company_spec.code] if company_spec else None
        for index, spec in specs:
            user = existing.get(spec["email"])
            if user is None:
                created_at = self.days_ago(420 - index)
                fields = {key: value for key, value in spec.items() if key != "has_left"}
                if staff_numbers_in_use is not None and fields.get("staff_number"):
                    fields["staff_number"] = _free_staff_number(
                        fields["staff_number"], staff_numbers_in_use
                    )
                user = User(
                    company=company,
                    password_hash=self.password_hash(),
                    email_confirmed_at=created_at + timedelta(minutes=12),
                    created_at=created_at,
                    **fields,
                )
                # Staff of the third company were invited by their HR officer.
                if company_spec and company_spec.code == "PDLS" and user.role is Role.LEARNER:
                    user.invited_by = self.users[f"hr@{company_spec.domain}"]
                    user.invited_at = created_at
                db.session.add(user)
                if spec.get("has_left"):
                    self.departures[user.email] = self.days_ago(20 + index % 7) + timedelta(
                        hours=10
                    )
            self.users[spec["email"]] = user
        db.session.flush()

    def staff_numbers_in_use(self) -> dict[str, set[str]]:
        """Staff numbers already taken in each demo company (by anyone, demo or not)."""
        codes = {company.id: code for code, company in self.companies.items()}
        in_use: dict[str, set[str]] = {code: set() for code in self.companies}
        rows = db.session.execute(
            select(User.company_id, User.staff_number).where(
                User.company_id.in_(list(codes)), User.staff_number.is_not(None)
            )
        )
        for company_id, number in rows:
            # Neither is missing: the query asks for the demo companies' staff numbers.
            assert company_id is not None and number is not None
            in_use[codes[company_id]].add(number)
        return in_use

    def seed_companies(self, at: datetime) -> None:
        """The demo's partner companies, found by code or created by the first admin ``at``
        that moment, each with its e-mail domain."""
        admin = self.users[ADMINS[0].email]
        codes = [spec.code for spec in COMPANIES]
        existing = {
            company.code: company
            for company in db.session.scalars(
                select(PartnerCompany).where(PartnerCompany.code.in_(codes))
            )
        }
        known_domains = set(
            db.session.scalars(
                select(CompanyDomain.domain).where(
                    CompanyDomain.domain.in_([spec.domain for spec in COMPANIES])
                )
            )
        )
        self.clock.now = at
        for spec in COMPANIES:
            company = existing.get(spec.code)
            if company is None:
                company = companies.create_company(
                    admin,
                    companies.CompanyData(
                        name=spec.name,
                        code=spec.code,
                        domains=[spec.domain],
                        requires_approval=spec.requires_approval,
                    ),
                )
            elif spec.domain not in known_domains:
                data = companies.CompanyData.from_company(company)
                companies.update_company(
                    admin, company, replace(data, domains=[*data.domains, spec.domain])
                )
            self.companies[spec.code] = company
        self.seed_identity_provider()

    def seed_identity_provider(self) -> None:
        """Lion Rock is preparing single sign-on: its provider is entered but switched off,
        so that admins see the page filled in while everyone still signs in with a password
        (the example issuer does not exist)."""
        company = self.companies["LRFT"]
        if sso_providers.provider_of(company) is not None:
            return
        spec = next(c for c in COMPANIES if c.code == "LRFT")
        sso_providers.save_provider(
            self.users[ADMINS[0].email],
            company,
            sso_providers.ProviderData(
                issuer="https://login.lionrock.example",
                client_id="skillsup-portal",
                client_secret="demo-secret-of-an-example-provider",  # noqa: S106
                domains=[spec.domain],
                password_allowed=False,
                is_enabled=False,
            ),
            verify=False,
        )

    def schedule_departures(self) -> None:
        """Each leaver created by this run is deactivated by their HR officer on the day they
        left; the staff service withdraws them from classes still to come."""
        for learner in self.learners:
            if learner.user.email in self.departures:
                self.schedule(self.departures[learner.user.email], self.departure_step(learner))

    def schedule_api_token(self) -> None:
        """The HR officer of :data:`INTEGRATION_COMPANY` connected the company's HR system a
        month ago: one API token, created through the service as on the tokens page (its
        secret, shown once then, is not kept or printed anywhere)."""
        spec = next(c for c in COMPANIES if c.code == INTEGRATION_COMPANY)
        company = self.companies[spec.code]
        exists = db.session.scalar(
            select(ApiToken.id).where(
                ApiToken.company_id == company.id, ApiToken.name == INTEGRATION_NAME
            )
        )
        if exists is not None:
            return
        officer = self.users[f"hr@{spec.domain}"]

        def connect() -> None:
            now = self.clock.now
            assert now is not None  # play() sets the clock to a step's moment before running it
            api_tokens.create_token(
                officer,
                INTEGRATION_NAME,
                [ApiScope.READ.value, ApiScope.STAFF_WRITE.value],
                expires_on=hk_date(now) + timedelta(days=365),
                now=now,
            )

        self.schedule(self.days_ago(30) + timedelta(hours=10), connect)

    def departure_step(self, learner: DemoLearner) -> Step:
        def leave() -> None:
            now = self.clock.now
            assert now is not None  # play() sets the clock to a step's moment before running it
            staff.deactivate_employee(
                learner.hr, learner.user, "Left the company.", today=hk_date(now), now=now
            )

        return leave
