#!/usr/bin/env python3
"""Regenerate the fonts the PDF report embeds: subsets of Noto Sans CJK SC.

The PDF must show Chinese on a machine with no CJK font installed, so perfdiag
carries its own font. The full Noto Sans CJK faces are 16-20 MB each; the report
needs far less: Latin text, punctuation, the 7,445 characters of GB2312 (every
character of everyday simplified Chinese) and whatever our own catalogs and
templates use beyond that.

Needs Debian's fonts-noto-cjk (the source fonts) and fonttools (pyftsubset):

    apt-get install fonts-noto-cjk && pip install fonttools
    python3 assets/fonts/subset.py

Writes, next to this script:
    NotoSansCJKsc-Regular.subset.otf   text
    NotoSansCJKsc-Bold.subset.otf      headings, table heads, emphasis
    NotoSansMonoCJKsc-Regular.subset.otf  scripts and identifiers (Latin only: Chinese
                                       in a script falls back to the text face)

All three are under the SIL Open Font License 1.1 (OFL.txt). The family names are
kept: the licence reserves only the name "Source", which these do not use.
"""

import pathlib
import sys

from fontTools import subset
from fontTools.ttLib import TTCollection

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SOURCE = pathlib.Path("/usr/share/fonts/opentype/noto")
# Faces inside Debian's collections (fonts-noto-cjk 1:20220127): 2 is "Noto Sans CJK
# SC", 7 is "Noto Sans Mono CJK SC". Checked by name below, so a reordering fails.
FACES = [
    ("NotoSansCJK-Regular.ttc", 2, "Noto Sans CJK SC", "NotoSansCJKsc-Regular.subset.otf", True),
    ("NotoSansCJK-Bold.ttc", 2, "Noto Sans CJK SC", "NotoSansCJKsc-Bold.subset.otf", True),
    ("NotoSansCJK-Regular.ttc", 7, "Noto Sans Mono CJK SC", "NotoSansMonoCJKsc-Regular.subset.otf", False),
]


def ranges(*spans):
    return {chr(c) for lo, hi in spans for c in range(lo, hi + 1)}


# Latin and the symbols a report uses: ASCII, Latin-1, general punctuation, arrows,
# maths operators (≤ ≥ ×), box drawing and geometric shapes.
LATIN = ranges(
    (0x20, 0x7E),
    (0xA0, 0xFF),
    (0x2000, 0x206F),
    (0x20AC, 0x20AC),
    (0x2100, 0x215F),
    (0x2190, 0x21FF),
    (0x2200, 0x22FF),
    (0x2460, 0x24FF),
    (0x2500, 0x25FF),
)
# CJK symbols and punctuation, full-width forms.
CJK_PUNCTUATION = ranges((0x3000, 0x303F), (0xFF00, 0xFFEF))


def gb2312():
    """Every character GB2312 encodes (rows 0xA1-0xF7, cells 0xA1-0xFE)."""
    chars = set()
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.add(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return chars


def used_by_the_project():
    """Every character in the message catalogs and the typst templates."""
    chars = set()
    for folder, pattern in [
        (ROOT / "report-templates" / "i18n", "**/*.toml"),
        (ROOT / "report-templates" / "typst", "**/*.typ"),
    ]:
        for path in sorted(folder.glob(pattern)):
            chars |= set(path.read_text(encoding="utf-8"))
    return {c for c in chars if ord(c) >= 0x20}


def main():
    text = LATIN | CJK_PUNCTUATION | gb2312() | used_by_the_project()
    for collection, index, family, output, cjk in FACES:
        face = TTCollection(str(SOURCE / collection), lazy=True).fonts[index]
        name = face["name"].getDebugName(1)
        if name != family:
            sys.exit(f"{collection} face {index} is {name!r}, expected {family!r}")
        wanted = text if cjk else LATIN
        cmap = face.getBestCmap()
        # What the project itself writes must all be there; the ranges above are
        # generous and some of their code points are in no font.
        missing = sorted(c for c in used_by_the_project() if ord(c) not in cmap)
        if cjk and missing:
            sys.exit(f"{output}: the catalogs or templates use {''.join(missing)!r}, not in {family}")
        options = subset.Options()
        options.font_number = index
        options.hinting = False  # print and screen at PDF resolutions need no hints
        options.desubroutinize = False
        options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 13, 14]
        options.name_languages = [0x409]
        options.notdef_outline = True
        # Horizontal Latin and Chinese text needs no more; "locl" and the vertical
        # features would pull in the Japanese, Korean and vertical forms (twice the glyphs).
        options.layout_features = ["ccmp", "kern", "liga", "calt", "mark", "mkmk"]
        font = subset.load_font(str(SOURCE / collection), options)
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=[ord(c) for c in wanted])
        subsetter.subset(font)
        subset.save_font(font, str(HERE / output), options)
        kept = len(font.getGlyphOrder())
        size = (HERE / output).stat().st_size
        print(f"{output}: {kept} glyphs, {size} bytes")


if __name__ == "__main__":
    main()
