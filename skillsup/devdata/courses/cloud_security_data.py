"""Demo courses in cloud computing, cybersecurity, and data and AI."""

from __future__ import annotations

from typing import Any

from ...models import CourseStatus, DeliveryMode, SkillArea, TeachingLanguage

COURSES: tuple[dict[str, Any], ...] = (
    {
        "code": "SU-CLD-101",
        "certificate_valid_months": 3,
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
        "certificate_valid_months": 3,
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
)
