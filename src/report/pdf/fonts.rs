//! The fonts of the PDF report, embedded in the binary: subsets of Noto Sans CJK SC
//! (Regular, Bold) and Noto Sans Mono CJK SC (Regular, Latin only), under the SIL Open
//! Font License (`assets/fonts/OFL.txt`; `assets/fonts/subset.py` makes them).
//!
//! They are the only fonts typst sees: a report looks the same on every machine, and
//! Chinese renders where no CJK font is installed.

use std::sync::LazyLock;

use typst::foundations::Bytes;
use typst::text::Font;

/// The family for text, Latin and Chinese alike (`lib.typ` names it).
#[cfg(test)]
pub const SANS: &str = "Noto Sans CJK SC";
/// The family for scripts and identifiers; Chinese in them falls back to [`SANS`].
#[cfg(test)]
pub const MONO: &str = "Noto Sans Mono CJK SC";

const FILES: [&[u8]; 3] = [
    include_bytes!("../../../assets/fonts/NotoSansCJKsc-Regular.subset.otf"),
    include_bytes!("../../../assets/fonts/NotoSansCJKsc-Bold.subset.otf"),
    include_bytes!("../../../assets/fonts/NotoSansMonoCJKsc-Regular.subset.otf"),
];

/// Parsed once per process.
static FONTS: LazyLock<Vec<Font>> = LazyLock::new(|| {
    FILES
        .iter()
        .flat_map(|data| Font::iter(Bytes::new(*data)))
        .collect()
});

pub fn all() -> &'static [Font] {
    &FONTS
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Catalog, Lang};

    #[test]
    fn every_file_is_one_face_of_our_two_families() {
        let families: Vec<_> = all().iter().map(|f| f.info().family.as_str()).collect();
        assert_eq!(families, [SANS, SANS, MONO]);
    }

    /// A character the text faces lack (their cmap, as typst reads it) would print as an
    /// empty box in the PDF.
    #[test]
    fn the_text_faces_cover_every_character_of_the_catalogs() {
        for lang in [Lang::ZhCn, Lang::En] {
            let catalog = Catalog::load(lang).unwrap();
            for face in &all()[..2] {
                let missing: String = catalog
                    .keys()
                    .flat_map(|key| catalog.text(key).chars().collect::<Vec<_>>())
                    .filter(|c| !c.is_control() && !face.info().coverage.contains(*c as u32))
                    .collect();
                assert!(
                    missing.is_empty(),
                    "{lang:?}: not in {:?}: {missing}",
                    face.info().variant
                );
            }
        }
    }

    #[test]
    fn the_text_faces_cover_common_hanzi_and_chinese_punctuation() {
        // A sample from both levels and the punctuation a sentence needs.
        for c in "的一是了我不人在他有这个上们来到时大地为子中你说生国年着就那和要她出也得里后自以会家可下而过天去能对小多然于心学么之都好看起发当没成只如事把还用第样道想作种开美总从无情己面最女但现前些所同日手又行意动方期它头经长儿回位分爱老因很给名法间斯知世什两次使身者被高已亲其进此话常与活正感，。、；：？！“”（）《》【】—…·".chars() {
            for face in &all()[..2] {
                assert!(face.info().coverage.contains(c as u32), "{c} missing");
            }
        }
    }
}
