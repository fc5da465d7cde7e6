//! The OpenAI-compatible provider: `POST {base_url}/chat/completions`.
//!
//! Streams with `stream: true` and `stream_options.include_usage`, reading SSE `data:` events until
//! `[DONE]`; falls back to a plain JSON completion when the server answers without streaming. Connect
//! errors, 429 and 5xx are retried with exponential backoff (honouring `Retry-After`, capped) only before
//! the first byte of a response body has been accepted, so a turn is never sent twice once it started
//! streaming. The whole turn, including a stalled stream, is bounded by `timeout_secs`. Malformed events
//! are skipped and counted; an API key that a provider echoes back in an error is masked.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use construct_core::config::ProviderConfig;
use construct_core::secret::{MASK, Secret};
use futures_util::StreamExt;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::sse::SseDecoder;
use crate::turn::{Agent, AgentError, Message, Role, TurnEvent, TurnRequest, emit};

/// Attempts before giving up on connect errors, 429 and 5xx.
const MAX_ATTEMPTS: u32 = 3;
/// Longest wait between attempts, whatever `Retry-After` says.
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// Longest provider error text kept in an error message.
const MAX_ERROR_TEXT: usize = 300;

/// See the module documentation.
pub struct OpenAiAgent {
    client: reqwest::Client,
    url: String,
    model: String,
    temperature: Option<f64>,
    api_key: Option<Secret>,
    headers: HeaderMap,
    timeout: Duration,
    backoff: Duration,
}

impl std::fmt::Debug for OpenAiAgent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiAgent")
            .field("url", &self.url)
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

/// One failed attempt: whether it may be retried, and after how long at least.
struct Attempt {
    error: AgentError,
    retry: bool,
    wait: Option<Duration>,
}

impl OpenAiAgent {
    /// An agent for `[provider]`.
    pub fn new(config: &ProviderConfig) -> Result<Self, AgentError> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| AgentError::Other(format!("cannot build the HTTP client: {e}")))?;
        let mut headers = HeaderMap::new();
        for (name, value) in &config.extra_headers {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                AgentError::Other(format!("provider.extra_headers: invalid header name {name:?}"))
            })?;
            let value = HeaderValue::from_str(value)
                .map_err(|_| AgentError::Other(format!("provider.extra_headers.{name}: invalid value")))?;
            headers.insert(name, value);
        }
        Ok(Self {
            client,
            url: format!("{}/chat/completions", config.base_url.trim_end_matches('/')),
            model: config.model.clone(),
            temperature: config.temperature,
            api_key: config.api_key.clone().filter(|k| !k.is_empty()),
            headers,
            timeout: Duration::from_secs(config.timeout_secs),
            backoff: Duration::from_millis(250),
        })
    }

    /// Sets the first retry's delay (doubling after). For tests; the default is 250 ms.
    pub fn with_backoff(mut self, backoff: Duration) -> Self {
        self.backoff = backoff;
        self
    }

    fn body(&self, request: &TurnRequest) -> Value {
        let mut messages: Vec<&Message> = request.history.iter().collect();
        let input = Message::new(Role::User, request.input.clone());
        messages.push(&input);
        let mut body = json!({
            "model": self.model,
            "messages": messages,
            "stream": true,
            "stream_options": {"include_usage": true},
        });
        if let Some(t) = self.temperature {
            body["temperature"] = json!(t);
        }
        body
    }

    /// Masks the API key wherever a provider echoed it back.
    fn scrub(&self, text: &str) -> String {
        let mut text: String = text.chars().take(MAX_ERROR_TEXT).collect();
        if let Some(key) = &self.api_key {
            text = text.replace(key.expose(), MASK);
        }
        text
    }

    async fn attempt(&self, body: &Value) -> Result<reqwest::Response, Attempt> {
        let mut request = self.client.post(&self.url).headers(self.headers.clone()).json(body);
        if let Some(key) = &self.api_key {
            request = request.header(AUTHORIZATION, format!("Bearer {}", key.expose()));
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => {
                // reqwest errors name the URL, never headers; scrub anyway.
                let retry = error.is_connect() || error.is_timeout() || error.is_request();
                let message = self.scrub(&format!("cannot reach the provider: {}", without_url(&error)));
                return Err(Attempt {
                    error: AgentError::Provider { status: None, message },
                    retry,
                    wait: None,
                });
            }
        };
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let wait = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let text = self.scrub(&response.text().await.unwrap_or_default());
        let code = status.as_u16();
        Err(match code {
            401 | 403 => Attempt { error: AgentError::Auth(text), retry: false, wait: None },
            429 => Attempt {
                error: AgentError::RateLimited { retry_after: wait.map(|w| w.as_secs()) },
                retry: true,
                wait,
            },
            500..=599 => Attempt {
                error: AgentError::Provider { status: Some(code), message: text },
                retry: true,
                wait,
            },
            _ => Attempt {
                error: AgentError::Provider { status: Some(code), message: text },
                retry: false,
                wait: None,
            },
        })
    }

    async fn send(
        &self,
        body: &Value,
        events: &mpsc::Sender<TurnEvent>,
    ) -> Result<reqwest::Response, AgentError> {
        let mut delay = self.backoff;
        for attempt in 1..=MAX_ATTEMPTS {
            match self.attempt(body).await {
                Ok(response) => return Ok(response),
                Err(failed) if failed.retry && attempt < MAX_ATTEMPTS => {
                    let wait = failed.wait.unwrap_or(delay).min(MAX_BACKOFF);
                    tracing::warn!(attempt, error = %failed.error, wait_ms = wait.as_millis() as u64, "provider call failed; retrying");
                    let detail = format!("{}; retrying in {} ms", failed.error, wait.as_millis());
                    emit(events, TurnEvent::Status { phase: "retrying".into(), detail }).await?;
                    tokio::time::sleep(wait).await;
                    delay = delay.saturating_mul(2);
                }
                Err(failed) => return Err(failed.error),
            }
        }
        Err(AgentError::Other("no attempt was made".into()))
    }

    async fn turn(
        &self,
        request: TurnRequest,
        events: &mpsc::Sender<TurnEvent>,
    ) -> Result<String, AgentError> {
        let response = self.send(&self.body(&request), events).await?;
        let streaming = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("text/event-stream"));
        if streaming {
            self.read_stream(response, events).await
        } else {
            self.read_completion(response, events).await
        }
    }

    /// The non-streaming fallback: one JSON completion.
    async fn read_completion(
        &self,
        response: reqwest::Response,
        events: &mpsc::Sender<TurnEvent>,
    ) -> Result<String, AgentError> {
        let malformed = |detail: String| AgentError::Provider { status: None, message: self.scrub(&detail) };
        let value: Value = response
            .json()
            .await
            .map_err(|e| malformed(format!("unreadable completion: {}", without_url(&e))))?;
        let content = value["choices"][0]["message"]["content"]
            .as_str()
            .ok_or_else(|| malformed("the completion has no choices[0].message.content".into()))?
            .to_owned();
        emit(events, TurnEvent::Chunk { content: content.clone() }).await?;
        if let Some(usage) = usage_of(&value) {
            emit(events, usage).await?;
        }
        Ok(content)
    }

    async fn read_stream(
        &self,
        response: reqwest::Response,
        events: &mpsc::Sender<TurnEvent>,
    ) -> Result<String, AgentError> {
        let mut body = response.bytes_stream();
        let mut decoder = SseDecoder::default();
        let mut answer = String::new();
        let mut tools: BTreeMap<u64, (String, String, String)> = BTreeMap::new();
        let mut malformed = 0usize;
        let mut done = false;
        let provider = |message: String| AgentError::Provider { status: None, message };
        'read: while let Some(piece) = body.next().await {
            let piece =
                piece.map_err(|e| provider(self.scrub(&format!("the stream broke: {}", without_url(&e)))))?;
            for data in decoder.push(&piece).map_err(provider)? {
                if data.trim() == "[DONE]" {
                    done = true;
                    break 'read;
                }
                let Ok(chunk) = serde_json::from_str::<Value>(&data) else {
                    malformed += 1;
                    continue;
                };
                if let Some(error) = chunk.get("error") {
                    let message = error["message"].as_str().map_or_else(|| error.to_string(), str::to_owned);
                    return Err(provider(self.scrub(&message)));
                }
                let delta = &chunk["choices"][0]["delta"];
                if let Some(text) = delta["content"].as_str().filter(|t| !t.is_empty()) {
                    answer.push_str(text);
                    emit(events, TurnEvent::Chunk { content: text.to_owned() }).await?;
                }
                let reasoning = delta["reasoning_content"].as_str().or_else(|| delta["reasoning"].as_str());
                if let Some(text) = reasoning.filter(|t| !t.is_empty()) {
                    emit(events, TurnEvent::Thinking { content: text.to_owned() }).await?;
                }
                for call in delta["tool_calls"].as_array().into_iter().flatten() {
                    let entry = tools.entry(call["index"].as_u64().unwrap_or(0)).or_default();
                    if let Some(id) = call["id"].as_str() {
                        entry.0 = id.to_owned();
                    }
                    if let Some(name) = call["function"]["name"].as_str() {
                        entry.1.push_str(name);
                    }
                    if let Some(args) = call["function"]["arguments"].as_str() {
                        entry.2.push_str(args);
                    }
                }
                if let Some(usage) = usage_of(&chunk) {
                    emit(events, usage).await?;
                }
            }
        }
        if !done && let Some(tail) = decoder.finish() {
            done = tail.trim() == "[DONE]";
        }
        if malformed > 0 {
            tracing::warn!(malformed, "skipped malformed events in the provider's stream");
        }
        for (id, name, args) in tools.into_values() {
            let args = serde_json::from_str(&args).unwrap_or(Value::String(args));
            emit(events, TurnEvent::ToolCall { id, name, args }).await?;
        }
        if !done && answer.is_empty() {
            return Err(provider("the provider's stream ended before any answer".into()));
        }
        Ok(answer)
    }
}

fn usage_of(value: &Value) -> Option<TurnEvent> {
    let usage = value.get("usage").filter(|u| u.is_object())?;
    Some(TurnEvent::Usage {
        input: usage["prompt_tokens"].as_u64().unwrap_or(0),
        output: usage["completion_tokens"].as_u64().unwrap_or(0),
    })
}

/// A reqwest error's text without its URL (which may carry credentials in exotic setups).
fn without_url(error: &reqwest::Error) -> String {
    let text = error.to_string();
    match error.url() {
        Some(url) => text.replace(url.as_str(), "<provider>"),
        None => text,
    }
}

#[async_trait]
impl Agent for OpenAiAgent {
    fn model(&self) -> &str {
        &self.model
    }

    async fn run_turn(
        &self,
        request: TurnRequest,
        events: mpsc::Sender<TurnEvent>,
        cancel: CancellationToken,
    ) -> Result<String, AgentError> {
        tokio::select! {
            biased;
            () = cancel.cancelled() => Err(AgentError::Cancelled),
            result = tokio::time::timeout(self.timeout, self.turn(request, &events)) => {
                result.unwrap_or(Err(AgentError::Timeout))
            }
        }
    }
}
