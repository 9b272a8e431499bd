use crate::jose::RecipientKey;

/// A resource server known by its audience, for settings that follow the audience.
#[derive(Debug, Clone)]
pub struct Resource {
    pub audience: String,
    /// Access tokens for this audience alone are encrypted to this key.
    pub access_token_encryption: Option<RecipientKey>,
}
