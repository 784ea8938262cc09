//! The demo portfolio's cast: four projects with different fortunes, the phases and task names of
//! their plans, and the risks they face. Plain data; [`super::plan`] turns it into dated tasks.

use app::model::{Priority, Rag, TemplateSection};

/// How a demo project is doing, and how it says it is doing.
pub struct Profile {
    pub code: &'static str,
    pub name: &'static str,
    pub manager: &'static str,
    pub currency: &'static str,
    /// Months between the project's start and the current month.
    pub started_months_ago: u32,
    /// Planned length in months.
    pub planned_months: u32,
    pub task_count: usize,
    /// Budgeted cost of one working day of one task, in `currency`.
    pub daily_rate: f64,
    /// Earned value per unit of actual cost (CPI) the data should show.
    pub cost_efficiency: f64,
    /// Work performed per unit of work planned (SPI) the data should show.
    pub schedule_efficiency: f64,
    /// Schedule contingency between the planned finish (most likely durations) and the target date,
    /// as a share of the planned working days: plans built on most-likely estimates are rarely met.
    pub schedule_buffer: f64,
    /// Declared status: overall, scope, schedule, cost, resources.
    pub declared: [Rag; 5],
    pub justification: &'static str,
    pub phases: &'static [(&'static str, &'static [&'static str])],
    pub risks: &'static [RiskSpec],
}

/// A risk of the demo data.
pub struct RiskSpec {
    pub title: &'static str,
    pub probability: f64,
    /// Cost impact as a fraction of the budget at completion.
    pub cost_share: f64,
    pub schedule_days: f64,
    pub owner: &'static str,
    pub mitigation: &'static str,
}

use Rag::{Amber, Green};

const fn risk(
    title: &'static str,
    probability: f64,
    cost_share: f64,
    schedule_days: f64,
    owner: &'static str,
    mitigation: &'static str,
) -> RiskSpec {
    RiskSpec {
        title,
        probability,
        cost_share,
        schedule_days,
        owner,
        mitigation,
    }
}

/// The standard monthly report: what a reader needs first loads first.
pub fn standard_template() -> Vec<TemplateSection> {
    [
        (
            "executive-summary",
            "executive_summary",
            "Executive summary",
            Priority::High,
        ),
        ("key-metrics", "key_metrics", "Key metrics", Priority::High),
        (
            "ai-insights",
            "ai_insights",
            "AI insights",
            Priority::Medium,
        ),
        (
            "monte-carlo",
            "monte_carlo",
            "Monte Carlo risk analysis",
            Priority::Medium,
        ),
        ("charts", "charts", "Performance charts", Priority::Medium),
        ("milestones", "milestones", "Milestones", Priority::Low),
        ("risks", "risks", "Risks", Priority::Low),
        (
            "appendix",
            "appendix",
            "Appendix: task table",
            Priority::Low,
        ),
    ]
    .into_iter()
    .map(|(key, section_type, title, priority)| TemplateSection {
        key: key.into(),
        section_type: section_type.into(),
        title: title.into(),
        priority,
    })
    .collect()
}

/// The four demo projects: on track, at risk, troubled but declared green, slightly behind.
pub const PROFILES: &[Profile] = &[
    Profile {
        code: "HBR",
        name: "Harbor Bridge Rehabilitation",
        manager: "Ana Lopes",
        currency: "EUR",
        started_months_ago: 14,
        planned_months: 24,
        task_count: 120,
        daily_rate: 9_000.0,
        cost_efficiency: 1.03,
        schedule_efficiency: 0.99,
        schedule_buffer: 0.15,
        declared: [Green, Green, Green, Green, Green],
        justification: "Deck replacement on plan; cable inspection closed with no findings.",
        phases: &[
            (
                "Survey and design",
                &[
                    "Structural survey",
                    "Load testing",
                    "Design review",
                    "Scour assessment",
                ],
            ),
            (
                "Permits",
                &[
                    "Marine permit",
                    "Traffic management plan",
                    "Environmental consent",
                ],
            ),
            (
                "Mobilisation",
                &[
                    "Site compound",
                    "Barge mobilisation",
                    "Temporary works design",
                ],
            ),
            (
                "Deck replacement",
                &[
                    "Deck panel removal",
                    "Steel repairs",
                    "Deck panel install",
                    "Waterproofing",
                ],
            ),
            (
                "Cable works",
                &[
                    "Cable inspection",
                    "Dehumidification system",
                    "Cable wrapping",
                ],
            ),
            (
                "Commissioning",
                &["Surfacing", "Load test", "Handover documentation"],
            ),
        ],
        risks: &[
            risk(
                "Storm season delays marine works",
                0.35,
                0.02,
                15.0,
                "Site manager",
                "Weather windows booked; barge standby agreement.",
            ),
            risk(
                "Hidden corrosion in deck steel",
                0.25,
                0.04,
                20.0,
                "Lead engineer",
                "Ultrasound survey of remaining spans before removal.",
            ),
            risk(
                "Lane closure permit revoked",
                0.1,
                0.01,
                10.0,
                "Ana Lopes",
                "Weekly liaison with city traffic office.",
            ),
            risk(
                "Steel price escalation",
                0.3,
                0.03,
                0.0,
                "Commercial manager",
                "Fixed-price order for the remaining steel.",
            ),
            risk(
                "Night-work noise complaints",
                0.2,
                0.005,
                5.0,
                "Community liaison",
                "Noise monitors and a resident hotline.",
            ),
            risk(
                "Specialist welders unavailable",
                0.15,
                0.01,
                12.0,
                "Site manager",
                "Second subcontractor prequalified.",
            ),
        ],
    },
    Profile {
        code: "CPR",
        name: "Customer Portal Replatform",
        manager: "Marcus Webb",
        currency: "USD",
        started_months_ago: 10,
        planned_months: 14,
        task_count: 80,
        daily_rate: 4_200.0,
        cost_efficiency: 0.92,
        schedule_efficiency: 0.9,
        schedule_buffer: 0.08,
        declared: [Amber, Green, Amber, Amber, Green],
        justification:
            "Billing integration slipped two weeks; vendor API limits under negotiation.",
        phases: &[
            (
                "Discovery",
                &[
                    "Stakeholder interviews",
                    "Journey mapping",
                    "Analytics baseline",
                ],
            ),
            (
                "Architecture",
                &[
                    "Platform selection",
                    "API gateway design",
                    "Security review",
                ],
            ),
            (
                "Identity and accounts",
                &["Single sign-on", "Account linking", "Consent management"],
            ),
            (
                "Billing",
                &[
                    "Invoice history",
                    "Payment methods",
                    "Billing API integration",
                ],
            ),
            (
                "Self-service",
                &["Order tracking", "Support tickets", "Document centre"],
            ),
            (
                "Migration",
                &[
                    "Customer data migration",
                    "Content migration",
                    "URL redirects",
                ],
            ),
            (
                "Launch",
                &[
                    "Performance testing",
                    "Accessibility audit",
                    "Staged rollout",
                ],
            ),
        ],
        risks: &[
            risk(
                "Billing vendor rate limits block sync",
                0.5,
                0.05,
                15.0,
                "Integration lead",
                "Batch sync design; negotiate higher limits.",
            ),
            risk(
                "SSO provider contract delayed",
                0.3,
                0.02,
                10.0,
                "Marcus Webb",
                "Escalated to procurement; fallback to local accounts.",
            ),
            risk(
                "Legacy data quality worse than sampled",
                0.45,
                0.04,
                12.0,
                "Data engineer",
                "Profile full data set in the next sprint.",
            ),
            risk(
                "Accessibility audit fails",
                0.2,
                0.02,
                8.0,
                "UX lead",
                "Automated checks in CI; early expert review.",
            ),
            risk(
                "Key front-end developer leaves",
                0.15,
                0.03,
                15.0,
                "Engineering manager",
                "Pairing and documentation of the design system.",
            ),
        ],
    },
    Profile {
        code: "ERP",
        name: "North Plant ERP Rollout",
        manager: "Priya Raman",
        currency: "USD",
        started_months_ago: 12,
        planned_months: 18,
        task_count: 210,
        daily_rate: 6_500.0,
        cost_efficiency: 0.78,
        schedule_efficiency: 0.74,
        schedule_buffer: 0.05,
        declared: [Green, Green, Green, Green, Amber],
        justification: "Team confident of go-live date; minor data issues being worked.",
        phases: &[
            (
                "Blueprint",
                &[
                    "Process workshops",
                    "Fit-gap analysis",
                    "Solution blueprint",
                    "Sign-off",
                ],
            ),
            (
                "Build: finance",
                &[
                    "Chart of accounts",
                    "Accounts payable",
                    "Accounts receivable",
                    "Asset accounting",
                    "Period close",
                ],
            ),
            (
                "Build: supply chain",
                &[
                    "Purchasing",
                    "Inventory management",
                    "Warehouse bins",
                    "Vendor master",
                ],
            ),
            (
                "Build: manufacturing",
                &[
                    "Bills of material",
                    "Routings",
                    "Production orders",
                    "Shop-floor terminals",
                    "Quality inspection",
                ],
            ),
            (
                "Data migration",
                &[
                    "Material master load",
                    "Open orders load",
                    "Balances load",
                    "Reconciliation",
                ],
            ),
            (
                "Testing",
                &[
                    "Integration test cycle",
                    "User acceptance test",
                    "Performance test",
                    "Defect fixing",
                ],
            ),
            (
                "Training",
                &[
                    "Key-user training",
                    "End-user training",
                    "Work instructions",
                ],
            ),
            (
                "Cutover",
                &["Dress rehearsal", "Cutover weekend", "Hypercare"],
            ),
        ],
        risks: &[
            risk(
                "Data migration reconciliation fails",
                0.6,
                0.06,
                25.0,
                "Data lead",
                "Add a third mock load; assign finance reconciler.",
            ),
            risk(
                "Integrator staff turnover",
                0.45,
                0.05,
                20.0,
                "Priya Raman",
                "Named-resource clause invoked with the integrator.",
            ),
            risk(
                "Shop-floor terminals late from supplier",
                0.4,
                0.02,
                15.0,
                "Plant IT",
                "Interim tablets for pilot lines.",
            ),
            risk(
                "Key users unavailable during peak season",
                0.5,
                0.03,
                18.0,
                "Plant manager",
                "Backfill operators approved for Q1.",
            ),
            risk(
                "Custom reports scope growth",
                0.55,
                0.04,
                12.0,
                "Solution architect",
                "Change board to freeze report list.",
            ),
            risk(
                "Cutover window collides with audit",
                0.25,
                0.02,
                30.0,
                "Finance director",
                "Agree audit dates before setting cutover.",
            ),
            risk(
                "Performance of MRP run",
                0.3,
                0.02,
                10.0,
                "Basis lead",
                "Run volume test with full material master.",
            ),
        ],
    },
    Profile {
        code: "CDW",
        name: "Clinical Data Warehouse",
        manager: "Tom Okafor",
        currency: "GBP",
        started_months_ago: 7,
        planned_months: 12,
        task_count: 60,
        daily_rate: 3_800.0,
        cost_efficiency: 0.97,
        schedule_efficiency: 0.94,
        schedule_buffer: 0.10,
        declared: [Amber, Green, Amber, Green, Green],
        justification:
            "Ingestion of lab results two weeks late; recovery plan agreed with the trust.",
        phases: &[
            (
                "Governance",
                &[
                    "Data protection impact assessment",
                    "Access model",
                    "Ethics approval",
                ],
            ),
            (
                "Ingestion",
                &[
                    "Patient administration feed",
                    "Lab results feed",
                    "Pharmacy feed",
                ],
            ),
            (
                "Modelling",
                &["Encounter model", "Medication model", "Outcome measures"],
            ),
            (
                "Reporting",
                &["Ward dashboards", "Research extracts", "Audit reports"],
            ),
            (
                "Validation",
                &[
                    "Clinical validation",
                    "Penetration test",
                    "Go-live readiness",
                ],
            ),
        ],
        risks: &[
            risk(
                "Lab system vendor change freeze",
                0.4,
                0.03,
                15.0,
                "Integration lead",
                "Agree a change window with the vendor now.",
            ),
            risk(
                "Pseudonymisation rejected by governance board",
                0.2,
                0.04,
                20.0,
                "Information governance",
                "Early review of the design with the board.",
            ),
            risk(
                "Clinician time for validation",
                0.35,
                0.02,
                10.0,
                "Tom Okafor",
                "Protected sessions booked through the medical director.",
            ),
            risk(
                "Storage costs above forecast",
                0.25,
                0.03,
                0.0,
                "Cloud architect",
                "Tiered storage and retention policy.",
            ),
            risk(
                "Feed message format changes",
                0.3,
                0.015,
                6.0,
                "Data engineer",
                "Contract tests on every feed.",
            ),
        ],
    },
];

/// People who own tasks, by project code.
pub fn owners(code: &str) -> &'static [&'static str] {
    match code {
        "HBR" => &[
            "J. Moreau",
            "K. Lindqvist",
            "R. Costa",
            "M. Byrne",
            "S. Haddad",
        ],
        "CPR" => &["L. Chen", "D. Novak", "A. Mensah", "E. Park"],
        "ERP" => &[
            "F. Weber",
            "N. Gupta",
            "O. Silva",
            "H. Tanaka",
            "C. Dubois",
            "V. Ivanova",
        ],
        _ => &["B. Adeyemi", "G. Walsh", "I. Kowalski"],
    }
}
