//! Seal operations (stub).
