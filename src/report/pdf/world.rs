//! The typst `World` of a report: everything the compiler may read, all in memory.
//!
//! Sources are our templates, files are the data handed to them (the report model as
//! JSON), fonts are the embedded ones only. Nothing comes from the disk, the system's
//! fonts or the network: no package can be downloaded, an `#import "@preview/…"`
//! fails, and the same model gives the same PDF on every machine.

use std::collections::HashMap;

use anyhow::{Context, Result};
use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};

#[derive(Debug)]
pub struct ReportWorld {
    library: LazyHash<Library>,
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
    main: FileId,
    sources: HashMap<FileId, Source>,
    files: HashMap<FileId, Bytes>,
}

/// The id of an absolute path in the project, e.g. `/sections/plan.typ`.
pub fn file_id(path: &str) -> Result<FileId> {
    let vpath = VirtualPath::new(path).map_err(|e| anyhow::anyhow!("{path}: {e:?}"))?;
    Ok(RootedPath::new(VirtualRoot::Project, vpath).intern())
}

impl ReportWorld {
    /// `templates` are `(path, text)` with `main` among them; `files` are data the
    /// templates read, e.g. `("/model.json", bytes)`.
    pub fn new(
        templates: &[(&str, &str)],
        main: &str,
        files: Vec<(&str, Vec<u8>)>,
        fonts: &[Font],
    ) -> Result<Self> {
        let mut sources = HashMap::new();
        for (path, text) in templates {
            let id = file_id(path)?;
            sources.insert(id, Source::new(id, (*text).to_owned()));
        }
        let main = file_id(main)?;
        anyhow::ensure!(sources.contains_key(&main), "no template {main:?}");
        let files = files
            .into_iter()
            .map(|(path, data)| Ok((file_id(path)?, Bytes::new(data))))
            .collect::<Result<_>>()
            .context("report data files")?;
        Ok(Self {
            library: LazyHash::new(Library::builder().build()),
            book: LazyHash::new(FontBook::from_fonts(fonts)),
            fonts: fonts.to_vec(),
            main,
            sources,
            files,
        })
    }

    /// The source of a file, to place a diagnostic.
    pub fn source_of(&self, id: FileId) -> Option<&Source> {
        self.sources.get(&id)
    }
}

impl World for ReportWorld {
    fn library(&self) -> &LazyHash<Library> {
        &self.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &self.book
    }

    fn main(&self) -> FileId {
        self.main
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        self.sources.get(&id).cloned().ok_or_else(|| not_found(id))
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if let Some(data) = self.files.get(&id) {
            return Ok(data.clone());
        }
        match self.sources.get(&id) {
            Some(source) => Ok(Bytes::from_string(source.clone())),
            None => Err(not_found(id)),
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        self.fonts.get(index).cloned()
    }

    /// Today in UTC, shifted by `offset` hours when given.
    fn today(&self, offset: Option<Duration>) -> Option<Datetime> {
        let hours = offset.map_or(0.0, |d| d.hours());
        let now = chrono::Utc::now() + chrono::Duration::seconds((hours * 3600.0) as i64);
        let date = now.date_naive();
        use chrono::Datelike;
        Datetime::from_ymd(date.year(), date.month() as u8, date.day() as u8)
    }
}

fn not_found(id: FileId) -> FileError {
    FileError::NotFound(id.vpath().get_without_slash().into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::pdf::fonts;

    /// typst never looks for system fonts: whatever fontconfig or the font folders
    /// of the machine hold, the report sees only what the binary carries.
    #[test]
    fn the_font_book_holds_only_the_embedded_fonts() {
        let world =
            ReportWorld::new(&[("/main.typ", "")], "/main.typ", vec![], fonts::all()).unwrap();
        let families: Vec<_> = world
            .book()
            .families()
            .map(|(name, _)| name.to_owned())
            .collect();
        assert_eq!(families, [fonts::SANS, fonts::MONO]);
        let faces = (0..)
            .take_while(|i| world.book().info(*i).is_some())
            .count();
        assert_eq!(faces, fonts::all().len());
        assert!(world.font(faces).is_none());
    }

    #[test]
    fn only_the_given_files_exist() {
        let world = ReportWorld::new(
            &[("/main.typ", "= Hi")],
            "/main.typ",
            vec![("/model.json", b"{}".to_vec())],
            fonts::all(),
        )
        .unwrap();
        assert!(world.file(file_id("/model.json").unwrap()).is_ok());
        assert!(world.source(world.main()).is_ok());
        assert!(world.file(file_id("/etc/passwd").unwrap()).is_err());
        assert!(world.source(file_id("/model.json").unwrap()).is_err());
    }
}
