//! XFS v5, read-only. SKELETON (issue 16): helper i16-xfs.
