//! Model usage in the SQLite file and in memory.

use std::collections::VecDeque;
use std::sync::Mutex;

use async_trait::async_trait;
use construct_core::devices::StoreError;
use construct_core::usage::{
    CostSummary, ModelCost, RETENTION, UsageRecord, UsageStore, day_and_month_start,
};
use rusqlite::params;
use time::OffsetDateTime;

use crate::SqliteStore;
use crate::sqlite::to_unix;

fn tokens(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

#[async_trait]
impl UsageStore for SqliteStore {
    async fn record(&self, record: UsageRecord) -> Result<(), StoreError> {
        let forget_before = to_unix(record.at - RETENTION);
        self.run(move |c| {
            c.execute(
                "INSERT INTO usage (model, input_tokens, output_tokens, cost_usd, at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    record.model,
                    tokens(record.input_tokens),
                    tokens(record.output_tokens),
                    record.cost_usd,
                    to_unix(record.at)
                ],
            )?;
            c.execute("DELETE FROM usage WHERE at < ?1", params![forget_before])?;
            Ok(())
        })
        .await
    }

    async fn summary(
        &self,
        session_start: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<CostSummary, StoreError> {
        let (day, month) = day_and_month_start(now);
        let (session, day, month) = (to_unix(session_start), to_unix(day), to_unix(month));
        self.run(move |c| {
            let cost_since = |since: i64| -> rusqlite::Result<f64> {
                c.prepare_cached("SELECT COALESCE(SUM(cost_usd), 0.0) FROM usage WHERE at >= ?1")?
                    .query_row(params![since], |r| r.get(0))
            };
            let mut summary = CostSummary {
                daily_cost_usd: cost_since(day)?,
                monthly_cost_usd: cost_since(month)?,
                ..Default::default()
            };
            let mut stmt = c.prepare_cached(
                "SELECT model, SUM(input_tokens), SUM(output_tokens), SUM(cost_usd), COUNT(*)
                 FROM usage WHERE at >= ?1 GROUP BY model",
            )?;
            let rows = stmt.query_map(params![session], |r| {
                let (input, output): (i64, i64) = (r.get(1)?, r.get(2)?);
                let (input, output) = (input.max(0) as u64, output.max(0) as u64);
                Ok(ModelCost {
                    model: r.get(0)?,
                    input_tokens: input,
                    output_tokens: output,
                    total_tokens: input.saturating_add(output),
                    cost_usd: r.get(3)?,
                    request_count: r.get::<_, i64>(4)?.max(0) as u64,
                })
            })?;
            for model in rows {
                let model = model?;
                summary.session_cost_usd += model.cost_usd;
                summary.total_tokens += model.total_tokens;
                summary.request_count += model.request_count;
                summary.by_model.insert(model.model.clone(), model);
            }
            Ok(summary)
        })
        .await
    }
}

/// Most records [`MemoryUsage`] keeps.
const MEMORY_CAP: usize = 100_000;

/// Usage in memory (tests and embedders without a store), the newest records only.
#[derive(Default)]
pub struct MemoryUsage {
    records: Mutex<VecDeque<UsageRecord>>,
}

#[async_trait]
impl UsageStore for MemoryUsage {
    async fn record(&self, record: UsageRecord) -> Result<(), StoreError> {
        let mut records =
            self.records.lock().map_err(|_| StoreError::Unavailable("usage poisoned".into()))?;
        if records.len() == MEMORY_CAP {
            records.pop_front();
        }
        records.push_back(record);
        Ok(())
    }

    async fn summary(
        &self,
        session_start: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<CostSummary, StoreError> {
        let (day, month) = day_and_month_start(now);
        let records = self.records.lock().map_err(|_| StoreError::Unavailable("usage poisoned".into()))?;
        let mut summary = CostSummary::default();
        for record in records.iter() {
            if record.at >= day {
                summary.daily_cost_usd += record.cost_usd;
            }
            if record.at >= month {
                summary.monthly_cost_usd += record.cost_usd;
            }
            if record.at >= session_start {
                summary.session_cost_usd += record.cost_usd;
                summary.total_tokens += record.input_tokens + record.output_tokens;
                summary.request_count += 1;
                let model = summary.by_model.entry(record.model.clone()).or_default();
                model.model.clone_from(&record.model);
                model.add(record);
            }
        }
        Ok(summary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn exercise(store: &dyn UsageStore) {
        let now = OffsetDateTime::now_utc();
        let at = |ago: time::Duration, model: &str, cost: f64| UsageRecord {
            model: model.to_owned(),
            input_tokens: 10,
            output_tokens: 5,
            cost_usd: cost,
            at: now - ago,
        };
        let session_start = now - time::Duration::minutes(10);
        store.record(at(time::Duration::days(500), "old", 100.0)).await.unwrap();
        store.record(at(time::Duration::days(40), "a", 1.0)).await.unwrap();
        store.record(at(time::Duration::hours(1), "a", 2.0)).await.unwrap();
        store.record(at(time::Duration::minutes(1), "a", 4.0)).await.unwrap();
        store.record(at(time::Duration::seconds(1), "b", 8.0)).await.unwrap();
        let s = store.summary(session_start, now).await.unwrap();
        assert_eq!((s.request_count, s.total_tokens), (2, 30), "session: the last two");
        assert!((s.session_cost_usd - 12.0).abs() < 1e-9);
        assert_eq!(s.by_model["a"].request_count, 1);
        assert_eq!((s.by_model["b"].input_tokens, s.by_model["b"].output_tokens), (10, 5));
        assert!((12.0..=14.0 + 1e-9).contains(&s.monthly_cost_usd), "nothing from earlier months");
        assert!(s.daily_cost_usd >= 12.0 && s.daily_cost_usd <= 14.0 + 1e-9, "{}", s.daily_cost_usd);
    }

    #[tokio::test]
    async fn sqlite_and_memory_sum_the_same_way() {
        let dir = tempfile::tempdir().unwrap();
        exercise(&SqliteStore::open_in(dir.path()).unwrap()).await;
        exercise(&MemoryUsage::default()).await;
    }
}
