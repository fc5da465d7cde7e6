//! What the language model cost: one record per agent turn, summed for `GET /api/cost`.
//!
//! Records live in the store (SQLite by default) and are summed with indexed range queries (upstream
//! re-read a whole JSONL file whenever the day changed). Prices come from `[provider]
//! input_price_per_million` / `output_price_per_million` at the time of the turn, so a later price change
//! never rewrites history.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::Serialize;
use time::OffsetDateTime;

use crate::devices::StoreError;

/// How long records are kept (a month's totals need the month; a little over a year is plenty).
pub const RETENTION: time::Duration = time::Duration::days(400);

/// One turn's usage.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageRecord {
    /// The model that answered.
    pub model: String,
    /// Prompt tokens.
    pub input_tokens: u64,
    /// Completion tokens.
    pub output_tokens: u64,
    /// What it cost, in US dollars, at the prices configured then.
    pub cost_usd: f64,
    /// When the turn ended.
    pub at: OffsetDateTime,
}

impl UsageRecord {
    /// A record priced per million tokens; non-finite or negative prices count as 0.
    pub fn priced(model: &str, input: u64, output: u64, input_price: f64, output_price: f64) -> Self {
        let price = |p: f64| if p.is_finite() && p > 0.0 { p } else { 0.0 };
        let cost_usd = input as f64 / 1e6 * price(input_price) + output as f64 / 1e6 * price(output_price);
        Self {
            model: model.to_owned(),
            input_tokens: input,
            output_tokens: output,
            cost_usd,
            at: OffsetDateTime::now_utc(),
        }
    }
}

/// One model's totals.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ModelCost {
    /// The model.
    pub model: String,
    /// US dollars.
    pub cost_usd: f64,
    /// Prompt tokens.
    pub input_tokens: u64,
    /// Completion tokens.
    pub output_tokens: u64,
    /// Both.
    pub total_tokens: u64,
    /// Turns.
    pub request_count: u64,
}

impl ModelCost {
    /// Adds one record.
    pub fn add(&mut self, record: &UsageRecord) {
        self.cost_usd += record.cost_usd;
        self.input_tokens += record.input_tokens;
        self.output_tokens += record.output_tokens;
        self.total_tokens += record.input_tokens + record.output_tokens;
        self.request_count += 1;
    }
}

/// `CostSummary` of `GET /api/cost`: `session_*`, `total_tokens`, `request_count` and `by_model` cover this
/// gateway process (as upstream's did); `daily_*` and `monthly_*` the current UTC day and month.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct CostSummary {
    /// Since the gateway started.
    pub session_cost_usd: f64,
    /// Since 00:00 UTC.
    pub daily_cost_usd: f64,
    /// Since the 1st of the month, UTC.
    pub monthly_cost_usd: f64,
    /// Tokens since the gateway started.
    pub total_tokens: u64,
    /// Turns since the gateway started.
    pub request_count: u64,
    /// Per model, since the gateway started.
    pub by_model: BTreeMap<String, ModelCost>,
}

/// The start of `now`'s UTC day and month.
pub fn day_and_month_start(now: OffsetDateTime) -> (OffsetDateTime, OffsetDateTime) {
    let now = now.to_offset(time::UtcOffset::UTC);
    let day = now.replace_time(time::Time::MIDNIGHT);
    let month = day.replace_day(1).unwrap_or(day);
    (day, month)
}

/// Where usage records go.
#[async_trait]
pub trait UsageStore: Send + Sync {
    /// Keeps a record (and forgets those older than [`RETENTION`]).
    async fn record(&self, record: UsageRecord) -> Result<(), StoreError>;

    /// Totals at `now` for a gateway that started at `session_start`.
    async fn summary(
        &self,
        session_start: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<CostSummary, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_are_per_million_and_never_negative() {
        let r = UsageRecord::priced("m", 2_000_000, 1_000_000, 0.5, 2.0);
        assert!((r.cost_usd - 3.0).abs() < 1e-9);
        assert_eq!(UsageRecord::priced("m", 10, 10, -1.0, f64::NAN).cost_usd, 0.0);
    }

    #[test]
    fn days_and_months_start_in_utc() {
        let now = time::macros::datetime!(2026-11-27 13:05:09 +02:00);
        let (day, month) = day_and_month_start(now);
        assert_eq!(day, time::macros::datetime!(2026-11-27 00:00:00 UTC));
        assert_eq!(month, time::macros::datetime!(2026-11-01 00:00:00 UTC));
    }
}
