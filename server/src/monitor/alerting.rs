//! The thresholds and the alert rule: each series against its metric's threshold (p95 of the window
//! for latencies, the latest value for rates), through the alert engine's (`alerts.rs`) pending time and
//! hysteresis, with callbacks for what fires or resolves.

use std::sync::Arc;

use tokio::time::Instant;

use super::alerts::{AlertEvent, Observation};
use super::series::{lock, summarize};
use super::{read, write, Alert, Direction, Monitor, Severity, Threshold};

impl Monitor {
    pub fn thresholds(&self) -> Vec<Threshold> {
        read(&self.inner.thresholds).clone()
    }

    /// Changes a threshold at runtime; `Err` names what is wrong.
    pub fn set_threshold(&self, metric: &str, value: f64) -> Result<Threshold, String> {
        if !value.is_finite() || value <= 0.0 {
            return Err(format!(
                "a threshold must be a positive number, not {value}"
            ));
        }
        let mut all = write(&self.inner.thresholds);
        let Some(t) = all.iter_mut().find(|t| t.metric == metric) else {
            return Err(format!("there is no threshold for '{metric}'"));
        };
        if t.unit == "%" && value > 100.0 {
            return Err(format!("{metric} is a percentage: 0 to 100"));
        }
        t.value = value;
        tracing::info!(metric, value, "threshold changed");
        Ok(t.clone())
    }

    /// Calls `callback` with every alert that fires or resolves.
    pub fn register_alert_callback(&self, callback: impl Fn(&Alert) + Send + Sync + 'static) {
        write(&self.inner.callbacks).push(Arc::new(callback));
    }

    /// Applies the alert rule now; returns what changed.
    pub fn evaluate(&self) -> Vec<AlertEvent> {
        let thresholds = self.thresholds();
        let minute = self.minute();
        let mut observations = Vec::new();
        for series in self.series_list() {
            let Some(t) = thresholds.iter().find(|t| *t.metric == *series.name) else {
                continue;
            };
            let window = series.window(minute, self.inner.window_minutes);
            if window.is_empty() {
                continue;
            }
            let value = match t.direction {
                Direction::Above => summarize(&window).p95,
                Direction::Below => series.last(),
            };
            observations.push(Observation {
                metric: series.name.to_string(),
                labels: series.labels.to_vec(),
                value,
                threshold: t.clone(),
            });
        }
        let events = lock(&self.inner.alerts).evaluate(&observations, Instant::now());
        if !events.is_empty() {
            let callbacks = read(&self.inner.callbacks).clone();
            for event in &events {
                let alert = match event {
                    AlertEvent::Fired(a) => {
                        tracing::warn!(
                            id = a.id,
                            severity = a.severity.as_str(),
                            "alert: {}",
                            a.message
                        );
                        a
                    }
                    AlertEvent::Resolved(a) => {
                        tracing::warn!(
                            id = a.id,
                            "resolved after {:?} s: {}",
                            a.duration_seconds,
                            a.message
                        );
                        a
                    }
                };
                for cb in &callbacks {
                    cb(alert);
                }
            }
        }
        events
    }

    /// Firing alerts.
    pub fn active_alerts(&self) -> Vec<Alert> {
        lock(&self.inner.alerts).active()
    }

    /// Recent alerts, newest first (the seed's `get_recent_alerts` and `get_alerts_by_severity`).
    pub fn recent_alerts(&self, limit: usize, severity: Option<Severity>) -> Vec<Alert> {
        lock(&self.inner.alerts).recent(limit, severity)
    }
}
