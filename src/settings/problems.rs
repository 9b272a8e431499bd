//! Problems found in a configuration, each with the path of the value it is about. Sections are
//! validated through a [`Problems`] view at their own path, so a problem is recorded under a field
//! name and the view supplies the rest (`clients[3]` + `jwks` = `clients[3].jwks`).

use std::fmt;

/// Every problem found in a configuration, each with its path.
#[derive(Debug, Clone)]
pub struct ConfigError {
    pub problems: Vec<ConfigProblem>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    pub path: String,
    pub message: String,
}

impl ConfigError {
    pub(super) fn single(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            problems: vec![ConfigProblem {
                path: path.into(),
                message: message.into(),
            }],
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}: {}", problem.path, problem.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// The problems of one parse, in the order they were found.
#[derive(Default)]
pub(super) struct ProblemList(Vec<ConfigProblem>);

impl ProblemList {
    /// The collector at the root of the file.
    pub(super) fn root(&mut self) -> Problems<'_> {
        Problems {
            found: &mut self.0,
            path: String::new(),
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(super) fn into_error(self) -> ConfigError {
        ConfigError { problems: self.0 }
    }
}

/// The problem collector at one path of the file: the root, `tokens`, `clients[3]`,
/// `clients[3].access_token_encryption`...
pub(super) struct Problems<'a> {
    found: &'a mut Vec<ConfigProblem>,
    path: String,
}

impl Problems<'_> {
    /// The full path of `field` below this one; `""` names this path itself.
    pub(super) fn path_of(&self, field: &str) -> String {
        match (self.path.is_empty(), field.is_empty()) {
            (_, true) => self.path.clone(),
            (true, false) => field.to_owned(),
            (false, false) => format!("{}.{field}", self.path),
        }
    }

    /// Records a problem with `field` (`""`: with the value at this path itself).
    pub(super) fn push(&mut self, field: &str, message: impl Into<String>) {
        let path = self.path_of(field);
        self.found.push(ConfigProblem {
            path,
            message: message.into(),
        });
    }

    /// The parsed value, or `None` with the failure recorded at `field`.
    pub(super) fn check<T>(&mut self, field: &str, value: Result<T, String>) -> Option<T> {
        value.map_err(|message| self.push(field, message)).ok()
    }

    /// The collector for the table or list at `field`.
    pub(super) fn at(&mut self, field: &str) -> Problems<'_> {
        Problems {
            path: self.path_of(field),
            found: self.found,
        }
    }

    /// The collector for item `index` of the list at this path.
    pub(super) fn item(&mut self, index: usize) -> Problems<'_> {
        Problems {
            path: format!("{}[{index}]", self.path),
            found: self.found,
        }
    }

    /// `validate` applied to each item of the list at `field`, each under its own path
    /// (`field[i]`); the items it refuses are left out.
    pub(super) fn each<T, U>(
        &mut self,
        field: &str,
        items: &[T],
        mut validate: impl FnMut(&T, &mut Problems) -> Option<U>,
    ) -> Vec<U> {
        let mut list = self.at(field);
        items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| validate(item, &mut list.item(i)))
            .collect()
    }

    /// Whether a problem was already recorded at a path that starts with `field`'s path
    /// (`jwks` also covers `jwks_file`, `jwks_uri` and `jwks.keys[0]`).
    pub(super) fn any_under(&self, field: &str) -> bool {
        let prefix = self.path_of(field);
        self.found
            .iter()
            .any(|problem| problem.path.starts_with(&prefix))
    }
}

/// The path serde_ignored reports for a key nothing reads, in the collector's spelling.
pub(super) fn ignored_key_path(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", ignored_key_path(parent)),
        Path::Map { parent, key } => {
            let parent = ignored_key_path(parent);
            if parent.is_empty() {
                key.clone()
            } else {
                format!("{parent}.{key}")
            }
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => ignored_key_path(parent),
    }
}
