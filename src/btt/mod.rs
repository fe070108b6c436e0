//! The BTT (Block Translation Table, "sector mode").
pub mod arena;
pub mod error;
pub mod layout;
pub mod raw;
pub mod read;
