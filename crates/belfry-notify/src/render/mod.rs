//! Default message templates: the title, plain text, HTML and labelled facts that every
//! channel builds its request from. Plain-text inputs are escaped for each output format.

pub(crate) mod escape;
mod template;
mod time;

pub use escape::{escape_html, http_url};
pub use template::{Fact, Rendered, render};
pub use time::format_instant;

#[cfg(test)]
mod tests;
