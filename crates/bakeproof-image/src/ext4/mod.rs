//! ext2, ext3 and ext4, read-only. SKELETON (issue 16): helper i16-ext4.
