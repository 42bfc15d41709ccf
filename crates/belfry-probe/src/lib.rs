//! Check kinds, the scheduler and the engine that turns results into decisions.

pub mod check;
pub mod engine;

pub use check::Checkers;
pub use engine::{Engine, EngineConfig};
