//! SBOM diff (stub).
