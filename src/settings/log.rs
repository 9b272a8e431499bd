//! `[log]`: the tracing filter and the output format.

use super::problems::Problems;
use crate::names::not_one_of;
use serde::Deserialize;
use strum::{EnumIter, EnumString, IntoStaticStr};

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct RawLog {
    level: Option<String>,
    format: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, IntoStaticStr, EnumString)]
#[strum(serialize_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, PartialEq)]
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
            None => LogFormat::Text,
            Some(text) => text.parse().unwrap_or_else(|_| {
                problems.push("format", not_one_of::<LogFormat>(&format!("'{text}'")));
                LogFormat::Text
            }),
        };
        LogSettings { level, format }
    }
}
