//! `[log]`: the tracing filter and the output format.

use super::problems::Problems;
use serde::Deserialize;

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct RawLog {
    level: Option<String>,
    format: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct LogSettings {
    /// A tracing filter directive: `info`, `tessera=debug,actix_web=warn`...
    pub level: String,
    pub format: LogFormat,
}

impl RawLog {
    pub(super) fn validate(&self, problems: &mut Problems) -> LogSettings {
        let level = self.level.clone().unwrap_or_else(|| "info".to_owned());
        if let Err(err) = tracing_subscriber::EnvFilter::try_new(&level) {
            problems.push(
                "level",
                format!("not a log filter such as \"info\" or \"tessera=debug\" ({err})"),
            );
        }
        let format = match self.format.as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                problems.push("format", format!("'{other}' is not text or json"));
                LogFormat::Text
            }
        };
        LogSettings { level, format }
    }
}
