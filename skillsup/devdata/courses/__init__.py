"""The demo's course catalogue, in English and Traditional Chinese; the benchmark data builds
its courses on it too.

Each course is a dict of :class:`~skillsup.services.courses.CourseData` fields, with
``prerequisites`` (course codes, each listed before the courses that need it), ``status`` when
it is not to be published, ``assessment`` when its classes require a passed assessment, and
``cef_reimbursable`` when it is offered under the Continuing Education Fund.
"""

from __future__ import annotations

from typing import Any

from ...models import SkillArea
from . import cloud_security_data, network_software_management

COURSES: tuple[dict[str, Any], ...] = (
    *cloud_security_data.COURSES,
    *network_software_management.COURSES,
)
COURSES_BY_CODE = {course["code"]: course for course in COURSES}

# Where the classes of each skill area meet when they meet on a campus.
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
