//! An insight engine backed by any OpenAI-compatible chat-completions endpoint (OpenAI, Azure OpenAI,
//! vLLM, llama.cpp server, Ollama's OpenAI API...). It sends the report's figures and the rules
//! engine's findings, asks for JSON, and validates the answer strictly. On a timeout, an HTTP error
//! or an answer that does not validate, it falls back to the rules engine and says why in the result:
//! a report never lacks insights because a model misbehaved.

use std::time::Duration;

use app::analysis::{Insight, InsightSet};
use async_trait::async_trait;
use serde::Deserialize;
use serde_json::json;

use super::rules::{self, RulesEngine};
use super::{InsightContext, InsightEngine};

/// Most insights accepted from a model, and the bounds on their text.
const MAX_INSIGHTS: usize = 12;
const MAX_EVIDENCE: usize = 8;
const MAX_TEXT: usize = 600;

const INSTRUCTIONS: &str = "You are a project controls analyst writing the insights section of a \
monthly project report. Use only the figures given. Answer with a JSON object \
{\"insights\": [...]} holding at most 8 insights, most severe first. Each insight has: \
\"category\" (one of cost, schedule, risk, resources, data_quality), \"severity\" (info, warning or \
critical), \"title\" (one sentence), \"evidence\" (1 to 5 short strings quoting the exact figures) and \
\"action\" (one concrete recommendation).";

/// Where and how to reach the model.
#[derive(Debug, Clone)]
pub struct LlmConfig {
    /// Base URL up to and excluding `/chat/completions`, e.g. `https://api.openai.com/v1`.
    pub base_url: String,
    pub api_key: Option<String>,
    pub model: String,
    pub timeout: Duration,
}

/// The language-model engine, with the rules engine as its fallback.
pub struct LlmEngine {
    client: reqwest::Client,
    config: LlmConfig,
    name: String,
}

impl LlmEngine {
    /// An engine for the given endpoint.
    pub fn new(config: LlmConfig) -> Result<LlmEngine, reqwest::Error> {
        let client = reqwest::Client::builder().timeout(config.timeout).build()?;
        let name = format!("llm:{}", config.model);
        Ok(LlmEngine {
            client,
            config,
            name,
        })
    }

    async fn ask(
        &self,
        ctx: &InsightContext<'_>,
        hints: &[Insight],
    ) -> Result<Vec<Insight>, String> {
        let url = format!(
            "{}/chat/completions",
            self.config.base_url.trim_end_matches('/')
        );
        let body = json!({
            "model": self.config.model,
            "temperature": 0,
            "response_format": { "type": "json_object" },
            "messages": [
                { "role": "system", "content": INSTRUCTIONS },
                { "role": "user", "content": facts(ctx, hints).to_string() },
            ],
        });
        let mut request = self.client.post(&url).json(&body);
        if let Some(key) = &self.config.api_key {
            request = request.bearer_auth(key);
        }
        // The reason is saved with the report and shown to its readers: never the endpoint's
        // address (a query string may hold a key); the server's log has the whole error.
        let response = request.send().await.map_err(|e| {
            tracing::warn!(error = %e, "the language model request failed");
            format!("request failed: {}", e.without_url())
        })?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("the endpoint answered HTTP {status}"));
        }
        let reply: ChatReply = response
            .json()
            .await
            .map_err(|e| format!("not a chat-completions reply: {}", e.without_url()))?;
        let content = reply
            .choices
            .into_iter()
            .next()
            .map(|c| c.message.content)
            .ok_or("the reply has no choices")?;
        parse_insights(&content)
    }
}

#[async_trait]
impl InsightEngine for LlmEngine {
    fn name(&self) -> &str {
        &self.name
    }

    async fn insights(&self, ctx: &InsightContext<'_>) -> InsightSet {
        let hints = rules::evaluate(ctx);
        let outcome = tokio::time::timeout(self.config.timeout, self.ask(ctx, &hints)).await;
        let reason = match outcome {
            Ok(Ok(insights)) => {
                return InsightSet {
                    engine: self.name.clone(),
                    fallback_reason: None,
                    insights,
                }
            }
            Ok(Err(problem)) => problem,
            Err(_) => format!("no answer within {} s", self.config.timeout.as_secs_f64()),
        };
        tracing::warn!(engine = %self.name, %reason, "language model insights unavailable; using the rules engine");
        let mut set = RulesEngine.insights(ctx).await;
        set.fallback_reason = Some(format!("{}: {reason}", self.name));
        set
    }
}

#[derive(Deserialize)]
struct ChatReply {
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    message: Message,
}

#[derive(Deserialize)]
struct Message {
    content: String,
}

#[derive(Deserialize)]
struct Answer {
    insights: Vec<Insight>,
}

/// Parses and checks a model's answer.
pub fn parse_insights(content: &str) -> Result<Vec<Insight>, String> {
    let answer: Answer = serde_json::from_str(content.trim())
        .map_err(|e| format!("the answer is not the JSON asked for: {e}"))?;
    if answer.insights.is_empty() || answer.insights.len() > MAX_INSIGHTS {
        return Err(format!(
            "expected 1 to {MAX_INSIGHTS} insights, got {}",
            answer.insights.len()
        ));
    }
    for (i, insight) in answer.insights.iter().enumerate() {
        let texts = std::iter::once(&insight.title)
            .chain(std::iter::once(&insight.action))
            .chain(insight.evidence.iter());
        if insight.title.trim().is_empty() || insight.action.trim().is_empty() {
            return Err(format!("insight {i} lacks a title or an action"));
        }
        if insight.evidence.is_empty() || insight.evidence.len() > MAX_EVIDENCE {
            return Err(format!(
                "insight {i} must quote 1 to {MAX_EVIDENCE} pieces of evidence"
            ));
        }
        if texts.into_iter().any(|t| t.chars().count() > MAX_TEXT) {
            return Err(format!(
                "insight {i} has text longer than {MAX_TEXT} characters"
            ));
        }
    }
    let mut insights = answer.insights;
    insights.sort_by_key(|i| std::cmp::Reverse(i.severity));
    Ok(insights)
}

/// The figures the model may use.
fn facts(ctx: &InsightContext<'_>, hints: &[Insight]) -> serde_json::Value {
    let mc = &ctx.monte_carlo;
    json!({
        "project": ctx.data.name,
        "currency": ctx.data.currency,
        "status_date": ctx.status_date.to_string(),
        "target_finish": ctx.data.target_finish.to_string(),
        "earned_value": ctx.ev,
        "earned_schedule": ctx.es,
        "status_checks": ctx.checks,
        "monte_carlo": {
            "iterations": mc.result.iterations,
            "p50_finish": mc.p50_finish,
            "p80_finish": mc.p80_finish,
            "probability_on_time": mc.result.probability_on_time,
            "probability_on_budget": mc.result.probability_on_budget,
            "joint_confidence": mc.result.joint_confidence,
            "cost_p80": mc.result.cost.p80,
            "most_critical_tasks": mc.result.critical_tasks.iter().take(5).collect::<Vec<_>>(),
        },
        "milestones": ctx.milestones,
        "risks": ctx.data.risks.iter().filter(|r| r.status != "closed").map(|r| json!({
            "title": r.title, "probability": r.probability, "cost_impact": r.cost_impact,
            "schedule_impact_days": r.schedule_impact_days, "status": r.status,
        })).collect::<Vec<_>>(),
        "rule_based_findings": hints,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::analysis::{InsightCategory, Severity};

    #[test]
    fn good_answers_parse_and_sort() {
        let answer = r#"{"insights":[
            {"category":"cost","severity":"warning","title":"Over","evidence":["CPI 0.9"],"action":"Act"},
            {"category":"data_quality","severity":"critical","title":"Green over red","evidence":["CPI 0.7"],"action":"Fix"}]}"#;
        let insights = parse_insights(answer).expect("valid");
        assert_eq!(insights[0].severity, Severity::Critical);
        assert_eq!(insights[1].category, InsightCategory::Cost);
    }

    #[test]
    fn bad_answers_are_refused_with_a_reason() {
        assert!(parse_insights("Sure! Here are some insights:")
            .expect_err("prose")
            .contains("not the JSON"));
        assert!(parse_insights(r#"{"insights":[]}"#)
            .expect_err("empty")
            .contains("1 to 12"));
        let unknown = r#"{"insights":[{"category":"vibes","severity":"warning","title":"t","evidence":["e"],"action":"a"}]}"#;
        assert!(parse_insights(unknown)
            .expect_err("category")
            .contains("unknown variant"));
        let bare = r#"{"insights":[{"category":"cost","severity":"info","title":"t","evidence":[],"action":"a"}]}"#;
        assert!(parse_insights(bare)
            .expect_err("no evidence")
            .contains("evidence"));
    }
}
