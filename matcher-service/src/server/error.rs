//! The service's one error type and its single HTTP shape: RFC 9457 problem details.
//!
//! Status codes are assigned here and nowhere else. Messages never name another tenant's
//! data: a candidate, decision or batch run of another municipality is simply "not found",
//! exactly like one that does not exist, and no error carries a count.

use serde::Serialize;

/// Most field errors listed in one problem body.
pub const MAX_LISTED_ERRORS: usize = 1000;

/// One field that failed validation, as a JSON Pointer into the request body.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// JSON Pointer (RFC 6901) to the field, e.g. `/0/lat`; empty for the whole body.
    pub path: String,
    /// The value as received, truncated; empty when absent.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub value: String,
    /// What is wrong, in plain words.
    pub reason: String,
}

impl FieldError {
    /// A field error. A CPR-like number is starred out of every part, the path too (a JSON
    /// object keyed by a personal number would otherwise echo it there; issue 15, item 5).
    pub fn new(path: impl Into<String>, value: impl Into<String>, reason: impl Into<String>) -> Self {
        FieldError {
            path: mask_cpr(&path.into()),
            value: mask_cpr(&value.into()),
            reason: mask_cpr(&reason.into()),
        }
    }
}

/// The text with every CPR-like number starred out, in any of its written forms
/// (`matcher_core::model::cpr`).
pub fn mask_cpr(text: &str) -> String {
    matcher_core::model::cpr::mask(text)
}

/// A request path with CPR-like numbers starred out, also when written percent-encoded
/// (`/v1/candidates/010203%201234`): then the decoded path, starred, is what is shown.
pub fn mask_path(path: &str) -> String {
    if !path.contains('%') {
        return mask_cpr(path);
    }
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    if matcher_core::model::looks_like_cpr(&decoded) { mask_cpr(&decoded) } else { path.to_string() }
}

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No bearer token, or one the service does not know.
    #[error("a valid bearer token is required")]
    Unauthorized,
    /// A known token past its expiry time (given, UTC). Says nothing the holder of the
    /// token does not already know.
    #[error("the bearer token expired at {0}; ask for a new one")]
    TokenExpired(String),
    /// A known token that was revoked.
    #[error("the bearer token was revoked; ask for a new one")]
    TokenRevoked,
    /// An identity-provider token (JWT) that failed a check: which one, never its content.
    #[error("the identity token was refused: {0}")]
    IdentityToken(String),
    /// The token's role may not use this route.
    #[error("the role `{role}` may not {action}")]
    Forbidden {
        /// The caller's role.
        role: &'static str,
        /// What was attempted, e.g. "decide".
        action: &'static str,
    },
    /// The resource is shared but owned by another municipality (an offer).
    #[error("{0}")]
    NotOwner(String),
    /// No such resource for this tenant (also for another tenant's resource).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The path exists but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The body is not JSON.
    #[error("the body is not valid JSON: {0}")]
    MalformedJson(String),
    /// The body is JSON but some fields are wrong.
    #[error("the request has {} invalid field(s){}", .0.len(), if .0.len() > MAX_LISTED_ERRORS { "; the first 1000 are listed" } else { "" })]
    Validation(Vec<FieldError>),
    /// The client did not send its whole body within the read timeout.
    #[error("the body did not arrive within {0} seconds")]
    BodyTimeout(u64),
    /// The body is larger than the configured limit.
    #[error("the body exceeds the limit of {0} bytes")]
    PayloadTooLarge(usize),
    /// A body of another media type than JSON.
    #[error("the body must be application/json")]
    UnsupportedMediaType,
    /// The request conflicts with the current state (e.g. no places left).
    #[error("{0}")]
    Conflict(String),
    /// An accept while the candidate holds a place on another course.
    #[error(
        "the candidate already has a running accepted offer: decision {} on offer {} until {}; withdraw or correct it first",
        .0.decision_id, .0.offer_id, .0.ends_on
    )]
    Running(crate::server::ledger::RunningPlace),
    /// The request took longer than the configured timeout.
    #[error(
        "the request took longer than {0} seconds; a write may still complete, so read it back before retrying"
    )]
    Timeout(u64),
    /// The service is starting or stopping.
    #[error("the service is not ready")]
    Unavailable,
    /// More requests are in flight than the service takes at once.
    #[error("the service is at capacity ({0} requests in flight); retry after the Retry-After header")]
    Overloaded(usize),
    /// A bug or an unexpected storage failure; details are logged with the request id only.
    #[error("internal error")]
    Internal(String),
}

impl From<crate::server::store::StoreError> for ApiError {
    fn from(e: crate::server::store::StoreError) -> Self {
        match e {
            crate::server::store::StoreError::NotFound(what) => ApiError::NotFound(what),
            crate::server::store::StoreError::Conflict(why) => ApiError::Conflict(why),
            crate::server::store::StoreError::Running(place) => ApiError::Running(place),
            crate::server::store::StoreError::NotOwner(why) => ApiError::NotOwner(why),
            crate::server::store::StoreError::NotServed(why) => ApiError::field("/offer_id", "", why),
            crate::server::store::StoreError::Invalid { path, value, reason } => {
                ApiError::field(path, value, reason)
            }
            crate::server::store::StoreError::TooManyLanguages { index, languages, count, max, .. } => {
                ApiError::field(
                    format!("/{index}/languages"),
                    languages,
                    format!(
                        "would make {count} distinct languages over all offers; at most {max} are supported"
                    ),
                )
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// The problem-details body (RFC 9457), with the service's extension members.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A relative URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short, fixed summary of the kind.
    pub title: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// This occurrence, in plain words.
    pub detail: String,
    /// The request path.
    pub instance: String,
    /// The request id, also in the `x-request-id` header and the log.
    pub request_id: String,
    /// Each invalid field; empty unless the body failed validation.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// A refused second accept (type `/problems/running-course`): the decision that holds the
    /// candidate's running course; absent on other problems.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, minimum = 1)]
    pub running_decision_id: Option<i64>,
    /// ... and its offer.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub running_offer_id: Option<String>,
}

impl ApiError {
    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        match self {
            ApiError::Unauthorized
            | ApiError::TokenExpired(_)
            | ApiError::TokenRevoked
            | ApiError::IdentityToken(_) => 401,
            ApiError::Forbidden { .. } | ApiError::NotOwner(_) => 403,
            ApiError::NotFound(_) => 404,
            ApiError::MethodNotAllowed => 405,
            ApiError::MalformedJson(_) => 400,
            ApiError::Validation(_) => 422,
            ApiError::PayloadTooLarge(_) => 413,
            ApiError::BodyTimeout(_) => 408,
            ApiError::UnsupportedMediaType => 415,
            ApiError::Conflict(_) | ApiError::Running(_) => 409,
            ApiError::Timeout(_) => 503,
            ApiError::Unavailable => 503,
            ApiError::Overloaded(_) => 503,
            ApiError::Internal(_) => 500,
        }
    }

    fn kind_and_title(&self) -> (&'static str, &'static str) {
        match self {
            ApiError::Unauthorized => ("unauthorized", "Unauthorized"),
            ApiError::TokenExpired(_) => ("token-expired", "Token expired"),
            ApiError::TokenRevoked => ("token-revoked", "Token revoked"),
            ApiError::IdentityToken(_) => ("identity-token-refused", "Identity token refused"),
            ApiError::Forbidden { .. } | ApiError::NotOwner(_) => ("forbidden", "Forbidden"),
            ApiError::NotFound(_) => ("not-found", "Not found"),
            ApiError::MethodNotAllowed => ("method-not-allowed", "Method not allowed"),
            ApiError::MalformedJson(_) => ("malformed-json", "Malformed JSON"),
            ApiError::Validation(_) => ("validation", "Invalid request"),
            ApiError::PayloadTooLarge(_) => ("payload-too-large", "Payload too large"),
            ApiError::BodyTimeout(_) => ("body-timeout", "Request body too slow"),
            ApiError::UnsupportedMediaType => ("unsupported-media-type", "Unsupported media type"),
            ApiError::Conflict(_) => ("conflict", "Conflict"),
            ApiError::Running(_) => ("running-course", "The candidate has a running course"),
            ApiError::Timeout(_) => ("timeout", "Request timed out"),
            ApiError::Unavailable => ("unavailable", "Service unavailable"),
            ApiError::Overloaded(_) => ("overloaded", "Service overloaded"),
            ApiError::Internal(_) => ("internal", "Internal error"),
        }
    }

    /// The problem body. Internal details stay in the log: the client sees the request id.
    pub fn problem(self, instance: &str, request_id: &str) -> Problem {
        let status = self.status();
        let (kind, title) = self.kind_and_title();
        let detail = match &self {
            ApiError::Internal(_) => format!("internal error; quote request id {request_id}"),
            other => mask_cpr(&other.to_string()),
        };
        let running = match &self {
            ApiError::Running(place) => Some((place.decision_id, place.offer_id.clone())),
            _ => None,
        };
        let errors = match self {
            // `detail` keeps the full count; the list is capped so that the answer to a huge
            // bulk body stays small.
            ApiError::Validation(mut errors) => {
                errors.truncate(MAX_LISTED_ERRORS);
                errors
            }
            _ => Vec::new(),
        };
        Problem {
            kind: format!("/problems/{kind}"),
            title,
            status,
            detail,
            instance: mask_path(instance),
            request_id: request_id.to_string(),
            errors,
            running_decision_id: running.as_ref().map(|r| r.0),
            running_offer_id: running.map(|r| r.1),
        }
    }

    /// Seconds a client should wait before retrying, for the `Retry-After` header.
    pub fn retry_after(&self) -> Option<u32> {
        match self {
            ApiError::Overloaded(_) | ApiError::Unavailable => Some(1),
            ApiError::Timeout(_) => Some(5),
            _ => None,
        }
    }

    /// A single-field validation error.
    pub fn field(path: impl Into<String>, value: impl Into<String>, reason: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError::new(path, value, reason)])
    }
}

#[cfg(test)]
mod tests {
    use super::{mask_cpr, mask_path};

    #[test]
    fn cpr_like_runs_are_starred_and_other_numbers_kept() {
        assert_eq!(mask_cpr("`0101901234`: id looks like"), "`**********`: id looks like");
        assert_eq!(mask_cpr("a 010190-1234 b 64"), "a ******-**** b 64");
        assert_eq!(mask_cpr("longer than 64 characters"), "longer than 64 characters");
        assert_eq!(mask_cpr("æøå 12345678901 x"), "æøå *********** x");
        assert_eq!(mask_cpr("/01 02 03 12 34/reason"), "/** ** ** ** **/reason");
        assert_eq!(mask_path("/v1/candidates/010203%201234"), "/v1/candidates/****** ****");
        assert_eq!(mask_path("/v1/candidates/010203%E2%80%911234"), "/v1/candidates/******\u{2011}****");
        assert_eq!(mask_path("/v1/offers/a%20b"), "/v1/offers/a%20b");
    }
}
