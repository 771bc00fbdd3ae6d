//! The image's architecture: package database, then ELF headers.
//! OWNER: helper i14-facts.
