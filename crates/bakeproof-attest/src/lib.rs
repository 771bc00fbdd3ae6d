//! Attestations (stub).
