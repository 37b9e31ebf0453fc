"""Demo data: ``flask --app skillsup seed-demo``.

Everything here is invented: the people, the companies and their ``.test`` domains. The
schedule is placed around a reference day so that the demo always has classes that are over,
classes running now and classes open for enrolment over the coming months.

Enrolments are made directly (not through the enrolment service) by replaying each class's
requests, approvals, withdrawals and waitlist promotions in time order, so that the result
obeys the same rules the service enforces: never more confirmed learners than seats, one
active enrolment per learner and class, a first-come-first-served waitlist, approval only for
companies that require it.
"""

from __future__ import annotations

import math
import random
import secrets
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from .extensions import db
from .models import (
    Attendance,
    AttendanceStatus,
    AuditEntry,
    Certificate,
    ClassSession,
    ClassStatus,
    CompanyDomain,
    Course,
    CourseClass,
    CourseStatus,
    DeliveryMode,
    Enrolment,
    EnrolmentSource,
    EnrolmentStatus,
    EnrolmentStatusChange,
    PartnerCompany,
    Role,
    SeatQuota,
    SkillArea,
    TeachingLanguage,
    User,
    class_trainers,
)
from .services import audit
from .services.enrolment import QUOTA_STATUSES
from .services.passwords import hash_password

__all__ = ["DEMO_PASSWORD", "SeedReport", "hong_kong_today", "seed_demo"]

HONG_KONG = ZoneInfo("Asia/Hong_Kong")
# Published in the README: every demo account signs in with it.
DEMO_PASSWORD = "skillsup-demo"  # noqa: S105
SEED = 2026
SEEDED_ACTION = "demo.seeded"

# Counted in this order in the summary.
REPORT_KEYS = (
    "users",
    "companies",
    "company_domains",
    "seat_quotas",
    "courses",
    "course_prerequisites",
    "classes",
    "class_sessions",
    "enrolments",
    "enrolment_status_changes",
    "attendance",
    "certificates",
)


@dataclass
class SeedReport:
    """What one run of :func:`seed_demo` created."""

    created: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.created.values())

    def summary(self) -> str:
        if self.total == 0:
            return "Demo data already loaded: nothing new was created."
        parts = [
            f"{self.created[key]:,} {key.replace('_', ' ')}"
            for key in REPORT_KEYS
            if self.created.get(key)
        ]
        return (
            f"Demo data loaded: {', '.join(parts)}.\n"
            "Sign in as admin@skillsup.test, trainer@skillsup.test, hr@partner-a.test, "
            f"learner@partner-a.test and others with the password {DEMO_PASSWORD}."
        )


def hong_kong_today() -> date:
    return datetime.now(HONG_KONG).date()


def seed_demo(today: date | None = None) -> SeedReport:
    """Load the demo data; idempotent: records found by their natural keys are kept as they are.

    Users are found by e-mail, companies by code, courses and classes by code, quotas by
    company, label and course. Sessions, enrolments, attendance and certificates are created
    with their class only, so a second run creates nothing. ``today`` (default: today in
    Hong Kong) anchors the schedule on the first run; later runs reuse that first anchor so
    that they find the same class codes. Adds and flushes, never commits.
    """
    anchor = _stored_anchor() or today or hong_kong_today()
    seeder = _Seeder(anchor)
    seeder.run()
    report = SeedReport({key: seeder.created.get(key, 0) for key in REPORT_KEYS})
    if report.total:
        audit.record(
            None,
            SEEDED_ACTION,
            summary=report.summary().splitlines()[0],
            details={"anchor": anchor.isoformat(), "created": report.created},
        )
        db.session.flush()
    return report


def _stored_anchor() -> date | None:
    entry = db.session.scalar(
        select(AuditEntry)
        .where(AuditEntry.action == SEEDED_ACTION)
        .order_by(AuditEntry.id)
        .limit(1)
    )
    if entry is None:
        return None
    try:
        return date.fromisoformat(str((entry.details or {}).get("anchor")))
    except ValueError:
        return None


# People ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _StaffSpec:
    email: str
    name: str
    role: Role
    department: str | None = None
    job_title: str | None = None
    language: str | None = None


ADMINS = (
    _StaffSpec(
        "admin@skillsup.test",
        "Grace Ip Wai Yee",
        Role.ADMIN,
        "Lifelong Learning Programme Office",
        "Programme Officer",
        "en",
    ),
    _StaffSpec(
        "admin2@skillsup.test",
        "Henry Chiu Kin Man",
        Role.ADMIN,
        "Lifelong Learning Programme Office",
        "Senior Programme Officer",
        "zh_Hant_HK",
    ),
)

TRAINERS = (
    _StaffSpec(
        "trainer@skillsup.test",
        "Alan Yip Chun Kit",
        Role.TRAINER,
        "Department of Information Technology",
        "Lecturer, Cloud and Software Engineering",
        "en",
    ),
    _StaffSpec(
        "trainer2@skillsup.test",
        "Irene Tsang Mei Ling",
        Role.TRAINER,
        "Department of Information Technology",
        "Senior Lecturer, Cybersecurity and Networking",
        "zh_Hant_HK",
    ),
    _StaffSpec(
        "trainer3@skillsup.test",
        "Vincent Lam Tsz Ho",
        Role.TRAINER,
        "Department of Information Technology",
        "Lecturer, Data and Digital Workplace",
        None,
    ),
    _StaffSpec(
        "trainer4@skillsup.test",
        "Catherine Mok Suk Yee",
        Role.TRAINER,
        "Department of Business and IT Management",
        "Lecturer, Project and Service Management",
        "en",
    ),
)


@dataclass(frozen=True)
class _CompanySpec:
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
    _CompanySpec(
        code="HVIT",
        name="Harbourview IT Services Ltd",
        domain="partner-a.test",
        requires_approval=False,
        staff_prefix="HV",
        quota_seats=90,
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
    _CompanySpec(
        code="LRFT",
        name="Lion Rock Financial Technology Ltd",
        domain="partner-b.test",
        requires_approval=True,
        staff_prefix="LR",
        quota_seats=60,
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
    _CompanySpec(
        code="PDLS",
        name="Pearl Delta Logistics Systems Ltd",
        domain="partner-c.test",
        requires_approval=False,
        staff_prefix="PD",
        quota_seats=50,
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

SURNAMES = (
    "Chan", "Wong", "Cheung", "Lau", "Lee", "Ng", "Ho", "Leung", "Tsang", "Yip", "Kwok",
    "Lam", "Tam", "Mak", "Chow", "Fung", "Siu", "Yuen", "Tse", "Poon", "Lo", "Choi", "Tang",
    "Law", "Au Yeung", "So", "Ma", "Kwan", "Cheng", "Hui", "Chu", "Ip",
)  # fmt: skip
# Given names by the English name they usually go with: (Chinese given names, English names).
GIVEN_NAMES = (
    (
        ("Tai Man", "Chun Hei", "Ho Yin", "Siu Fung", "Ming Hin", "Tsz Chun", "Kin Wah",
         "Chi Ho", "Ka Lok", "Wai Kit", "Tsz Kin", "Chun Yin", "Kwok Leung", "Ka Ho"),
        ("Jason", "Kelvin", "Ivan", "Marcus", "Kenneth", "Alvin", "Raymond", "Edmond",
         "Derek", "Terence", "Eric", "Gordon", "Brian", "Dickson"),
    ),
    (
        ("Ka Yan", "Wing Sze", "Hoi Yan", "Lok Yi", "Pui Shan", "Sau Ling", "Man Yi",
         "Yan Ting", "Wing Yan", "Hoi Ching", "Suk Man", "Mei Yee", "Hiu Tung", "Sze Wing"),
        ("Cheryl", "Mandy", "Tracy", "Chloe", "Winnie", "Janice", "Queenie", "Gigi", "Phoebe",
         "Karen", "Hazel", "Joyce", "Vivian", "Fiona"),
    ),
)  # fmt: skip


# Courses -----------------------------------------------------------------------------------

# ``assessment``: classes of the course require a passed assessment.
COURSES: tuple[dict[str, Any], ...] = (
    {
        "code": "SU-CLD-101",
        "title_en": "Cloud Computing Fundamentals",
        "title_zh": "雲端運算基礎",
        "summary_en": "The building blocks of public cloud (compute, storage, networking and "
        "identity) and how IT teams move everyday workloads to it safely.",
        "summary_zh": "認識公有雲的基本組成部分，包括運算、儲存、網絡及身份管理，"
        "以及IT團隊如何安全地將日常工作負載遷移到雲端。",
        "description_en": "A hands-on introduction to cloud computing for IT staff who run "
        "on-premises systems today. You compare service and deployment models, launch and "
        "secure virtual machines, configure object storage and virtual networks, and estimate "
        "costs. Labs use sandbox accounts on a major public cloud provided by the institute.",
        "description_zh": "為現時負責本地系統的IT人員而設的雲端運算實務入門課程。"
        "學員會比較不同的服務及部署模式、建立並保護虛擬機器、設定物件儲存及虛擬網絡，"
        "並學習估算成本。實習使用學院提供的主要公有雲沙盒帳戶。",
        "outcomes_en": "Explain IaaS, PaaS and SaaS and when each fits\n"
        "Deploy and secure a virtual machine in a public cloud\n"
        "Configure object storage, virtual networks and security groups\n"
        "Estimate and monitor the monthly cost of a small workload",
        "outcomes_zh": "解釋IaaS、PaaS及SaaS的分別及適用情況\n"
        "在公有雲部署並保護虛擬機器\n"
        "設定物件儲存、虛擬網絡及安全群組\n"
        "估算及監察小型工作負載的每月成本",
        "audience_en": "IT support, infrastructure and operations staff with basic Windows "
        "or Linux experience who are new to the cloud.",
        "audience_zh": "具備基本Windows或Linux經驗、初次接觸雲端的IT支援、基建及營運人員。",
        "skills": "cloud computing, AWS, Azure, IaaS, virtual machines, object storage, "
        "cost management",
        "skill_area": SkillArea.CLOUD,
        "qf_level": 3,
        "qf_credits": 3,
        "contact_hours": 18,
        "delivery_mode": DeliveryMode.HYBRID,
        "teaching_language": TeachingLanguage.CANTONESE,
        "fee": 4200,
        "cef_reimbursable": True,
    },
    {
        "code": "SU-CLD-201",
        "title_en": "Cloud Solutions Architecture",
        "title_zh": "雲端解決方案架構",
        "summary_en": "Design resilient, secure and cost-aware architectures on a public "
        "cloud using well-architected principles.",
        "summary_zh": "運用「良好架構」原則，在公有雲上設計具韌性、安全及具成本效益的系統架構。",
        "description_en": "Working in small teams, you design a multi-tier application for a "
        "fictional logistics firm and defend your choices. Topics include high availability "
        "across zones, load balancing and auto scaling, managed databases, identity and "
        "access management, backup and disaster recovery, and architecture reviews.",
        "description_zh": "學員分組為一間虛構物流公司設計多層應用系統，並闡述設計理據。"
        "內容涵蓋跨可用區的高可用性、負載平衡及自動擴展、託管數據庫、身份及存取管理、"
        "備份與災難復原，以及架構審查。",
        "outcomes_en": "Apply well-architected principles to a business case\n"
        "Design for high availability and disaster recovery across zones\n"
        "Choose between managed database and storage services\n"
        "Document and present an architecture decision record",
        "outcomes_zh": "將良好架構原則應用於實際業務個案\n"
        "設計跨可用區的高可用性及災難復原方案\n"
        "選擇合適的託管數據庫及儲存服務\n"
        "撰寫並匯報架構決策記錄",
        "audience_en": "Engineers who have completed SU-CLD-101 or have six months of "
        "hands-on cloud experience.",
        "audience_zh": "已修畢SU-CLD-101或具六個月雲端實務經驗的工程人員。",
        "skills": "solution architecture, high availability, disaster recovery, load "
        "balancing, IAM, AWS, Azure",
        "skill_area": SkillArea.CLOUD,
        "qf_level": 4,
        "qf_credits": 6,
        "contact_hours": 30,
        "delivery_mode": DeliveryMode.ON_CAMPUS,
        "teaching_language": TeachingLanguage.ENGLISH,
        "fee": 8800,
        "cef_reimbursable": True,
        "prerequisites": ("SU-CLD-101",),
    },
    {
        "code": "SU-CLD-210",
        "title_en": "Containers and Kubernetes Essentials",
        "title_zh": "容器與Kubernetes基礎",
        "summary_en": "Package applications in containers and run them on Kubernetes with "
        "confidence.",
        "summary_zh": "學習以容器封裝應用程式，並在Kubernetes上穩妥地運行。",
        "description_en": "From writing a Dockerfile to operating workloads on a managed "
        "Kubernetes cluster: images and registries, pods, deployments and services, "
        "configuration and secrets, health checks, rolling updates and basic troubleshooting. "
        "Every session ends with a lab on a cluster provisioned for the class.",
        "description_zh": "由編寫Dockerfile到在託管Kubernetes叢集上營運工作負載："
        "映像檔及映像庫、Pod、Deployment及Service、設定與機密資料、健康檢查、滾動更新及"
        "基本疑難排解。每節課均設有在班級專用叢集上進行的實習。",
        "outcomes_en": "Build, tag and publish container images\n"
        "Deploy and expose an application on Kubernetes\n"
        "Manage configuration and secrets safely\n"
        "Diagnose failing pods with logs, events and probes",
        "outcomes_zh": "建立、標記及發佈容器映像檔\n"
        "在Kubernetes上部署及公開應用程式\n"
        "安全地管理設定及機密資料\n"
        "利用日誌、事件及探針診斷失效的Pod",
        "audience_en": "Developers and system administrators who deploy or support applications.",
        "audience_zh": "負責部署或支援應用程式的開發人員及系統管理員。",
        "skills": "containers, Docker, Kubernetes, kubectl, Helm, microservices",
        "skill_area": SkillArea.CLOUD,
        "qf_level": 4,
        "qf_credits": 5,
        "contact_hours": 24,
        "delivery_mode": DeliveryMode.ONLINE_LIVE,
        "teaching_language": TeachingLanguage.ENGLISH,
        "fee": 6800,
        "cef_reimbursable": False,
        "prerequisites": ("SU-CLD-101",),
    },
    {
        "code": "SU-CLD-301",
        "title_en": "Infrastructure as Code with Terraform",
        "title_zh": "以Terraform實踐基礎設施即程式碼",
        "summary_en": "Provision and change cloud infrastructure through reviewed, "
        "versioned code instead of console clicks.",
        "summary_zh": "以經審閱及版本控制的程式碼建立及變更雲端基礎設施，"
        "取代在主控台上的手動操作。",
        "description_en": "Write Terraform modules, manage state safely for a team, plan and "
        "apply changes through a CI pipeline, and detect drift. The course closes with a "
        "project that rebuilds a reference environment from scratch.",
        "description_zh": "學員會編寫Terraform模組、為團隊安全地管理狀態檔、透過CI流程"
        "規劃及套用變更，並偵測配置漂移。課程最後以一個從零重建參考環境的專題作結。",
        "outcomes_en": "Write reusable Terraform modules\n"
        "Manage remote state and locking for a team\n"
        "Review and apply infrastructure changes through CI\n"
        "Detect and correct configuration drift",
        "outcomes_zh": "編寫可重用的Terraform模組\n"
        "為團隊管理遠端狀態及鎖定\n"
        "透過CI審閱及套用基礎設施變更\n"
        "偵測及修正配置漂移",
        "audience_en": "Cloud and platform engineers who already manage cloud resources.",
        "audience_zh": "已負責管理雲端資源的雲端及平台工程師。",
        "skills": "Terraform, infrastructure as code, IaC, GitOps, CI/CD, cloud automation",
        "skill_area": SkillArea.CLOUD,
        "qf_level": 5,
        "qf_credits": 5,
        "contact_hours": 24,
        "delivery_mode": DeliveryMode.ON_CAMPUS,
        "teaching_language": TeachingLanguage.ENGLISH,
        "fee": 7600,
        "cef_reimbursable": False,
        "prerequisites": ("SU-CLD-201",),
        "assessment": True,
    },
    {
        "code": "SU-SEC-101",
        "title_en": "Cybersecurity Essentials for IT Staff",
        "title_zh": "IT人員網絡安全要訣",
        "summary_en": "Recognise today's common attacks and apply the everyday controls that "
        "stop most of them.",
        "summary_zh": "認識現今常見的網絡攻擊，並實踐能阻截大部分攻擊的日常保安措施。",
        "description_en": "Phishing, credential theft, ransomware and supply-chain attacks "
        "explained through recent incident case studies. Covers multi-factor authentication, "
        "patching, least privilege, secure remote work, and how and when to report an "
        "incident under your company's policy.",
        "description_zh": "透過近期事故個案，剖析釣魚攻擊、憑證盜用、勒索軟件及供應鏈攻擊。"
        "內容包括多重身份驗證、修補程式管理、最小權限原則、安全遙距工作，"
        "以及按公司政策何時及如何匯報事故。",
        "outcomes_en": "Identify phishing and social-engineering attempts\n"
        "Apply multi-factor authentication and least privilege\n"
        "Explain the role of patching and backups against ransomware\n"
        "Report a suspected incident correctly",
        "outcomes_zh": "識別釣魚及社交工程攻擊\n"
        "應用多重身份驗證及最小權限原則\n"
        "解釋修補程式及備份在防範勒索軟件中的作用\n"
        "正確匯報懷疑事故",
        "audience_en": "All IT staff, including service desk, developers and project staff.",
        "audience_zh": "所有IT人員，包括服務台、開發人員及項目人員。",
        "skills": "security awareness, phishing, MFA, ransomware, incident reporting",
        "skill_area": SkillArea.CYBERSECURITY,
        "qf_level": 3,
        "qf_credits": 2,
        "contact_hours": 12,
        "delivery_mode": DeliveryMode.ONLINE_LIVE,
        "teaching_language": TeachingLanguage.CANTONESE,
        "fee": 2800,
        "cef_reimbursable": True,
    },
    {
        "code": "SU-SEC-201",
        "title_en": "Security Operations and Incident Response",
        "title_zh": "保安營運及事故應變",
        "summary_en": "Monitor, triage and respond to security alerts the way a security "
        "operations centre does.",
        "summary_zh": "以保安營運中心（SOC）的方式監察、分流及回應保安警報。",
        "description_en": "In a simulated security operations centre you tune SIEM "
        "detections, triage alerts, investigate endpoints and logs, and run an incident from "
        "detection to lessons learned. Includes evidence handling and notification duties "
        "under Hong Kong's Personal Data (Privacy) Ordinance.",
        "description_zh": "學員在模擬保安營運中心內調校SIEM偵測規則、分流警報、調查端點及日誌，"
        "並完整處理一宗由偵測至檢討的事故。課程亦涵蓋證據處理，"
        "以及香港《個人資料（私隱）條例》下的通報責任。",
        "outcomes_en": "Triage and prioritise security alerts\n"
        "Investigate incidents with SIEM and endpoint data\n"
        "Contain and recover from a ransomware scenario\n"
        "Write an incident report and post-incident review",
        "outcomes_zh": "分流及排列保安警報的優先次序\n"
        "運用SIEM及端點數據調查事故\n"
        "在勒索軟件情境中進行遏止及復原\n"
        "撰寫事故報告及事後檢討",
        "audience_en": "Service desk, infrastructure and security staff moving into a "
        "security operations role.",
        "audience_zh": "準備轉任保安營運職位的服務台、基建及保安人員。",
        "skills": "SOC, SIEM, incident response, threat detection, forensics, PDPO",
        "skill_area": SkillArea.CYBERSECURITY,
        "qf_level": 4,
        "qf_credits": 6,
        "contact_hours": 30,
        "delivery_mode": DeliveryMode.ON_CAMPUS,
        "teaching_language": TeachingLanguage.ENGLISH,
        "fee": 9200,
        "cef_reimbursable": True,
        "prerequisites": ("SU-SEC-101",),
        "assessment": True,
    },
    {
        "code": "SU-SEC-220",
        "title_en": "Cloud Security Controls",
        "title_zh": "雲端保安控制",
        "summary_en": "Secure identities, networks and data in public cloud accounts and "
        "prove it to auditors.",
        "summary_zh": "保護公有雲帳戶中的身份、網絡及數據，並向審計人員提供證明。",
        "description_en": "Covers the shared responsibility model, identity federation and "
        "least-privilege policies, network segmentation, encryption and key management, "
        "logging and posture management, and mapping controls to common frameworks.",
        "description_zh": "內容包括責任共擔模式、身份聯合及最小權限政策、網絡分段、"
        "加密及密鑰管理、日誌記錄及安全態勢管理，以及將控制措施對應常用框架。",
        "outcomes_en": "Explain the shared responsibility model for each service type\n"
        "Write least-privilege identity policies\n"
        "Encrypt data at rest and in transit with managed keys\n"
        "Assess an account's posture against a benchmark",
        "outcomes_zh": "解釋各類服務的責任共擔模式\n"
        "編寫最小權限的身份政策\n"
        "以託管密鑰加密靜態及傳輸中的數據\n"
        "按基準評估帳戶的安全態勢",
        "audience_en": "Cloud engineers and security analysts responsible for cloud accounts.",
        "audience_zh": "負責雲端帳戶的雲端工程師及保安分析員。",
        "skills": "cloud security, IAM, encryption, KMS, CSPM, compliance",
        "skill_area": SkillArea.CYBERSECURITY,
        "qf_level": 5,
        "qf_credits": 5,
        "contact_hours": 24,
        "delivery_mode": DeliveryMode.HYBRID,
        "teaching_language": TeachingLanguage.ENGLISH,
        "fee": 7800,
        "cef_reimbursable": False,
        "prerequisites": ("SU-CLD-101", "SU-SEC-101"),
    },
    {
        "code": "SU-SEC-301",
        "title_en": "Penetration Testing Foundations",
        "title_zh": "滲透測試基礎",
        "summary_en": "Plan and carry out an authorised penetration test of a web "
        "application and an internal network.",
        "summary_zh": "規劃並執行經授權的網頁應用程式及內部網絡滲透測試。",
        "description_en": "Rules of engagement, reconnaissance, vulnerability scanning, "
        "exploitation of common web flaws, privilege escalation and reporting, all in an "
        "isolated lab range. Ethics and the legal limits of testing in Hong Kong come first.",
        "description_zh": "在獨立的實驗網絡中學習交戰規則、偵察、漏洞掃描、利用常見網頁漏洞、"
        "權限提升及撰寫報告。課程首先講解在香港進行測試的操守及法律界限。",
        "outcomes_en": "Agree the scope and rules of engagement for a test\n"
        "Find and exploit common web application vulnerabilities\n"
        "Escalate privileges on a misconfigured host\n"
        "Write a report with risk ratings and remediation advice",
        "outcomes_zh": "議定測試範圍及交戰規則\n"
        "找出並利用常見網頁應用程式漏洞\n"
        "在設定不當的主機上提升權限\n"
        "撰寫附風險評級及修復建議的報告",
        "audience_en": "Security analysts and developers with solid networking and Linux skills.",
        "audience_zh": "具備扎實網絡及Linux技能的保安分析員及開發人員。",
        "skills": "penetration testing, OWASP Top 10, Burp Suite, Nmap, ethical hacking, Linux",
        "skill_area": SkillArea.CYBERSECURITY,
        "qf_level": 5,
        "qf_credits": 8,
        "contact_hours": 35,
        "delivery_mode": DeliveryMode.ON_CAMPUS,
        "teaching_language": TeachingLanguage.ENGLISH,
        "fee": 11800,
        "cef_reimbursable": False,
        "prerequisites": ("SU-SEC-201",),
        "assessment": True,
    },
    {
        "code": "SU-DAT-110",
        "title_en": "Data Analytics with Python",
        "title_zh": "Python數據分析",
        "summary_en": "Clean, analyse and visualise business data with Python, pandas and "
        "Jupyter notebooks.",
        "summary_zh": "運用Python、pandas及Jupyter筆記本清理、分析及視覺化業務數據。",
        "description_en": "Starting from the spreadsheets you already know, learn to load "
        "data from files and databases, clean and reshape it, summarise it with group-bys and "
        "pivot tables, and present findings in clear charts. Exercises use anonymised service "
        "desk and sales datasets.",
        "description_zh": "由大家熟悉的試算表出發，學習從檔案及數據庫載入數據、清理及重整數據、"
        "以分組及樞紐分析作摘要，並以清晰圖表呈現結果。練習採用經匿名處理的服務台及銷售數據集。",
        "outcomes_en": "Load data from CSV, Excel and SQL sources\n"
        "Clean and reshape messy data with pandas\n"
        "Summarise data with grouping and pivot tables\n"
        "Present findings in clear charts and a short notebook report",
        "outcomes_zh": "從CSV、Excel及SQL來源載入數據\n"
        "以pandas清理及重整凌亂數據\n"
        "以分組及樞紐表摘要數據\n"
        "以清晰圖表及簡短筆記本報告呈現結果",
        "audience_en": "Analysts and IT staff who work with spreadsheets and want to automate "
        "their analysis. No programming experience needed.",
        "audience_zh": "經常使用試算表並希望將分析工作自動化的分析員及IT人員，毋須編程經驗。",
        "skills": "Python, pandas, Jupyter, data cleaning, data visualisation, matplotlib",
        "skill_area": SkillArea.DATA_AI,
        "qf_level": 4,
        "qf_credits": 6,
        "contact_hours": 30,
        "delivery_mode": DeliveryMode.HYBRID,
        "teaching_language": TeachingLanguage.CANTONESE,
        "fee": 6800,
        "cef_reimbursable": True,
        "assessment": True,
    },
    {
        "code": "SU-DAT-120",
        "title_en": "Business Intelligence Dashboards with Power BI",
        "title_zh": "以Power BI製作商業智能儀表板",
        "summary_en": "Turn operational data into interactive dashboards that managers "
        "actually use.",
        "summary_zh": "將營運數據轉化為管理層真正會用的互動儀表板。",
        "description_en": "Connect to data sources, model relationships, write DAX measures "
        "and design accessible report pages. Publish to the service, then set up scheduled "
        "refresh and row-level security for departmental audiences.",
        "description_zh": "連接數據來源、建立關聯模型、編寫DAX量值，並設計易於閱讀的報表頁面。"
        "學員亦會將報表發佈至雲端服務，並為不同部門設定排程更新及資料列層級安全性。",
        "outcomes_en": "Build a data model with relationships and measures\n"
        "Write common DAX calculations\n"
        "Design clear, accessible dashboard pages\n"
        "Publish reports with scheduled refresh and row-level security",
        "outcomes_zh": "建立具關聯及量值的數據模型\n"
        "編寫常用DAX計算\n"
        "設計清晰易讀的儀表板頁面\n"
        "發佈具排程更新及資料列層級安全性的報表",
        "audience_en": "Staff who prepare regular reports for management.",
        "audience_zh": "需要定期為管理層製作報告的員工。",
        "skills": "Power BI, DAX, dashboards, data modelling, business intelligence",
        "skill_area": SkillArea.DATA_AI,
        "qf_level": 3,
        "qf_credits": 3,
        "contact_hours": 18,
        "delivery_mode": DeliveryMode.ONLINE_LIVE,
        "teaching_language": TeachingLanguage.CANTONESE,
        "fee": 3900,
        "cef_reimbursable": True,
    },
    {
        "code": "SU-DAT-210",
        "title_en": "Machine Learning for Practitioners",
        "title_zh": "機器學習實務",
        "summary_en": "Build, evaluate and deploy supervised machine learning models for real "
        "business problems.",
        "summary_zh": "為實際業務問題建立、評估及部署監督式機器學習模型。",
        "description_en": "Frame a business question as a learning problem, engineer "
        "features, train and tune models with scikit-learn, evaluate them honestly, and "
        "package a model behind a simple API. Includes fairness, drift and the practical "
        "limits of models.",
        "description_zh": "學習將業務問題轉化為機器學習問題、進行特徵工程、以scikit-learn"
        "訓練及調校模型、客觀地評估模型，並以簡單API發佈模型。課程亦探討公平性、數據漂移及"
        "模型的實際限制。",
        "outcomes_en": "Frame a business problem as a supervised learning task\n"
        "Engineer features and train models with scikit-learn\n"
        "Evaluate models with appropriate metrics and validation\n"
        "Package and monitor a model in production",
        "outcomes_zh": "將業務問題界定為監督式學習任務\n"
        "進行特徵工程並以scikit-learn訓練模型\n"
        "以合適指標及驗證方法評估模型\n"
        "在生產環境中封裝及監察模型",
        "audience_en": "Analysts and developers comfortable with Python and pandas "
        "(SU-DAT-110 or equivalent).",
        "audience_zh": "熟悉Python及pandas的分析員及開發人員（已修SU-DAT-110或同等程度）。",
        "skills": "machine learning, scikit-learn, feature engineering, model evaluation, "
        "MLOps, Python",
        "skill_area": SkillArea.DATA_AI,
        "qf_level": 5,
        "qf_credits": 9,
        "contact_hours": 42,
        "delivery_mode": DeliveryMode.ON_CAMPUS,
        "teaching_language": TeachingLanguage.ENGLISH,
        "fee": 12800,
        "cef_reimbursable": False,
        "prerequisites": ("SU-DAT-110",),
        "assessment": True,
    },
    {
        "code": "SU-DAT-220",
        "title_en": "Generative AI at Work: Prompting and Governance",
        "title_zh": "職場生成式人工智能：提示技巧與管治",
        "summary_en": "Use generative AI assistants productively and safely, within your "
        "company's data policies.",
        "summary_zh": "在公司數據政策的框架內，有效而安全地使用生成式人工智能助理。",
        "description_en": "Practical prompting techniques for writing, summarising, coding "
        "and analysis; checking outputs for errors; protecting personal and confidential data; "
        "and drafting a team guideline for acceptable use.",
        "description_zh": "學習應用於寫作、摘要、編程及分析的實用提示技巧；檢查輸出內容的錯誤；"
        "保護個人及機密資料；並為團隊草擬可接受使用指引。",
        "outcomes_en": "Write effective prompts for common work tasks\n"
        "Check AI output for factual and reasoning errors\n"
        "Protect personal and confidential data when using AI tools\n"
        "Draft an acceptable-use guideline for a team",
        "outcomes_zh": "為常見工作任務編寫有效提示\n"
        "檢查人工智能輸出的事實及推理錯誤\n"
        "使用人工智能工具時保護個人及機密資料\n"
        "為團隊草擬可接受使用指引",
        "audience_en": "Any staff member who uses, or plans to use, AI assistants at work.",
        "audience_zh": "已在或計劃在工作中使用人工智能助理的任何員工。",
        "skills": "generative AI, prompt engineering, LLM, AI governance, data privacy",
        "skill_area": SkillArea.DATA_AI,
        "qf_level": 3,
        "qf_credits": 2,
        "contact_hours": 12,
        "delivery_mode": DeliveryMode.ONLINE_LIVE,
        "teaching_language": TeachingLanguage.PUTONGHUA,
        "fee": 2600,
        "cef_reimbursable": True,
    },
    {
        "code": "SU-DAT-230",
        "title_en": "Responsible AI and Model Risk",
        "title_zh": "負責任人工智能與模型風險",
        "summary_en": "Assess and manage the risks of AI systems across their life cycle.",
        "summary_zh": "評估及管理人工智能系統在整個生命週期中的風險。",
        "description_en": "Bias testing, explainability, human oversight, model "
        "documentation and incident handling, with reference to emerging guidance on AI "
        "governance in Hong Kong and abroad.",
        "description_zh": "內容包括偏差測試、可解釋性、人為監督、模型文件及事故處理，"
        "並參考香港及海外有關人工智能管治的最新指引。",
        "outcomes_en": "Run a bias and fairness assessment on a model\n"
        "Document a model with a model card\n"
        "Design human oversight for an AI-assisted process",
        "outcomes_zh": "為模型進行偏差及公平性評估\n"
        "以模型卡記錄模型資料\n"
        "為人工智能輔助流程設計人為監督機制",
        "audience_en": "Data scientists, product owners and risk staff.",
        "audience_zh": "數據科學家、產品負責人及風險管理人員。",
        "skills": "responsible AI, AI governance, bias, explainability, model risk",
        "skill_area": SkillArea.DATA_AI,
        "qf_level": 5,
        "qf_credits": 4,
        "contact_hours": 18,
        "delivery_mode": DeliveryMode.HYBRID,
        "teaching_language": TeachingLanguage.ENGLISH,
        "fee": 5800,
        "cef_reimbursable": False,
        "prerequisites": ("SU-DAT-210",),
        "status": CourseStatus.DRAFT,
    },
    {
        "code": "SU-NET-101",
        "title_en": "Networking Essentials",
        "title_zh": "網絡基礎",
        "summary_en": "How enterprise networks work, from cabling and switching to IP "
        "addressing and DNS.",
        "summary_zh": "了解企業網絡的運作，由佈線及交換至IP位址與DNS。",
        "description_en": "The OSI and TCP/IP models, Ethernet and VLANs, IPv4 subnetting and "
        "IPv6 basics, routing concepts, DHCP and DNS, Wi-Fi, and structured troubleshooting "
        "with common tools. Labs use real switches and routers in the campus network lab.",
        "description_zh": "內容涵蓋OSI及TCP/IP模型、乙太網絡及VLAN、IPv4子網劃分及IPv6基礎、"
        "路由概念、DHCP及DNS、Wi-Fi，以及運用常用工具進行有系統的疑難排解。"
        "實習於校園網絡實驗室內使用真實交換器及路由器進行。",
        "outcomes_en": "Explain how data moves across a network using the TCP/IP model\n"
        "Plan IPv4 subnets and configure VLANs\n"
        "Configure DHCP and DNS for a small office\n"
        "Troubleshoot connectivity problems methodically",
        "outcomes_zh": "以TCP/IP模型解釋數據如何在網絡中傳送\n"
        "規劃IPv4子網及設定VLAN\n"
        "為小型辦公室設定DHCP及DNS\n"
        "有系統地排解連線問題",
        "audience_en": "Service desk and desktop support staff who want to move into network "
        "support.",
        "audience_zh": "希望轉任網絡支援工作的服務台及桌面支援人員。",
        "skills": "networking, TCP/IP, subnetting, VLAN, DNS, DHCP, troubleshooting",
        "skill_area": SkillArea.NETWORKING,
        "qf_level": 3,
        "qf_credits": 4,
        "contact_hours": 24,
        "delivery_mode": DeliveryMode.ON_CAMPUS,
        "teaching_language": TeachingLanguage.CANTONESE,
        "fee": 4800,
        "cef_reimbursable": True,
    },
    {
        "code": "SU-NET-201",
        "title_en": "Enterprise Routing and Switching",
        "title_zh": "企業路由及交換技術",
        "summary_en": "Design and operate multi-site enterprise networks with dynamic routing "
        "and redundancy.",
        "summary_zh": "設計及營運具動態路由及備援的多地點企業網絡。",
        "description_en": "OSPF and BGP fundamentals, inter-VLAN routing, spanning tree, "
        "first-hop redundancy, access control lists, NAT and site-to-site VPNs, with a "
        "capstone lab that connects three branch offices.",
        "description_zh": "內容包括OSPF及BGP基礎、VLAN間路由、生成樹協定、第一跳備援、"
        "存取控制清單、NAT及站點對站點VPN，並以連接三間分行的總結實習作結。",
        "outcomes_en": "Configure OSPF in a multi-area network\n"
        "Build redundant switched networks with spanning tree and first-hop redundancy\n"
        "Secure traffic with access control lists and VPNs\n"
        "Connect branch offices to a head office network",
        "outcomes_zh": "在多區域網絡中設定OSPF\n"
        "以生成樹及第一跳備援建立具備援的交換網絡\n"
        "以存取控制清單及VPN保護網絡流量\n"
        "將分行連接至總部網絡",
        "audience_en": "Network support staff with SU-NET-101 or equivalent experience.",
        "audience_zh": "已修SU-NET-101或具同等經驗的網絡支援人員。",
        "skills": "routing, switching, OSPF, BGP, VPN, ACL, Cisco",
        "skill_area": SkillArea.NETWORKING,
        "qf_level": 4,
        "qf_credits": 6,
        "contact_hours": 30,
        "delivery_mode": DeliveryMode.ON_CAMPUS,
        "teaching_language": TeachingLanguage.ENGLISH,
        "fee": 8200,
        "cef_reimbursable": True,
        "prerequisites": ("SU-NET-101",),
        "assessment": True,
    },
    {
        "code": "SU-NET-230",
        "title_en": "Network Automation with Python and Ansible",
        "title_zh": "以Python及Ansible實現網絡自動化",
        "summary_en": "Automate configuration, compliance checks and changes across network "
        "devices.",
        "summary_zh": "自動化網絡設備的配置、合規檢查及變更。",
        "description_en": "Use Python, Netmiko and Ansible to back up configurations, push "
        "templated changes, validate compliance and integrate with a source of truth.",
        "description_zh": "運用Python、Netmiko及Ansible備份設定、推送範本化變更、驗證合規情況，"
        "並與單一事實來源整合。",
        "outcomes_en": "Back up and compare device configurations automatically\n"
        "Push templated changes with Ansible\n"
        "Validate network compliance in a pipeline",
        "outcomes_zh": "自動備份及比較設備設定\n以Ansible推送範本化變更\n在流程中驗證網絡合規",
        "audience_en": "Network engineers who make the same changes on many devices.",
        "audience_zh": "需要在大量設備上重複相同變更的網絡工程師。",
        "skills": "network automation, Python, Ansible, Netmiko, NetDevOps",
        "skill_area": SkillArea.NETWORKING,
        "qf_level": 5,
        "qf_credits": 5,
        "contact_hours": 24,
        "delivery_mode": DeliveryMode.HYBRID,
        "teaching_language": TeachingLanguage.ENGLISH,
        "fee": 7200,
        "cef_reimbursable": False,
        "prerequisites": ("SU-NET-201",),
        "status": CourseStatus.DRAFT,
    },
    {
        "code": "SU-SWE-110",
        "title_en": "Modern Web Development with TypeScript",
        "title_zh": "以TypeScript進行現代網頁開發",
        "summary_en": "Build maintainable, accessible web applications with TypeScript, a "
        "modern framework and a REST API.",
        "summary_zh": "以TypeScript、現代框架及REST API開發易於維護及無障礙的網頁應用程式。",
        "description_en": "Types and tooling, components and state, forms and validation, "
        "calling and testing REST APIs, and the basics of accessibility and performance. You "
        "build a small internal tool from scratch and deploy it.",
        "description_zh": "內容涵蓋型別及開發工具、元件及狀態管理、表單及驗證、調用及測試"
        "REST API，以及無障礙設計與效能基礎。學員會由零開始開發並部署一個小型內部工具。",
        "outcomes_en": "Write type-safe front-end code with TypeScript\n"
        "Build components with clear state management\n"
        "Integrate and test a REST API\n"
        "Apply accessibility guidelines to web forms",
        "outcomes_zh": "以TypeScript編寫型別安全的前端程式碼\n"
        "建立狀態管理清晰的元件\n"
        "整合及測試REST API\n"
        "在網頁表單中應用無障礙指引",
        "audience_en": "Developers maintaining older web applications, and programmers new "
        "to front-end work.",
        "audience_zh": "負責維護舊有網頁應用程式的開發人員，以及初次接觸前端開發的程式設計員。",
        "skills": "TypeScript, JavaScript, React, REST API, web accessibility, front-end",
        "skill_area": SkillArea.SOFTWARE_ENGINEERING,
        "qf_level": 4,
        "qf_credits": 8,
        "contact_hours": 36,
        "delivery_mode": DeliveryMode.HYBRID,
        "teaching_language": TeachingLanguage.ENGLISH,
        "fee": 9800,
        "cef_reimbursable": True,
        "assessment": True,
    },
    {
        "code": "SU-SWE-210",
        "title_en": "DevOps Pipelines and CI/CD",
        "title_zh": "DevOps流程與持續整合及交付",
        "summary_en": "Automate build, test, security scanning and deployment so that teams "
        "can release small changes safely and often.",
        "summary_zh": "自動化建置、測試、保安掃描及部署，讓團隊能安全而頻密地發佈小型變更。",
        "description_en": "Git branching strategies, pipelines as code, automated test gates, "
        "artefact management, handling secrets, blue-green and canary deployments, and "
        "measuring delivery performance with the DORA metrics.",
        "description_zh": "內容包括Git分支策略、以程式碼定義流程、自動化測試關卡、建置成品管理、"
        "機密資料處理、藍綠及金絲雀部署，以及以DORA指標衡量交付表現。",
        "outcomes_en": "Design a branching and release strategy\n"
        "Build a pipeline with test and security gates\n"
        "Deploy safely with blue-green and canary releases\n"
        "Measure delivery performance with the DORA metrics",
        "outcomes_zh": "設計分支及發佈策略\n"
        "建立附測試及保安關卡的流程\n"
        "以藍綠及金絲雀方式安全部署\n"
        "以DORA指標衡量交付表現",
        "audience_en": "Developers, testers and operations staff in delivery teams.",
        "audience_zh": "交付團隊中的開發、測試及營運人員。",
        "skills": "DevOps, CI/CD, Git, GitHub Actions, GitLab CI, deployment, DORA",
        "skill_area": SkillArea.SOFTWARE_ENGINEERING,
        "qf_level": 5,
        "qf_credits": 5,
        "contact_hours": 24,
        "delivery_mode": DeliveryMode.ONLINE_LIVE,
        "teaching_language": TeachingLanguage.ENGLISH,
        "fee": 7200,
        "cef_reimbursable": False,
        "prerequisites": ("SU-CLD-101",),
    },
    {
        "code": "SU-SWE-220",
        "title_en": "Automated Software Testing",
        "title_zh": "自動化軟件測試",
        "summary_en": "Design and automate unit, API and end-to-end tests that catch "
        "regressions early.",
        "summary_zh": "設計及自動化單元、API及端對端測試，及早發現回歸錯誤。",
        "description_en": "Test design techniques, the test pyramid, unit testing with test "
        "doubles, API testing, browser automation with Playwright, and keeping tests "
        "reliable in CI.",
        "description_zh": "內容包括測試設計技巧、測試金字塔、使用測試替身的單元測試、API測試、"
        "以Playwright進行瀏覽器自動化，以及確保測試在CI中穩定可靠。",
        "outcomes_en": "Apply equivalence partitioning and boundary value analysis\n"
        "Write unit tests with test doubles\n"
        "Automate API and browser tests\n"
        "Keep automated tests fast and reliable in CI",
        "outcomes_zh": "應用等價劃分及邊界值分析\n"
        "使用測試替身編寫單元測試\n"
        "自動化API及瀏覽器測試\n"
        "確保自動化測試在CI中快速可靠",
        "audience_en": "Testers moving from manual to automated testing, and developers.",
        "audience_zh": "由手動測試轉向自動化測試的測試人員，以及開發人員。",
        "skills": "software testing, test automation, Playwright, unit testing, API testing, QA",
        "skill_area": SkillArea.SOFTWARE_ENGINEERING,
        "qf_level": 4,
        "qf_credits": 4,
        "contact_hours": 21,
        "delivery_mode": DeliveryMode.ON_CAMPUS,
        "teaching_language": TeachingLanguage.CANTONESE,
        "fee": 5600,
        "cef_reimbursable": True,
    },
    {
        "code": "SU-DWP-090",
        "title_en": "Windows 10 Desktop Support",
        "title_zh": "Windows 10桌面支援",
        "summary_en": "Install, configure and troubleshoot Windows 10 desktops. Replaced by "
        "SU-DWP-101.",
        "summary_zh": "安裝、設定及排解Windows 10桌面電腦的疑難。已由SU-DWP-101取代。",
        "description_en": "Installation and imaging, user profiles, group policy, drivers and "
        "updates, and common troubleshooting for Windows 10 desktops.",
        "description_zh": "內容包括Windows 10桌面電腦的安裝及映像部署、用戶設定檔、群組原則、"
        "驅動程式及更新，以及常見疑難排解。",
        "outcomes_en": "Install and image Windows 10 desktops\n"
        "Apply group policy settings\n"
        "Troubleshoot common desktop problems",
        "outcomes_zh": "安裝及以映像部署Windows 10桌面電腦\n套用群組原則設定\n排解常見桌面電腦問題",
        "audience_en": "Desktop support staff.",
        "audience_zh": "桌面支援人員。",
        "skills": "Windows 10, desktop support, group policy, imaging",
        "skill_area": SkillArea.DIGITAL_WORKPLACE,
        "qf_level": 3,
        "qf_credits": 3,
        "contact_hours": 18,
        "delivery_mode": DeliveryMode.ON_CAMPUS,
        "teaching_language": TeachingLanguage.CANTONESE,
        "fee": 3000,
        "cef_reimbursable": False,
        "status": CourseStatus.ARCHIVED,
    },
    {
        "code": "SU-DWP-101",
        "title_en": "Microsoft 365 Administration for Support Teams",
        "title_zh": "支援團隊的Microsoft 365管理",
        "summary_en": "Manage users, licences, mailboxes, Teams and devices in a Microsoft "
        "365 tenant.",
        "summary_zh": "管理Microsoft 365租用戶中的用戶、授權、郵箱、Teams及裝置。",
        "description_en": "User and group management, licensing, Exchange Online mailboxes, "
        "Teams and SharePoint settings, device enrolment with Intune, conditional access "
        "basics and PowerShell for bulk tasks.",
        "description_zh": "內容包括用戶及群組管理、授權分配、Exchange Online郵箱、Teams及"
        "SharePoint設定、以Intune登記裝置、條件式存取基礎，以及以PowerShell處理大量工作。",
        "outcomes_en": "Manage users, groups and licences\n"
        "Administer mailboxes and shared resources\n"
        "Enrol and manage devices with Intune\n"
        "Automate bulk tasks with PowerShell",
        "outcomes_zh": "管理用戶、群組及授權\n"
        "管理郵箱及共用資源\n"
        "以Intune登記及管理裝置\n"
        "以PowerShell自動處理大量工作",
        "audience_en": "Service desk and desktop support staff.",
        "audience_zh": "服務台及桌面支援人員。",
        "skills": "Microsoft 365, Exchange Online, Teams, Intune, PowerShell, Entra ID",
        "skill_area": SkillArea.DIGITAL_WORKPLACE,
        "qf_level": 3,
        "qf_credits": 3,
        "contact_hours": 18,
        "delivery_mode": DeliveryMode.ONLINE_LIVE,
        "teaching_language": TeachingLanguage.CANTONESE,
        "fee": 3600,
        "cef_reimbursable": True,
    },
    {
        "code": "SU-DWP-110",
        "title_en": "Low-code Process Automation",
        "title_zh": "低程式碼流程自動化",
        "summary_en": "Automate approvals, forms and routine office tasks with low-code tools.",
        "summary_zh": "以低程式碼工具自動化審批、表格及日常辦公室工作。",
        "description_en": "Map a manual process, build forms and simple apps, automate "
        "approvals and notifications, connect to spreadsheets and SharePoint lists, and apply "
        "governance so that solutions built by business users stay supportable.",
        "description_zh": "學習分析人手流程、建立表格及簡單應用程式、自動化審批及通知、"
        "連接試算表及SharePoint清單，並實施管治，確保由業務用戶開發的方案能持續獲得支援。",
        "outcomes_en": "Map a manual process and find automation opportunities\n"
        "Build a form-based app with approvals\n"
        "Connect flows to spreadsheets and lists\n"
        "Apply governance to solutions built by business users",
        "outcomes_zh": "分析人手流程並找出可自動化之處\n"
        "建立附審批功能的表格應用程式\n"
        "將流程連接至試算表及清單\n"
        "為業務用戶開發的方案實施管治",
        "audience_en": "Office and operations staff who handle repetitive workflows.",
        "audience_zh": "需要處理重複性工作流程的辦公室及營運人員。",
        "skills": "low-code, Power Automate, Power Apps, workflow automation, RPA",
        "skill_area": SkillArea.DIGITAL_WORKPLACE,
        "qf_level": 3,
        "qf_credits": 3,
        "contact_hours": 15,
        "delivery_mode": DeliveryMode.ONLINE_LIVE,
        "teaching_language": TeachingLanguage.CANTONESE,
        "fee": 3200,
        "cef_reimbursable": True,
    },
    {
        "code": "SU-PMG-201",
        "title_en": "Agile Delivery with Scrum and Kanban",
        "title_zh": "以Scrum及Kanban實踐敏捷交付",
        "summary_en": "Plan and deliver IT work in short, reviewable increments with Scrum "
        "and Kanban.",
        "summary_zh": "以Scrum及Kanban將IT工作分成可檢視的短周期增量來規劃及交付。",
        "description_en": "The roles, events and artefacts of Scrum; writing and splitting "
        "user stories; estimation and forecasting; Kanban flow metrics; and running agile work "
        "inside a contract-driven or regulated organisation. Taught through a simulated "
        "project over three Saturdays.",
        "description_zh": "內容包括Scrum的角色、活動及產出物；編寫及拆分用戶故事；估算及預測；"
        "Kanban流程指標；以及如何在以合約為本或受規管的機構內推行敏捷工作。"
        "課程以為期三個星期六的模擬項目進行。",
        "outcomes_en": "Run Scrum events with a delivery team\n"
        "Write and split user stories with acceptance criteria\n"
        "Forecast delivery with velocity and flow metrics\n"
        "Adapt agile practices to contracts and regulation",
        "outcomes_zh": "與交付團隊舉行Scrum活動\n"
        "編寫及拆分附驗收準則的用戶故事\n"
        "以速度及流程指標預測交付進度\n"
        "因應合約及規管要求調整敏捷實踐",
        "audience_en": "Team leads, business analysts, developers and project coordinators.",
        "audience_zh": "團隊主管、業務分析員、開發人員及項目統籌人員。",
        "skills": "Agile, Scrum, Kanban, user stories, sprint planning, project delivery",
        "skill_area": SkillArea.PROJECT_MANAGEMENT,
        "qf_level": 4,
        "qf_credits": 4,
        "contact_hours": 21,
        "delivery_mode": DeliveryMode.ON_CAMPUS,
        "teaching_language": TeachingLanguage.CANTONESE,
        "fee": 5200,
        "cef_reimbursable": True,
    },
    {
        "code": "SU-PMG-210",
        "title_en": "IT Project Management Essentials",
        "title_zh": "IT項目管理要訣",
        "summary_en": "Initiate, plan, control and close IT projects, from the business case "
        "to handover.",
        "summary_zh": "由業務個案至移交，全面掌握IT項目的啟動、規劃、監控及結束。",
        "description_en": "Scope and requirements, work breakdown, scheduling, budgeting, "
        "risk and issue management, stakeholder communication, vendor contracts and change "
        "control, with templates you can reuse at work.",
        "description_zh": "內容涵蓋範圍及需求、工作分解結構、進度安排、預算、風險及問題管理、"
        "持份者溝通、供應商合約及變更控制，並提供可在工作中重用的範本。",
        "outcomes_en": "Write a project charter and business case\n"
        "Build a schedule and budget from a work breakdown structure\n"
        "Manage risks, issues and changes\n"
        "Report status clearly to sponsors and stakeholders",
        "outcomes_zh": "撰寫項目章程及業務個案\n"
        "根據工作分解結構制定進度表及預算\n"
        "管理風險、問題及變更\n"
        "向項目發起人及持份者清晰匯報進度",
        "audience_en": "Staff who lead or coordinate IT projects, or are about to.",
        "audience_zh": "正在或即將帶領或統籌IT項目的員工。",
        "skills": "project management, PMBOK, PRINCE2, risk management, scheduling, "
        "stakeholder management",
        "skill_area": SkillArea.PROJECT_MANAGEMENT,
        "qf_level": 4,
        "qf_credits": 6,
        "contact_hours": 28,
        "delivery_mode": DeliveryMode.HYBRID,
        "teaching_language": TeachingLanguage.ENGLISH,
        "fee": 7400,
        "cef_reimbursable": True,
        "assessment": True,
    },
    {
        "code": "SU-ITS-101",
        "title_en": "IT Service Management Foundations",
        "title_zh": "IT服務管理基礎",
        "summary_en": "The core service management practices that keep IT services reliable, "
        "aligned with ITIL 4.",
        "summary_zh": "掌握與ITIL 4一致、確保IT服務穩定可靠的核心服務管理實務。",
        "description_en": "The service value system; incident, problem, change and request "
        "management; service level management and continual improvement, illustrated with "
        "cases from Hong Kong service desks. Prepares you for a foundation-level "
        "certification exam.",
        "description_zh": "內容包括服務價值系統、事故、問題、變更及請求管理、服務水平管理及"
        "持續改善，並以香港服務台的個案加以說明，為考取基礎級認證作好準備。",
        "outcomes_en": "Describe the service value system and its practices\n"
        "Handle incidents, problems and changes consistently\n"
        "Define and monitor service levels\n"
        "Propose continual improvements backed by evidence",
        "outcomes_zh": "描述服務價值系統及其實務\n"
        "一致地處理事故、問題及變更\n"
        "訂立及監察服務水平\n"
        "以數據為本提出持續改善建議",
        "audience_en": "Service desk, operations and application support staff.",
        "audience_zh": "服務台、營運及應用程式支援人員。",
        "skills": "ITIL 4, ITSM, incident management, change management, SLA, service desk",
        "skill_area": SkillArea.IT_SERVICE_MANAGEMENT,
        "qf_level": 3,
        "qf_credits": 3,
        "contact_hours": 18,
        "delivery_mode": DeliveryMode.ONLINE_LIVE,
        "teaching_language": TeachingLanguage.CANTONESE,
        "fee": 3800,
        "cef_reimbursable": True,
        "assessment": True,
    },
    {
        "code": "SU-ITS-201",
        "title_en": "Leading a Service Desk",
        "title_zh": "服務台團隊領導",
        "summary_en": "Lead a service desk team: staffing, metrics, knowledge management and "
        "customer experience.",
        "summary_zh": "領導服務台團隊：人手編排、績效指標、知識管理及客戶體驗。",
        "description_en": "Forecasting demand and rostering, choosing meaningful metrics, "
        "building a knowledge base, shift-left strategies, coaching analysts, and handling "
        "escalations and major incidents.",
        "description_zh": "內容包括預測需求及編排人手、選擇有意義的績效指標、建立知識庫、"
        "「左移」策略、指導分析員，以及處理升級個案和重大事故。",
        "outcomes_en": "Forecast demand and plan rosters\n"
        "Choose and report meaningful service desk metrics\n"
        "Build and maintain a knowledge base\n"
        "Coach analysts and manage escalations",
        "outcomes_zh": "預測需求及規劃更表\n"
        "選擇及匯報有意義的服務台指標\n"
        "建立及維護知識庫\n"
        "指導分析員及處理升級個案",
        "audience_en": "Senior analysts and team leaders on a service desk.",
        "audience_zh": "服務台的高級分析員及團隊主管。",
        "skills": "service desk, team leadership, KPIs, knowledge management, shift-left, "
        "major incident",
        "skill_area": SkillArea.IT_SERVICE_MANAGEMENT,
        "qf_level": 4,
        "qf_credits": 4,
        "contact_hours": 21,
        "delivery_mode": DeliveryMode.HYBRID,
        "teaching_language": TeachingLanguage.CANTONESE,
        "fee": 5400,
        "cef_reimbursable": True,
        "prerequisites": ("SU-ITS-101",),
    },
)

COURSES_BY_CODE = {course["code"]: course for course in COURSES}

AREA_VENUES = {
    SkillArea.CLOUD: "Kowloon Bay centre, Lab 2",
    SkillArea.CYBERSECURITY: "Tsing Yi campus, Cyber Range 4.05",
    SkillArea.DATA_AI: "Sha Tin campus, Computer Lab 5",
    SkillArea.NETWORKING: "Kowloon Bay centre, Network Lab 1",
    SkillArea.SOFTWARE_ENGINEERING: "Kowloon Bay centre, Lab 3",
    SkillArea.DIGITAL_WORKPLACE: "Chai Wan campus, Room 612",
    SkillArea.PROJECT_MANAGEMENT: "Tsing Yi campus, Room 3.12",
    SkillArea.IT_SERVICE_MANAGEMENT: "Chai Wan campus, Room 508",
}


# Schedules ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Pattern:
    """When a class meets: on these weekdays (Monday is 0), in these Hong Kong time slots."""

    weekdays: tuple[int, ...]
    slots: tuple[tuple[time, time], ...]


PATTERNS = {
    "tue_thu_evening": _Pattern((1, 3), ((time(19, 0), time(22, 0)),)),
    "mon_wed_evening": _Pattern((0, 2), ((time(19, 0), time(22, 0)),)),
    "wed_evening": _Pattern((2,), ((time(18, 30), time(21, 30)),)),
    "saturday": _Pattern((5,), ((time(9, 30), time(12, 30)), (time(13, 30), time(17, 30)))),
    "weekdays": _Pattern(
        (0, 1, 2, 3, 4), ((time(9, 0), time(12, 30)), (time(13, 30), time(17, 0)))
    ),
}

# Public holidays on the same date every year; classes do not meet on them.
FIXED_HOLIDAYS = {(1, 1), (5, 1), (7, 1), (10, 1), (12, 25), (12, 26)}


@dataclass(frozen=True)
class _ClassPlan:
    course: str
    offset: int  # days from the reference day to the earliest possible first session
    pattern: str
    status: ClassStatus
    capacity: int
    trainers: tuple[str, ...]
    fill: float = 0.5  # share of the capacity that asks for a seat
    waitlist: int = 0  # requests beyond the capacity
    promote: bool = False  # someone withdraws late, so the first on the waitlist moves up
    key: str | None = None
    status_reason: str | None = None


T1, T2, T3, T4 = (spec.email for spec in TRAINERS)
_C, _R, _O = ClassStatus.COMPLETED, ClassStatus.RUNNING, ClassStatus.OPEN

CLASS_PLAN = (
    # Over, with results and certificates.
    _ClassPlan("SU-CLD-101", -120, "tue_thu_evening", _C, 24, (T1,), 0.85, key="cld101-past"),
    _ClassPlan("SU-SEC-101", -95, "mon_wed_evening", _C, 30, (T2,), 0.8),
    _ClassPlan("SU-DAT-110", -84, "saturday", _C, 20, (T3,), 0.9),
    _ClassPlan("SU-ITS-101", -70, "tue_thu_evening", _C, 24, (T4,), 0.75),
    _ClassPlan("SU-NET-101", -63, "weekdays", _C, 16, (T2,), 0.9),
    _ClassPlan("SU-SEC-201", -60, "saturday", _C, 18, (T2, T1), 0.85),
    _ClassPlan("SU-PMG-201", -56, "saturday", _C, 24, (T4,), 0.7),
    _ClassPlan("SU-DWP-101", -49, "wed_evening", _C, 30, (T3,), 0.6),
    _ClassPlan("SU-CLD-210", -45, "tue_thu_evening", _C, 20, (T1,), 0.8),
    # Running now.
    _ClassPlan("SU-CLD-101", -12, "tue_thu_evening", _R, 24, (T1,), 0.75),
    _ClassPlan("SU-DAT-110", -21, "saturday", _R, 20, (T3,), 0.8),
    _ClassPlan("SU-SWE-110", -14, "mon_wed_evening", _R, 20, (T1,), 0.7, key="swe110-now"),
    _ClassPlan("SU-PMG-210", -7, "saturday", _R, 24, (T4,), 0.6),
    _ClassPlan("SU-ITS-201", -12, "tue_thu_evening", _R, 18, (T4,), 0.6),
    # Enrolment closed, starting in a few days; full, with a waitlist.
    _ClassPlan(
        "SU-SEC-101", 3, "mon_wed_evening", ClassStatus.CLOSED, 20, (T2,), 1.0, 2, promote=True
    ),
    # Cancelled before it started.
    _ClassPlan(
        "SU-NET-201",
        20,
        "saturday",
        ClassStatus.CANCELLED,
        16,
        (T2,),
        0.35,
        status_reason="Cancelled: the network lab is closed for refurbishment this term. "
        "Enrolled learners have been offered a place in the next intake.",
    ),
    # Being prepared.
    _ClassPlan("SU-CLD-301", 150, "tue_thu_evening", ClassStatus.DRAFT, 20, (T1,), 0.0),
    # Open for enrolment.
    _ClassPlan("SU-ITS-101", 14, "tue_thu_evening", _O, 24, (T4,), 0.4, key="its101-next"),
    _ClassPlan("SU-DAT-120", 16, "wed_evening", _O, 20, (T3,), 1.0, 3),
    _ClassPlan("SU-CLD-210", 18, "tue_thu_evening", _O, 12, (T1,), 1.0, 2, key="cld210-full"),
    _ClassPlan("SU-DWP-101", 22, "wed_evening", _O, 30, (T3,), 0.45, key="dwp101-next"),
    _ClassPlan("SU-NET-101", 28, "weekdays", _O, 16, (T2,), 0.5),
    _ClassPlan("SU-CLD-201", 30, "saturday", _O, 20, (T1,), 0.5, key="cld201-next"),
    _ClassPlan("SU-SEC-201", 35, "saturday", _O, 18, (T2,), 0.45),
    _ClassPlan("SU-DWP-110", 35, "mon_wed_evening", _O, 24, (T4,), 0.35),
    _ClassPlan("SU-CLD-101", 40, "tue_thu_evening", _O, 24, (T3,), 0.3),
    _ClassPlan("SU-DAT-110", 45, "tue_thu_evening", _O, 20, (T3,), 0.4),
    _ClassPlan("SU-PMG-201", 45, "saturday", _O, 24, (T4,), 0.4, key="pmg201-next"),
    _ClassPlan("SU-SEC-220", 50, "mon_wed_evening", _O, 20, (T2,), 0.35),
    _ClassPlan("SU-DAT-220", 50, "tue_thu_evening", _O, 30, (T3,), 0.5, key="dat220-next"),
    _ClassPlan("SU-SWE-210", 55, "mon_wed_evening", _O, 20, (T1,), 0.3),
    _ClassPlan("SU-DAT-210", 60, "saturday", _O, 18, (T3,), 0.35),
    _ClassPlan("SU-SEC-101", 60, "mon_wed_evening", _O, 30, (T2,), 0.25),
    _ClassPlan("SU-SWE-220", 65, "tue_thu_evening", _O, 20, (T1, T4), 0.3),
    _ClassPlan("SU-SEC-301", 75, "weekdays", _O, 16, (T2,), 0.3, key="sec301-next"),
    _ClassPlan("SU-ITS-201", 80, "tue_thu_evening", _O, 18, (T4,), 0.2),
    _ClassPlan("SU-PMG-210", 95, "saturday", _O, 24, (T4,), 0.15),
    _ClassPlan("SU-CLD-101", 100, "tue_thu_evening", _O, 24, (T1,), 0.1),
    _ClassPlan("SU-DAT-220", 110, "mon_wed_evening", _O, 30, (T3,), 0.1),
)


@dataclass(frozen=True)
class _Story:
    """One enrolment told on purpose, so that the demo accounts have a known history."""

    email: str
    class_key: str
    outcome: EnrolmentStatus
    at: float  # where the request falls in the class's enrolment window, 0 to 1
    source: EnrolmentSource = EnrolmentSource.SELF
    reason: str | None = None


LEARNER_A = "learner@partner-a.test"
LEARNER_B = "learner@partner-b.test"

STORIES = (
    _Story(LEARNER_A, "cld101-past", EnrolmentStatus.COMPLETED, 0.2),
    _Story(LEARNER_A, "swe110-now", EnrolmentStatus.CONFIRMED, 0.3),
    _Story(LEARNER_A, "cld201-next", EnrolmentStatus.CONFIRMED, 0.4, EnrolmentSource.NOMINATED),
    _Story(LEARNER_A, "dat220-next", EnrolmentStatus.CONFIRMED, 0.5),
    _Story(LEARNER_A, "cld210-full", EnrolmentStatus.WAITLISTED, 0.9),
    _Story(
        LEARNER_A,
        "pmg201-next",
        EnrolmentStatus.WITHDRAWN,
        0.3,
        reason="Clashes with my Saturday classes in SU-CLD-201.",
    ),
    _Story(LEARNER_B, "its101-next", EnrolmentStatus.PENDING, 0.97),
    _Story(LEARNER_B, "dwp101-next", EnrolmentStatus.CONFIRMED, 0.3),
    _Story(
        LEARNER_B,
        "sec301-next",
        EnrolmentStatus.REJECTED,
        0.4,
        reason="Please complete SU-SEC-201 first; we will support your request for the next "
        "intake.",
    ),
)

REJECTION_REASONS = (
    "Not part of this year's development plan; please discuss it with your manager first.",
    "The team cannot release you during the core banking cut-over in this period.",
    "Please complete the prerequisite course first.",
    "Seats this term are reserved for the Information Security team.",
)
WITHDRAWAL_REASONS = (
    "Clashes with a project go-live.",
    "Assigned to a client site in Shenzhen for the period.",
    "Personal reasons.",
    "I will join a later intake instead.",
    "My manager asked me to postpone to next term.",
)
PROMOTION_REASON = "A seat became free: moved up from the waitlist."


# The seeder --------------------------------------------------------------------------------


def _hk(day: date, at: time) -> datetime:
    """A Hong Kong wall-clock time as an aware UTC datetime."""
    return datetime.combine(day, at, tzinfo=HONG_KONG).astimezone(UTC)


def _hk_date(moment: datetime) -> date:
    return moment.astimezone(HONG_KONG).date()


def _term(day: date) -> tuple[str, date, date]:
    """The institute's term that ``day`` falls in: label, first and last day."""
    if day.month >= 9:
        first_year, number = day.year, 1
        starts, ends = date(day.year, 9, 1), date(day.year, 12, 31)
    elif day.month <= 4:
        first_year, number = day.year - 1, 2
        starts, ends = date(day.year, 1, 1), date(day.year, 4, 30)
    else:
        first_year, number = day.year - 1, 3
        starts, ends = date(day.year, 5, 1), date(day.year, 8, 31)
    return f"{first_year}/{(first_year + 1) % 100:02d} Term {number}", starts, ends


def session_times(
    first_day: date, pattern_name: str, hours: Decimal | int
) -> list[tuple[datetime, datetime]]:
    """Meetings from ``first_day`` on the pattern's days until the contact hours are reached.

    The last meeting is shortened when the hours do not divide evenly.
    """
    pattern = PATTERNS[pattern_name]
    remaining = int(Decimal(hours) * 60)
    meetings: list[tuple[datetime, datetime]] = []
    day = first_day
    while remaining > 0:
        if day.weekday() in pattern.weekdays and (day.month, day.day) not in FIXED_HOLIDAYS:
            for begins, ends in pattern.slots:
                if remaining <= 0:
                    break
                start = _hk(day, begins)
                length = min(int((_hk(day, ends) - start).total_seconds() // 60), remaining)
                meetings.append((start, start + timedelta(minutes=length)))
                remaining -= length
        day += timedelta(days=1)
    return meetings


def _free_staff_number(number: str, in_use: set[str]) -> str:
    """``number``, or the next one up if someone in the company already has it."""
    prefix, digits = number[:2], int(number[2:])
    while f"{prefix}{digits}" in in_use:
        digits += 1
    in_use.add(f"{prefix}{digits}")
    return f"{prefix}{digits}"


def _first_meeting_day(earliest: date, pattern_name: str) -> date:
    pattern = PATTERNS[pattern_name]
    day = earliest
    while day.weekday() not in pattern.weekdays or (day.month, day.day) in FIXED_HOLIDAYS:
        day += timedelta(days=1)
    return day


@dataclass(eq=False)
class _Learner:
    user: User
    spec: _CompanySpec
    hr: User
    active: bool
    deactivated_at: datetime | None
    story: bool
    busy_days: set[date] = field(default_factory=set)


@dataclass
class _Request:
    learner: _Learner
    at: datetime
    source: EnrolmentSource
    requested_by: User
    needs_approval: bool
    decide_at: datetime | None = None
    approve: bool = True
    decision_reason: str | None = None
    withdraw_at: datetime | None = None
    withdraw_reason: str | None = None
    story: _Story | None = None


class _Seeder:
    def __init__(self, anchor: date) -> None:
        self.anchor = anchor
        self.day_start = _hk(anchor, time(0))
        self.rng = random.Random(SEED)
        self.created: Counter[str] = Counter()
        self._password_hash: str | None = None
        self.users: dict[str, User] = {}
        self.companies: dict[str, PartnerCompany] = {}
        self.learners: list[_Learner] = []
        self.courses: dict[str, Course] = {}
        self.trainer_busy: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
        self.next_serial: int | None = None

    def run(self) -> None:
        self.seed_people()
        self.seed_courses()
        self.seed_classes()
        self.seed_quotas()

    def days_ago(self, days: float) -> datetime:
        return self.day_start - timedelta(days=days)

    # People --------------------------------------------------------------------------------

    def password_hash(self) -> str:
        if self._password_hash is None:
            self._password_hash = hash_password(DEMO_PASSWORD)
        return self._password_hash

    def seed_people(self) -> None:
        rng = self.rng
        specs: list[tuple[dict[str, Any], str | None]] = []
        for staff in (*ADMINS, *TRAINERS):
            specs.append(
                (
                    {
                        "email": staff.email,
                        "name": staff.name,
                        "role": staff.role,
                        "department": staff.department,
                        "job_title": staff.job_title,
                        "preferred_language": staff.language,
                    },
                    None,
                )
            )
        self.seed_companies()
        taken_emails = {spec["email"] for spec, _ in specs}
        for company_spec in COMPANIES:
            taken_numbers: set[str] = set()

            def staff_number(
                spec: _CompanySpec = company_spec, taken: set[str] = taken_numbers
            ) -> str:
                while True:
                    number = f"{spec.staff_prefix}{rng.randint(10000, 99999)}"
                    if number not in taken:
                        taken.add(number)
                        return number

            hr_email = f"hr@{company_spec.domain}"
            specs.append(
                (
                    {
                        "email": hr_email,
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
            people = [
                {
                    "email": f"learner@{company_spec.domain}",
                    "name": lead_name,
                    "department": lead_department,
                    "job_title": lead_title,
                    "preferred_language": None,
                }
            ]
            while len(people) < company_spec.learners:
                name, local_part = self.invent_name()
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
                has_left = index == len(people) - 1 and company_spec.code != "PDLS"
                person["is_active"] = not has_left
                specs.append((person, company_spec.code))

        emails = [spec["email"] for spec, _ in specs]
        existing = {
            user.email: user
            for user in db.session.scalars(select(User).where(User.email.in_(emails)))
        }
        staff_numbers_in_use = self.staff_numbers_in_use()
        for index, (spec, company_code) in enumerate(specs):
            user = existing.get(spec["email"])
            if user is None:
                company = self.companies[company_code] if company_code else None
                created_at = self.days_ago(420 - index)
                fields = dict(spec)
                if company_code and fields.get("staff_number"):
                    fields["staff_number"] = _free_staff_number(
                        fields["staff_number"], staff_numbers_in_use[company_code]
                    )
                user = User(
                    company=company,
                    password_hash=self.password_hash(),
                    email_confirmed_at=created_at + timedelta(minutes=12),
                    created_at=created_at,
                    **fields,
                )
                if not spec.get("is_active", True):
                    user.deactivated_at = self.days_ago(20 + index % 7)
                db.session.add(user)
                self.created["users"] += 1
            self.users[spec["email"]] = user
        # Staff of the third company were invited by their HR officer.
        for spec, company_code in specs:
            user = self.users[spec["email"]]
            if company_code == "PDLS" and spec["role"] is Role.LEARNER and user.id is None:
                user.invited_by = self.users["hr@partner-c.test"]
                user.invited_at = user.created_at
        db.session.flush()

        story_emails = {story.email for story in STORIES}
        for spec, company_code in specs:
            user = self.users[spec["email"]]
            if company_code is None:
                continue
            company_spec = next(c for c in COMPANIES if c.code == company_code)
            if spec["role"] is not Role.LEARNER:
                continue
            if user.role is not Role.LEARNER or user.company_id != self.companies[company_code].id:
                continue
            self.learners.append(
                _Learner(
                    user=user,
                    spec=company_spec,
                    hr=self.users[f"hr@{company_spec.domain}"],
                    active=bool(user.is_active),
                    deactivated_at=user.deactivated_at,
                    story=user.email in story_emails,
                )
            )

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
            in_use[codes[company_id]].add(number)
        return in_use

    def invent_name(self) -> tuple[str, str]:
        rng = self.rng
        surname = rng.choice(SURNAMES)
        given_names, english_names = rng.choice(GIVEN_NAMES)
        given = rng.choice(given_names)
        plain_surname = surname.replace(" ", "").lower()
        if rng.random() < 0.55:
            english = rng.choice(english_names)
            return f"{english} {surname} {given}", f"{english.lower()}.{plain_surname}"
        return f"{surname} {given}", f"{plain_surname}.{given.replace(' ', '').lower()}"

    def seed_companies(self) -> None:
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
        for spec in COMPANIES:
            company = existing.get(spec.code)
            if company is None:
                company = PartnerCompany(
                    name=spec.name,
                    code=spec.code,
                    requires_approval=spec.requires_approval,
                    created_at=self.days_ago(500),
                )
                db.session.add(company)
                self.created["companies"] += 1
            if spec.domain not in known_domains:
                company.domains.append(CompanyDomain(domain=spec.domain))
                self.created["company_domains"] += 1
            self.companies[spec.code] = company
        db.session.flush()

    # Courses -------------------------------------------------------------------------------

    def seed_courses(self) -> None:
        existing = {
            course.code: course
            for course in db.session.scalars(
                select(Course).where(Course.code.in_([c["code"] for c in COURSES]))
            )
        }
        new_codes: list[str] = []
        for index, data in enumerate(COURSES):
            course = existing.get(data["code"])
            if course is None:
                fields = {
                    key: value
                    for key, value in data.items()
                    if key not in {"prerequisites", "assessment"}
                }
                fields["contact_hours"] = Decimal(fields["contact_hours"])
                fields["fee"] = Decimal(fields["fee"])
                fields.setdefault("status", CourseStatus.PUBLISHED)
                created_at = self.days_ago(400 - index * 3)
                course = Course(**fields, created_at=created_at, updated_at=created_at)
                db.session.add(course)
                self.created["courses"] += 1
                new_codes.append(course.code)
            self.courses[data["code"]] = course
        for data in COURSES:
            if data["code"] not in new_codes:
                continue
            for code in data.get("prerequisites", ()):
                if code in self.courses:
                    self.courses[data["code"]].prerequisites.append(self.courses[code])
                    self.created["course_prerequisites"] += 1
        db.session.flush()

    # Classes -------------------------------------------------------------------------------

    def seed_classes(self) -> None:
        plans = list(CLASS_PLAN)
        seeds = [self.rng.getrandbits(32) for _ in plans]
        schedules = []
        for plan in plans:
            course_data = COURSES_BY_CODE[plan.course]
            earliest = self.anchor + timedelta(days=plan.offset)
            first_day = _first_meeting_day(earliest, plan.pattern)
            while plan.status is ClassStatus.RUNNING and first_day >= self.anchor:
                # A holiday pushed the start past today: start a week earlier instead.
                earliest -= timedelta(days=7)
                first_day = _first_meeting_day(earliest, plan.pattern)
            times = session_times(first_day, plan.pattern, course_data["contact_hours"])
            code = f"{plan.course}-{first_day:%y%m}"
            schedules.append((code, times))
        codes = [code for code, _ in schedules]
        if len(set(codes)) != len(codes):
            raise RuntimeError("two demo classes of one course start in the same month")
        existing = set(
            db.session.scalars(select(CourseClass.code).where(CourseClass.code.in_(codes)))
        )
        self.load_trainer_schedules()
        stories: dict[str, list[_Story]] = defaultdict(list)
        for story in STORIES:
            stories[story.class_key].append(story)
        for plan, seed, (code, times) in zip(plans, seeds, schedules, strict=True):
            if code in existing:
                continue
            course = self.courses[plan.course]
            if course.status is not CourseStatus.PUBLISHED:
                continue
            rng = random.Random(seed)
            course_class = self.create_class(plan, course, code, times)
            self.enrol(plan, course_class, rng, stories.get(plan.key or "", []))
        db.session.flush()

    def load_trainer_schedules(self) -> None:
        trainer_ids = {self.users[spec.email].id: spec.email for spec in TRAINERS}
        rows = db.session.execute(
            select(class_trainers.c.trainer_id, ClassSession.starts_at, ClassSession.ends_at)
            .join(ClassSession, ClassSession.class_id == class_trainers.c.class_id)
            .where(class_trainers.c.trainer_id.in_(list(trainer_ids)))
        ).all()
        for trainer_id, starts_at, ends_at in rows:
            self.trainer_busy[trainer_ids[trainer_id]].append((starts_at, ends_at))

    def pick_trainers(
        self, wanted: Sequence[str], times: Sequence[tuple[datetime, datetime]]
    ) -> list[User]:
        """The wanted trainers, each replaced by a free colleague if already teaching then."""

        def free(email: str) -> bool:
            return not any(
                start < busy_end and busy_start < end
                for start, end in times
                for busy_start, busy_end in self.trainer_busy[email]
            )

        chosen: list[str] = []
        for email in wanted:
            if not free(email):
                email = next(
                    (s.email for s in TRAINERS if s.email not in chosen and free(s.email)), email
                )
            if email not in chosen:
                chosen.append(email)
        for email in chosen:
            self.trainer_busy[email].extend(times)
        return [self.users[email] for email in chosen]

    def create_class(
        self,
        plan: _ClassPlan,
        course: Course,
        code: str,
        times: Sequence[tuple[datetime, datetime]],
    ) -> CourseClass:
        starts_on, ends_on = _hk_date(times[0][0]), _hk_date(times[-1][0])
        opens_at = _hk(starts_on - timedelta(days=56), time(9, 0))
        if plan.status is ClassStatus.OPEN:
            # Every open class is taking requests today, and has been for three weeks.
            opens_at = min(opens_at, self.days_ago(21) + timedelta(hours=9))
        closes_at = _hk(starts_on - timedelta(days=4), time(23, 59))
        withdrawal_deadline_at = _hk(starts_on - timedelta(days=7), time(23, 59))
        if plan.status is ClassStatus.CLOSED:
            closes_at = min(closes_at, self.days_ago(1) + timedelta(hours=17))
            withdrawal_deadline_at = min(withdrawal_deadline_at, closes_at)
        venue = online_url = None
        if course.delivery_mode is not DeliveryMode.ONLINE_LIVE:
            venue = AREA_VENUES[course.skill_area]
        if course.delivery_mode is not DeliveryMode.ON_CAMPUS:
            online_url = f"https://meet.skillsup.test/{code.lower()}"
        room = venue.split(", ", 1)[1] if venue else None
        created_at = min(opens_at - timedelta(days=14), self.days_ago(2))
        course_class = CourseClass(
            course=course,
            code=code,
            venue=venue,
            online_url=online_url,
            capacity=plan.capacity,
            seats_taken=0,
            starts_on=starts_on,
            ends_on=ends_on,
            enrolment_opens_at=opens_at,
            enrolment_closes_at=closes_at,
            withdrawal_deadline_at=withdrawal_deadline_at,
            min_attendance_pct=80,
            assessment_required=bool(COURSES_BY_CODE[course.code].get("assessment")),
            status=plan.status,
            status_reason=plan.status_reason,
            created_at=created_at,
            updated_at=created_at,
        )
        course_class.trainers.extend(self.pick_trainers(plan.trainers, times))
        for start, end in times:
            course_class.sessions.append(
                ClassSession(
                    starts_at=start,
                    ends_at=end,
                    room=room,
                    is_cancelled=plan.status is ClassStatus.CANCELLED,
                    created_at=created_at,
                    updated_at=created_at,
                )
            )
        db.session.add(course_class)
        self.created["classes"] += 1
        self.created["class_sessions"] += len(times)
        return course_class

    # Enrolments ----------------------------------------------------------------------------

    def enrol(
        self, plan: _ClassPlan, course_class: CourseClass, rng: random.Random, stories: list[_Story]
    ) -> None:
        if plan.status is ClassStatus.DRAFT:
            return
        class_days = {_hk_date(s.starts_at) for s in course_class.sessions}
        last_end = course_class.sessions[-1].ends_at
        cancel_at: datetime | None = None
        if plan.status is ClassStatus.CANCELLED:
            cancel_at = self.days_ago(2) + timedelta(hours=10)
        ends = min(self.day_start, cancel_at or self.day_start)
        limit = min(course_class.enrolment_closes_at, ends) - timedelta(hours=1)
        withdraw_limit = min(course_class.withdrawal_deadline_at, ends) - timedelta(hours=1)
        lo = course_class.enrolment_opens_at
        span_end = withdraw_limit if plan.promote else limit
        span = span_end - lo

        def moment(fraction: float) -> datetime:
            return (lo + span * fraction).replace(second=0, microsecond=0)

        requests: list[_Request] = []
        for story in stories:
            learner = next(lr for lr in self.learners if lr.user.email == story.email)
            requests.append(self.story_request(story, learner, moment(story.at), course_class))

        def available(learner: _Learner) -> bool:
            if learner.story or learner.busy_days & class_days:
                return False
            if not learner.active:
                # Staff who have left may only have finished a class before leaving.
                return (
                    plan.status is ClassStatus.COMPLETED
                    and learner.deactivated_at is not None
                    and last_end < learner.deactivated_at - timedelta(days=7)
                )
            return True

        pool = [learner for learner in self.learners if available(learner)]
        rng.shuffle(pool)
        is_open = plan.status is ClassStatus.OPEN
        if plan.waitlist:
            # A full class: the seats go to early requests that need no approval, then a
            # waitlist forms behind them.
            confirmed_stories = sum(
                1
                for r in requests
                if r.story
                and r.story.outcome in (EnrolmentStatus.CONFIRMED, EnrolmentStatus.COMPLETED)
            )
            quick = [lr for lr in pool if not lr.spec.requires_approval]
            main = quick[: max(plan.capacity - confirmed_stories, 0)]
            rest = [lr for lr in pool if all(lr is not m for m in main)]
            if not is_open:
                rest = [lr for lr in rest if not lr.spec.requires_approval]
            extras = rest[: plan.waitlist + (1 if plan.promote else 0)]
            for learner in main:
                requests.append(
                    self.generic_request(learner, moment(rng.uniform(0, 0.7)), rng, plan, False)
                )
            for learner in extras:
                requests.append(
                    self.generic_request(
                        learner, moment(rng.uniform(0.72, 0.8)), rng, plan, False, approve=True
                    )
                )
            if plan.promote:
                leaver = next(r for r in requests if any(r.learner is m for m in main))
                leaver.withdraw_at = moment(0.9)
                leaver.withdraw_reason = rng.choice(WITHDRAWAL_REASONS)
        else:
            wanted = max(round(plan.capacity * plan.fill) - len(requests), 0)
            for learner in pool[:wanted]:
                requests.append(
                    self.generic_request(learner, moment(rng.random()), rng, plan, True)
                )

        decide_limit = limit if is_open else limit - timedelta(minutes=30)
        for request in requests:
            if request.decide_at is not None and request.decide_at > decide_limit:
                if is_open or cancel_at is not None:
                    # Still waiting for HR; a cancelled class cancels the request.
                    request.decide_at = None
                else:
                    request.decide_at = max(
                        request.at + timedelta(minutes=10),
                        decide_limit - timedelta(minutes=rng.randint(0, 60)),
                    )
            if request.withdraw_at is not None and request.withdraw_at > withdraw_limit:
                request.withdraw_at = None

        enrolments = self.replay(course_class, requests)
        if cancel_at is not None:
            self.cancel(course_class, enrolments, cancel_at)
        self.record_attendance(course_class, enrolments, rng)
        if plan.status is ClassStatus.COMPLETED:
            self.close(course_class, enrolments, rng)
        course_class.seats_taken = sum(
            1 for e in enrolments if e.status is EnrolmentStatus.CONFIRMED
        )
        if course_class.seats_taken > course_class.capacity:
            raise RuntimeError(f"demo class {course_class.code} is overbooked")
        for request, enrolment in zip(requests, enrolments, strict=True):
            if enrolment.status in QUOTA_STATUSES:
                request.learner.busy_days |= class_days
            if request.story and enrolment.status is not request.story.outcome:
                raise RuntimeError(
                    f"demo story of {request.story.email} in {course_class.code} ended "
                    f"{enrolment.status.value}, not {request.story.outcome.value}"
                )
            enrolment.updated_at = max(change.changed_at for change in enrolment.history)
            db.session.add(enrolment)
        self.created["enrolments"] += len(enrolments)
        self.created["enrolment_status_changes"] += sum(len(e.history) for e in enrolments)

    def story_request(
        self, story: _Story, learner: _Learner, at: datetime, course_class: CourseClass
    ) -> _Request:
        nominated = story.source is not EnrolmentSource.SELF
        request = _Request(
            learner=learner,
            at=at,
            source=story.source,
            requested_by=learner.hr if nominated else learner.user,
            needs_approval=learner.spec.requires_approval and not nominated,
            story=story,
        )
        if request.needs_approval and story.outcome is not EnrolmentStatus.PENDING:
            request.decide_at = at + timedelta(hours=26)
            request.approve = story.outcome is not EnrolmentStatus.REJECTED
            if not request.approve:
                request.decision_reason = story.reason
        if story.outcome is EnrolmentStatus.WITHDRAWN:
            request.withdraw_at = at + (course_class.withdrawal_deadline_at - at) / 3
            request.withdraw_at = min(request.withdraw_at, self.days_ago(3))
            request.withdraw_reason = story.reason
        return request

    def generic_request(
        self,
        learner: _Learner,
        at: datetime,
        rng: random.Random,
        plan: _ClassPlan,
        may_withdraw: bool,
        *,
        approve: bool | None = None,
    ) -> _Request:
        source = EnrolmentSource.SELF
        draw = rng.random()
        if draw < 0.18:
            source = EnrolmentSource.NOMINATED
        elif draw < 0.24 and learner.spec.code == "PDLS":
            source = EnrolmentSource.CSV
        request = _Request(
            learner=learner,
            at=at,
            source=source,
            requested_by=learner.user if source is EnrolmentSource.SELF else learner.hr,
            needs_approval=learner.spec.requires_approval and source is EnrolmentSource.SELF,
        )
        if request.needs_approval:
            request.decide_at = at + timedelta(hours=rng.uniform(3, 60))
            request.approve = approve if approve is not None else rng.random() >= 0.12
            if not request.approve:
                request.decision_reason = rng.choice(REJECTION_REASONS)
            if plan.status is ClassStatus.OPEN and rng.random() < 0.25:
                request.decide_at = None
        if may_withdraw and rng.random() < 0.08:
            request.withdraw_at = at + timedelta(days=rng.uniform(1, 20))
            request.withdraw_reason = rng.choice(WITHDRAWAL_REASONS)
        return request

    def replay(self, course_class: CourseClass, requests: list[_Request]) -> list[Enrolment]:
        """Play the requests, decisions and withdrawals in time order, as the service would."""
        enrolments = [
            Enrolment(
                course_class=course_class,
                learner=request.learner.user,
                source=request.source,
                requested_by=request.requested_by,
                requested_at=request.at,
            )
            for request in requests
        ]
        events: list[tuple[datetime, int, str, int]] = []
        for index, request in enumerate(requests):
            events.append((request.at, 0, "request", index))
            if request.needs_approval and request.decide_at is not None:
                events.append((request.decide_at, 1, "decide", index))
            if request.withdraw_at is not None:
                events.append((request.withdraw_at, 2, "withdraw", index))
        events.sort()
        confirmed = 0
        waitlist: list[int] = []

        def change(
            enrolment: Enrolment,
            status: EnrolmentStatus,
            at: datetime,
            actor: User | None,
            reason: str | None = None,
        ) -> None:
            enrolment.history.append(
                EnrolmentStatusChange(
                    from_status=enrolment.status,
                    to_status=status,
                    actor=actor,
                    reason=reason,
                    changed_at=at,
                )
            )
            enrolment.status = status
            if actor is not None and actor is not enrolment.learner:
                enrolment.acted_by = actor

        def place(index: int, at: datetime, actor: User) -> None:
            nonlocal confirmed
            enrolment = enrolments[index]
            if confirmed < course_class.capacity:
                change(enrolment, EnrolmentStatus.CONFIRMED, at, actor)
                enrolment.confirmed_at = at
                confirmed += 1
            else:
                change(enrolment, EnrolmentStatus.WAITLISTED, at, actor)
                enrolment.waitlisted_at = at
                waitlist.append(index)

        for at, _order, kind, index in events:
            request, enrolment = requests[index], enrolments[index]
            if kind == "request":
                if request.needs_approval:
                    change(enrolment, EnrolmentStatus.PENDING, at, request.requested_by)
                else:
                    place(index, at, request.requested_by)
            elif kind == "decide" and enrolment.status is EnrolmentStatus.PENDING:
                enrolment.decided_at = at
                if request.approve:
                    place(index, at, request.learner.hr)
                else:
                    change(
                        enrolment,
                        EnrolmentStatus.REJECTED,
                        at,
                        request.learner.hr,
                        request.decision_reason,
                    )
                    enrolment.status_reason = request.decision_reason
                    enrolment.ended_at = at
            elif kind == "withdraw" and enrolment.status in (
                EnrolmentStatus.CONFIRMED,
                EnrolmentStatus.WAITLISTED,
            ):
                was_confirmed = enrolment.status is EnrolmentStatus.CONFIRMED
                change(
                    enrolment,
                    EnrolmentStatus.WITHDRAWN,
                    at,
                    request.learner.user,
                    request.withdraw_reason,
                )
                enrolment.status_reason = request.withdraw_reason
                enrolment.ended_at = at
                if was_confirmed:
                    confirmed -= 1
                    if waitlist:
                        promoted = enrolments[waitlist.pop(0)]
                        change(promoted, EnrolmentStatus.CONFIRMED, at, None, PROMOTION_REASON)
                        promoted.confirmed_at = at
                        confirmed += 1
                else:
                    waitlist.remove(index)
        return enrolments

    def cancel(
        self, course_class: CourseClass, enrolments: list[Enrolment], cancel_at: datetime
    ) -> None:
        admin = self.users[ADMINS[0].email]
        course_class.updated_at = cancel_at
        for enrolment in enrolments:
            if enrolment.status in (
                EnrolmentStatus.PENDING,
                EnrolmentStatus.CONFIRMED,
                EnrolmentStatus.WAITLISTED,
            ):
                enrolment.history.append(
                    EnrolmentStatusChange(
                        from_status=enrolment.status,
                        to_status=EnrolmentStatus.CANCELLED,
                        actor=admin,
                        reason=course_class.status_reason,
                        changed_at=cancel_at,
                    )
                )
                enrolment.status = EnrolmentStatus.CANCELLED
                enrolment.status_reason = course_class.status_reason
                enrolment.acted_by = admin
                enrolment.ended_at = cancel_at

    def record_attendance(
        self, course_class: CourseClass, enrolments: list[Enrolment], rng: random.Random
    ) -> None:
        held = [s for s in course_class.sessions if s.ends_at <= self.day_start]
        if not held or course_class.status is ClassStatus.CANCELLED:
            return
        marker = course_class.trainers[0] if course_class.trainers else None
        completed = course_class.status is ClassStatus.COMPLETED
        for enrolment in enrolments:
            if enrolment.status is not EnrolmentStatus.CONFIRMED:
                continue
            n = len(held)
            if completed and enrolment.learner.email == LEARNER_A:
                misses = 0
            elif completed and rng.random() < 0.08:
                # Missed too much to complete.
                misses = math.ceil(0.35 * len(course_class.sessions))
            else:
                allowed = math.floor(0.15 * len(course_class.sessions))
                misses = rng.randint(1, allowed) if allowed and rng.random() < 0.35 else 0
            missed = set(rng.sample(range(n), min(misses, n)))
            for index, session in enumerate(held):
                if index in missed:
                    status = (
                        AttendanceStatus.EXCUSED if rng.random() < 0.4 else AttendanceStatus.ABSENT
                    )
                elif rng.random() < 0.08:
                    status = AttendanceStatus.LATE
                else:
                    status = AttendanceStatus.PRESENT
                enrolment.attendance.append(
                    Attendance(
                        session=session,
                        status=status,
                        marked_by_id=marker.id if marker else None,
                        marked_at=session.starts_at + timedelta(minutes=rng.randint(5, 40)),
                    )
                )
                self.created["attendance"] += 1

    def close(
        self, course_class: CourseClass, enrolments: list[Enrolment], rng: random.Random
    ) -> None:
        """Decide completion from attendance and result, and issue the certificates."""
        closed_at = _hk(course_class.ends_on + timedelta(days=2), time(17, 30))
        trainer = course_class.trainers[0]
        course_class.updated_at = closed_at
        total_minutes = sum(s.hours * 60 for s in course_class.sessions)
        for enrolment in enrolments:
            if enrolment.status is not EnrolmentStatus.CONFIRMED:
                continue
            attended = sum(
                a.session.hours * 60
                for a in enrolment.attendance
                if a.status in (AttendanceStatus.PRESENT, AttendanceStatus.LATE)
            )
            attendance_pct = round(100 * attended / total_minutes)
            reason = None
            if attendance_pct < course_class.min_attendance_pct:
                reason = (
                    f"Attendance {attendance_pct}% is below the required "
                    f"{course_class.min_attendance_pct}%."
                )
            elif course_class.assessment_required:
                failed = enrolment.learner.email != LEARNER_A and rng.random() < 0.07
                score = rng.uniform(28, 48) if failed else rng.uniform(55, 96)
                enrolment.result_score = Decimal(f"{score:.1f}")
                enrolment.result_passed = not failed
                if failed:
                    reason = f"Assessment not passed (score {enrolment.result_score})."
            outcome = EnrolmentStatus.NOT_COMPLETED if reason else EnrolmentStatus.COMPLETED
            enrolment.history.append(
                EnrolmentStatusChange(
                    from_status=EnrolmentStatus.CONFIRMED,
                    to_status=outcome,
                    actor=trainer,
                    reason=reason,
                    changed_at=closed_at,
                )
            )
            enrolment.status = outcome
            enrolment.status_reason = reason
            enrolment.decided_at = closed_at
            enrolment.ended_at = closed_at
            enrolment.acted_by = trainer
            if outcome is EnrolmentStatus.COMPLETED:
                enrolment.certificate = Certificate(
                    serial_number=self.serial_number(closed_at),
                    verification_code=secrets.token_urlsafe(24),
                    issued_at=closed_at + timedelta(minutes=5),
                )
                self.created["certificates"] += 1

    def serial_number(self, issued_at: datetime) -> str:
        if self.next_serial is None:
            highest = 100
            for serial in db.session.scalars(select(Certificate.serial_number)):
                tail = serial.rsplit("-", 1)[-1]
                if tail.isdigit():
                    highest = max(highest, int(tail))
            self.next_serial = highest + 1
        number = self.next_serial
        self.next_serial += 1
        return f"SU-{_hk_date(issued_at).year}-{number:06d}"

    # Quotas --------------------------------------------------------------------------------

    def seed_quotas(self) -> None:
        """Term quotas for each company, with room to spare except the third company's now."""
        companies = {company.id: code for code, company in self.companies.items()}
        used_by_term: Counter[tuple[str, str]] = Counter()
        used_by_course: Counter[tuple[str, str, str]] = Counter()
        rows = db.session.execute(
            select(User.company_id, CourseClass.starts_on, Course.code, func.count())
            .select_from(Enrolment)
            .join(User, Enrolment.learner_id == User.id)
            .join(CourseClass, Enrolment.class_id == CourseClass.id)
            .join(Course, CourseClass.course_id == Course.id)
            .where(User.company_id.in_(list(companies)), Enrolment.status.in_(QUOTA_STATUSES))
            .group_by(User.company_id, CourseClass.starts_on, Course.code)
        ).all()
        for company_id, starts_on, course_code, count in rows:
            label = _term(starts_on)[0]
            used_by_term[(companies[company_id], label)] += count
            used_by_course[(companies[company_id], label, course_code)] += count

        terms: dict[str, tuple[date, date]] = {}
        day = self.anchor - timedelta(days=130)
        while day <= self.anchor + timedelta(days=170):
            label, starts, ends = _term(day)
            terms[label] = (starts, ends)
            day = ends + timedelta(days=1)
        current = _term(self.anchor)[0]

        wanted: list[tuple[PartnerCompany, str, date, date, int, Course | None]] = []
        for spec in COMPANIES:
            company = self.companies[spec.code]
            for label, (starts, ends) in terms.items():
                used = used_by_term[(spec.code, label)]
                seats = max(spec.quota_seats, math.ceil((used * 1.3 + 5) / 5) * 5)
                if spec.code == "PDLS" and label == current:
                    seats = used + 3  # nearly used up, to show the warning
                wanted.append((company, label, starts, ends, seats, None))
        # The approval company also caps one expensive course, this term and next.
        course = self.courses["SU-SEC-301"]
        next_term = _term(terms[current][1] + timedelta(days=1))[0]
        for label in (current, next_term):
            starts, ends = terms[label]
            used = used_by_course[("LRFT", label, course.code)]
            wanted.append(
                (
                    self.companies["LRFT"],
                    f"{label}: {course.code}",
                    starts,
                    ends,
                    max(used, 1) + 2,
                    course,
                )
            )

        existing = {
            (quota.company_id, quota.label, quota.course_id)
            for quota in db.session.scalars(
                select(SeatQuota).where(SeatQuota.company_id.in_(list(companies)))
            )
        }
        for company, label, starts, ends, seats, quota_course in wanted:
            key = (company.id, label, quota_course.id if quota_course else None)
            if key in existing:
                continue
            db.session.add(
                SeatQuota(
                    company=company,
                    course=quota_course,
                    label=label,
                    starts_on=starts,
                    ends_on=ends,
                    seats=seats,
                    created_at=min(_hk(starts - timedelta(days=60), time(10)), self.days_ago(1)),
                )
            )
            self.created["seat_quotas"] += 1
        db.session.flush()
