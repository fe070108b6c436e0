//! The BTT (Block Translation Table, "sector mode").
pub mod arena;
pub mod check;
pub mod error;
pub mod raw;
pub mod repair;
