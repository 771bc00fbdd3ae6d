//! Read-only seal checks (stub).
