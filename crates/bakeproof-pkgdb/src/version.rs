//! Version ordering of rpm and dpkg (stub).
