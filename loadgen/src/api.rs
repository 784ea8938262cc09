//! The few HTTP calls a scenario makes around its load: sign in, list reports, read the server's
//! WebSocket statistics.

use anyhow::{bail, Context as _};
use serde::Deserialize;

/// A signed-in user of one server.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    client: reqwest::Client,
    /// `pmr_session=…`, for WebSocket handshakes and API calls.
    pub cookie: String,
}

#[derive(Deserialize)]
struct Portfolio {
    projects: Vec<Project>,
}

#[derive(Deserialize)]
struct Project {
    reports: Vec<ReportLink>,
}

/// A report of the portfolio.
#[derive(Debug, Clone, Deserialize)]
pub struct ReportLink {
    pub id: i64,
    pub status: String,
}

impl Api {
    /// Signs in as `user`.
    pub async fn login(base: &str, user: &str, password: &str) -> anyhow::Result<Api> {
        let client = reqwest::Client::new();
        let response = client
            .post(format!("{base}/api/login"))
            .header("origin", base)
            .form(&[("username", user), ("password", password)])
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("signing in as {user}: {}", response.status());
        }
        let cookie = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.split(';').next().filter(|c| c.contains("pmr_session")))
            .context("no session cookie")?
            .to_string();
        Ok(Api {
            base: base.to_string(),
            client,
            cookie,
        })
    }

    async fn post(&self, path: &str) -> anyhow::Result<reqwest::Response> {
        self.post_to(&self.base, path).await
    }

    /// POSTs `path` to the instance at `base` (with this session's cookie), failing on a non-2xx.
    async fn post_to(&self, base: &str, path: &str) -> anyhow::Result<reqwest::Response> {
        let response = self
            .client
            .post(format!("{base}{path}"))
            .header("origin", base)
            .header("cookie", &self.cookie)
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("POST {path}: {}", response.status());
        }
        Ok(response)
    }

    /// Every report the user may see, drafts first.
    pub async fn reports(&self) -> anyhow::Result<Vec<ReportLink>> {
        let portfolio: Portfolio = self.post("/api/list_portfolio").await?.json().await?;
        let mut reports: Vec<ReportLink> = portfolio
            .projects
            .into_iter()
            .flat_map(|p| p.reports)
            .collect();
        reports.sort_by_key(|r| (r.status != "draft", r.id));
        Ok(reports)
    }

    /// A GET answering JSON.
    pub async fn get_json(&self, path: &str) -> anyhow::Result<serde_json::Value> {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("GET {path}: {}", response.status());
        }
        Ok(response.json().await?)
    }

    /// `GET /api/reports/pmr/performance/websocket/stats` (admin).
    pub async fn websocket_stats(&self) -> anyhow::Result<serde_json::Value> {
        self.get_json("/api/reports/pmr/performance/websocket/stats")
            .await
    }

    /// A POST to `path` of another instance of the same deployment (sessions are shared), with
    /// that instance's origin.
    pub async fn post_at(&self, base: &str, path: &str) -> anyhow::Result<()> {
        self.post_to(base, path).await.map(drop)
    }
}
