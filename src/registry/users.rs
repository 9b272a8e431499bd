use super::SecretHash;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// Claims Tessera sets itself; a user's configured claims may not use these names.
pub const RESERVED_CLAIMS: [&str; 19] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "client_id",
    "scope",
    "auth_time",
    "azp",
    "nonce",
    "at_hash",
    "cnf",
    "act",
    "typ",
    "idp",
    "authorization",
    "status",
];

/// A person who signs in with a password.
#[derive(Debug, Clone)]
pub struct User {
    pub username: String,
    pub password_hash: SecretHash,
    /// Claims carried in this user's tokens (email, name, groups...).
    pub claims: Map<String, Value>,
}

/// Users by username.
#[derive(Debug, Default, Clone)]
pub struct UserRegistry {
    users: HashMap<String, Arc<User>>,
}

impl UserRegistry {
    pub fn new(users: &[User]) -> Self {
        Self {
            users: users
                .iter()
                .map(|user| (user.username.clone(), Arc::new(user.clone())))
                .collect(),
        }
    }

    pub fn get(&self, username: &str) -> Option<&Arc<User>> {
        self.users.get(username)
    }

    pub fn len(&self) -> usize {
        self.users.len()
    }

    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// Every user, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<User>> {
        self.users.values()
    }
}
