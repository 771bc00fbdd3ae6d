pub mod bdb;
pub mod ndb;
