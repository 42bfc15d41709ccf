//! Links between the public pages: absolute paths on the live server, relative file names in
//! the static export (so the export works from any host or directory, even `file://`).

/// Which site a page is rendered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Links {
    /// Served by Belfry: `/`, `/history`, `/incidents/{id}`; live updates on.
    Live,
    /// Written by `export-static`: `index.html`, `history.html`, `incidents/{id}.html`.
    Static,
}

/// Links as seen from one page.
#[derive(Debug, Clone)]
pub(crate) struct Rel {
    live: bool,
    /// `/` live; `""` or `../` (by depth) in the export.
    root: String,
}

impl Links {
    /// Links from a page `depth` directories below the site root.
    pub(crate) fn at(self, depth: usize) -> Rel {
        match self {
            Self::Live => Rel { live: true, root: "/".to_owned() },
            Self::Static => Rel { live: false, root: "../".repeat(depth) },
        }
    }

    /// The export's file for a request path: `/` → `index.html`, `/incidents/x` →
    /// `incidents/x.html`; other documents (JSON, feeds, badges) keep their path.
    pub fn file_for(path: &str) -> String {
        let path = path.trim_start_matches('/');
        if path.is_empty() {
            return "index.html".to_owned();
        }
        // Ids may hold dots: pages are known by their place, not by the look of the name.
        let page = path == "history" || path.starts_with("incidents/") || path.starts_with("components/");
        if page { format!("{path}.html") } else { path.to_owned() }
    }
}

impl Rel {
    pub fn live(&self) -> bool {
        self.live
    }

    fn page(&self, path: &str) -> String {
        if self.live {
            format!("{}{path}", self.root)
        } else {
            format!("{}{}", self.root, Links::file_for(path))
        }
    }

    pub fn home(&self) -> String {
        if self.live { "/".to_owned() } else { format!("{}index.html", self.root) }
    }

    pub fn history(&self) -> String {
        self.page("history")
    }

    pub fn incident(&self, id: &str) -> String {
        self.page(&format!("incidents/{id}"))
    }

    pub fn component(&self, id: &str) -> String {
        self.page(&format!("components/{id}"))
    }

    /// A document with an extension (`history.atom`, `api/v2/summary.json`).
    pub fn file(&self, path: &str) -> String {
        format!("{}{path}", self.root)
    }
}

#[cfg(test)]
mod tests {
    use super::Links;

    #[test]
    fn live_links_are_absolute_and_export_links_relative() {
        let live = Links::Live.at(1);
        assert_eq!(live.incident("abc"), "/incidents/abc");
        assert_eq!(live.home(), "/");
        assert_eq!(live.file("history.atom"), "/history.atom");
        let top = Links::Static.at(0);
        assert_eq!(top.home(), "index.html");
        assert_eq!(top.incident("abc"), "incidents/abc.html");
        let nested = Links::Static.at(1);
        assert_eq!(nested.home(), "../index.html");
        assert_eq!(nested.history(), "../history.html");
        assert_eq!(nested.file("api/v2/summary.json"), "../api/v2/summary.json");
        assert_eq!(Links::file_for("/badge/api.svg"), "badge/api.svg");
        assert_eq!(Links::file_for("/components/api"), "components/api.html");
        assert_eq!(Links::file_for("/components/api.v2"), "components/api.v2.html");
        assert_eq!(Links::file_for("/history"), "history.html");
        assert_eq!(Links::file_for("/api/v2/summary.json"), "api/v2/summary.json");
    }
}
