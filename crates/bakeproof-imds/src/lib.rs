//! IMDSv2 client and emulator (being written).
