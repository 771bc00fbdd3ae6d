//! The content observer that feeds the catalogers from the scan's one read.
