//! One module per endpoint: a typed request in, a typed answer or an `OAuthError` out. No web
//! framework here; `crate::http` extracts the requests and writes the answers.

pub mod authorize;
pub mod device;
pub mod device_authorization;
pub mod discovery;
pub mod introspect;
pub mod logout;
pub mod par;
pub mod revoke;
pub mod status_list;
pub mod token;
pub mod uma_permission;
pub mod userinfo;
