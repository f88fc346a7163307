"""A security plan as a printable PDF in the reader's language, for a team meeting.

fpdf2 lays the text out with HarfBuzz (uharfbuzz): Arabic is shaped (each letter in its joined form) and
set right to left. The font is DejaVu Sans, which matplotlib ships, with Arabic glyphs; no font is fetched.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from bot.i18n import N_, tr
from bot.services.plans import Plan

FONT = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
FONT_BOLD = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans-Bold.ttf"
SHAPING = True  # tests turn it off once, to show their check can fail
RTL = ("ar",)
ISOLATES = dict.fromkeys((0x2066, 0x2067, 0x2068, 0x2069))  # the catalog's bidi marks: the shaper orders by itself
SECTIONS = (
    ("threats", N_("Threats:")),
    ("vulnerabilities", N_("Vulnerabilities:")),
    ("existing_capacity", N_("Existing capacity:")),
    ("required_capacity", N_("Required capacity:")),
)
COLUMNS = (N_("Measure"), N_("Responsible"), N_("Cost"), N_("Deadline"), N_("Status"))
WIDTHS = (70, 35, 25, 25, 25)
STATUS = {"todo": N_("to do"), "doing": N_("under way"), "done": N_("done")}


def render(plan: Plan, locale: str) -> bytes:
    """The plan's PDF (A4), every label in `locale`."""
    rtl = locale in RTL
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_font("DejaVu", "", str(FONT))
    pdf.add_font("DejaVu", "B", str(FONT_BOLD))
    pdf.set_text_shaping(SHAPING, direction="rtl" if rtl else "ltr", script="arab" if rtl else None,
                         language=locale)  # fmt: skip
    pdf.add_page()
    align = "R" if rtl else "L"

    def line(text: str, size: int = 11, bold: bool = False) -> None:
        pdf.set_font("DejaVu", "B" if bold else "", size)
        pdf.multi_cell(0, size * 0.6, text.translate(ISOLATES), align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    line(tr(locale, "Security plan {id}: {subject}", id=plan.id, subject=plan.subject), 15, bold=True)
    if plan.early_review:
        line(tr(locale, "To be reviewed early: a critical incident was reported at this place."), bold=True)
    line(tr(locale, "Risk: {risk}", risk=plan.risk), 12, bold=True)
    for name, label in SECTIONS:
        pdf.ln(2)
        line(tr(locale, label), bold=True)
        for item in getattr(plan, name):
            line("• " + item)
    pdf.ln(3)
    line(tr(locale, "Actions:"), 12, bold=True)
    order = list(range(len(COLUMNS)))[:: -1 if rtl else 1]  # right to left: the first column on the right
    pdf.set_font("DejaVu", "B", 9)
    for i in order:
        pdf.cell(WIDTHS[i], 7, tr(locale, COLUMNS[i]).translate(ISOLATES), border=1, align=align)
    pdf.ln()
    pdf.set_font("DejaVu", "", 9)
    for a in plan.actions:
        cells = (a.measure, a.responsible, a.cost or "–", a.deadline.isoformat(), tr(locale, STATUS[a.status]))
        for i in order:
            pdf.cell(WIDTHS[i], 7, cells[i][:60].translate(ISOLATES), border=1, align=align)
        pdf.ln()
    pdf.ln(3)
    line(tr(locale, "Owner: {code}. Review: {date}.", code=plan.owner, date=plan.review.isoformat()))
    return bytes(pdf.output())
