"""Demo courses in networking, software engineering, the digital workplace, and project and
IT service management."""

from __future__ import annotations

from typing import Any

from ...models import CourseStatus, DeliveryMode, SkillArea, TeachingLanguage

COURSES: tuple[dict[str, Any], ...] = (
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
