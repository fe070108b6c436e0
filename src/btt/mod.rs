//! The BTT (Block Translation Table, "sector mode").
pub mod arena;
pub mod check;
pub mod error;
pub mod layout;
pub mod raw;
pub mod read;
pub mod repair;
