//! From what the observer found to package databases: purls, evidence,
//! one package per (ecosystem, name, version, location).
