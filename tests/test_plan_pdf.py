"""A plan's PDF in Arabic holds the Arabic shaped and right to left, as read back from the file.

What is compared: pypdf reads the text back in logical order (the font's ToUnicode map), which says the
words are there but not that they were shaped. So the glyphs drawn are also read: each one's outline in
the embedded (subset) font is matched with DejaVu Sans's own outline for a code point, preferring Arabic
presentation forms (U+FE70-U+FEFF, a letter's initial, medial, final or isolated form). "عمل" shaped
and set right to left is, from left to right on the page, final lam, medial meem, initial ain:
U+FEDE U+FEE4 U+FECB. Unshaped it would be three isolated (base) letters, in the order typed.
"""

from __future__ import annotations

import io
from datetime import date

import pypdf
from fontTools.ttLib import TTFont
from pypdf.generic import ContentStream

from bot.i18n import tr
from bot.services import plan_pdf
from bot.services.plans import Action, Plan

WORD = "عمل"
SHAPED_VISUAL = "\ufede\ufee4\ufecb"


def _outline(font: TTFont, glyph: str) -> tuple[tuple[int, int], ...]:
    coords, _, _ = font["glyf"][glyph].getCoordinates(font["glyf"])
    return tuple((int(x), int(y)) for x, y in coords)


def _by_outline(path: object) -> dict[tuple[tuple[int, int], ...], str]:
    """Arabic code points of a DejaVu font by their outline, presentation forms first."""
    full = TTFont(path)
    by_outline: dict[tuple[tuple[int, int], ...], str] = {}
    for codepoint, glyph in sorted(full.getBestCmap().items(), key=lambda kv: -kv[0]):
        if 0x600 <= codepoint <= 0x6FF or 0xFE70 <= codepoint <= 0xFEFF:
            by_outline.setdefault(_outline(full, glyph), chr(codepoint))
    return by_outline


def drawn(data: bytes) -> str:
    """The Arabic code points whose outlines the first page draws, in drawing order (others: ".")."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    page = reader.pages[0]
    fonts = {}
    for name, ref in page["/Resources"]["/Font"].items():
        font = ref.get_object()
        cid_font = font["/DescendantFonts"][0].get_object()
        subset = TTFont(io.BytesIO(cid_font["/FontDescriptor"]["/FontFile2"].get_data()))
        full = plan_pdf.FONT_BOLD if "Bold" in str(font["/BaseFont"]) else plan_pdf.FONT
        fonts[name] = (subset, cid_font["/CIDToGIDMap"].get_data(), _by_outline(full))
    out = []
    current = None
    for operands, operator in ContentStream(page.get_contents(), reader).operations:
        if operator == b"Tf":
            current = fonts[operands[0]]
        if operator != b"Tj" or current is None:
            continue
        subset, gid_map, by_outline = current
        op = operands[0]
        raw = op.original_bytes if hasattr(op, "original_bytes") else bytes(op)
        for i in range(0, len(raw), 2):
            cid = int.from_bytes(raw[i : i + 2], "big")
            gid = int.from_bytes(gid_map[2 * cid : 2 * cid + 2], "big")
            out.append(by_outline.get(_outline(subset, subset.getGlyphOrder()[gid]), "."))
    return "".join(out)


def _plan() -> Plan:
    return Plan(
        id="P-ABCDE",
        place=None,
        activity=f"{WORD} ليلي",
        risk="مداهمات ليلية",
        threats=("دوريات",),
        vulnerabilities=("وحيدا",),
        existing_capacity=("هاتف",),
        required_capacity=("أزواج",),
        actions=(Action("الذهاب في أزواج", "W-7KQ2", "0", date(2027, 1, 10)),),
        owner="M-AB2C",
        review=date(2027, 2, 1),
    )


def test_arabic_plan_pdf_is_shaped_right_to_left() -> None:
    data = plan_pdf.render(_plan(), "ar")
    text = pypdf.PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert f"{WORD} ليلي" in text and "الذهاب في أزواج" in text
    assert tr("ar", "Vulnerabilities:").rstrip(":") in text  # the labels in the reader's language
    glyphs = drawn(data)
    assert SHAPED_VISUAL in glyphs
    assert WORD not in glyphs  # not one base letter of the word was drawn unshaped in typed order


def test_same_plan_unshaped_would_fail() -> None:
    """The check above can fail: without shaping the same word is drawn as base letters."""
    before = plan_pdf.SHAPING
    plan_pdf.SHAPING = False
    try:
        glyphs = drawn(plan_pdf.render(_plan(), "ar"))
    finally:
        plan_pdf.SHAPING = before
    assert SHAPED_VISUAL not in glyphs
