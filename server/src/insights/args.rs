//! The language-model engine's settings as flags and environment variables. Without an endpoint
//! the rules engine writes the insights.

use std::time::Duration;

use clap::Args;

use super::llm::LlmConfig;

/// `PMR_LLM_*`: an OpenAI-compatible endpoint for AI insights.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "AI insights")]
pub struct LlmArgs {
    /// OpenAI-compatible endpoint for AI insights, up to `/chat/completions` (e.g.
    /// `https://api.openai.com/v1`). Unset: the deterministic rules engine writes the insights.
    #[arg(long, env = "PMR_LLM_BASE_URL")]
    pub llm_base_url: Option<String>,

    /// API key sent as a bearer token to the insights endpoint.
    #[arg(long, env = "PMR_LLM_API_KEY", hide_env_values = true)]
    pub llm_api_key: Option<String>,

    /// Model name asked for on the insights endpoint.
    #[arg(long, env = "PMR_LLM_MODEL", default_value = "gpt-4o-mini")]
    pub llm_model: String,

    /// Seconds to wait for the model before falling back to the rules engine (1 to 120).
    #[arg(long, env = "PMR_LLM_TIMEOUT_SECS", default_value_t = 10,
        value_parser = clap::value_parser!(u64).range(1..=120))]
    pub llm_timeout_secs: u64,
}

impl LlmArgs {
    /// The language-model settings, when an endpoint is configured.
    pub fn config(&self) -> Option<LlmConfig> {
        self.llm_base_url.as_ref().map(|base_url| LlmConfig {
            base_url: base_url.clone(),
            api_key: self.llm_api_key.clone(),
            model: self.llm_model.clone(),
            timeout: Duration::from_secs(self.llm_timeout_secs),
        })
    }
}
