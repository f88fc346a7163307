"""Summaries and exports people can read (issue 14, Build item 9): severity by its word, a percentage
only on an average that means something, a chart with axis titles, local dates and a legend a phone
can read (checked on the drawn artists, not pixels), and a CSV in the organisation's time zone with
statuses in the reader's language and the reporter's code."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_skeleton

from bot.chart import LEGEND_SIZE, ChartTexts, weekly_figure
from bot.i18n import tr
from bot.services import incidents as inc
from bot.services.summary import Summary, weeks_back
from bot.services.summary_message import CHART_TITLE, summary_text
from tests.auxil.harness import Harness
from tests.test_reports import file_by_buttons

WEEK = date(2026, 11, 23)
LANGS = ("en", "es", "fr", "pt", "ar")


def test_severity_by_its_word_gravest_first() -> None:
    s = Summary(week=WEEK, total=4, by_severity=Counter({3: 3, 4: 1}), previous_weeks=[0, 1, 0, 0])
    assert "By severity: Critical: 1, High: 3" in summary_text(s, "en")
    assert "Por gravedad: Crítica: 1, Alta: 3" in summary_text(s, "es")


def test_percentage_only_on_a_meaningful_average() -> None:
    few = Summary(week=WEEK, total=3, previous_average=0.25, previous_weeks=[0, 1, 0, 0])
    text = summary_text(few, "en")
    assert "%" not in text
    assert "Compared with the 4 weeks before: 3 (usually about 0–1)." in text
    steady = Summary(week=WEEK, total=2, previous_average=2.0, previous_weeks=[2, 2, 2, 2])
    assert "(usually about 2)." in summary_text(steady, "en")
    many = Summary(week=WEEK, total=12, previous_average=10.0, previous_weeks=[8, 12, 10, 10])
    assert "Compared with the 4 weeks before (average 10.0): +20%" in summary_text(many, "en")
    for lang in LANGS:  # every language says it, not the English fallback
        shown = summary_text(few, lang)
        assert "%" not in shown and "0–1" in shown
        if lang != "en":
            assert "usually about" not in shown


def _figure(lang: str):
    weeks = weeks_back(WEEK, 12)
    weekly = {w: Counter({"arrest": i % 3, "threat": 1}) for i, w in enumerate(weeks)}
    labels = {k: tr(lang, v) for k, v in inc.CATEGORIES.items()}
    texts = ChartTexts(tr(lang, CHART_TITLE), tr(lang, "Week starting"), tr(lang, "Incidents"), lang)
    return weeks, labels, weekly_figure(weekly, labels, texts)


@pytest.mark.parametrize("lang", LANGS)
def test_chart_axes_dates_and_legend_in_the_readers_language(lang: str) -> None:
    weeks, labels, fig = _figure(lang)
    [ax] = fig.axes
    assert ax.get_title() == tr(lang, CHART_TITLE)
    assert ax.get_xlabel() == tr(lang, "Week starting") and ax.get_ylabel() == tr(lang, "Incidents")
    if lang != "en":
        assert ax.get_xlabel() != "Week starting"  # ("Incidents" is also French)
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks == [format_skeleton("MMMd", date.fromisoformat(w), locale=lang) for w in weeks]
    assert not any(w in ticks for w in weeks)  # no ISO dates
    [legend] = fig.legends
    assert sorted(t.get_text() for t in legend.get_texts()) == sorted([labels["arrest"], labels["threat"]])
    assert all(t.get_fontsize() >= 12 for t in legend.get_texts()) and LEGEND_SIZE >= 12
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    below = legend.get_window_extent(renderer).y1 <= ax.get_window_extent(renderer).y0
    assert below, "the legend covers the bars"


def test_arabic_on_the_chart_is_shaped() -> None:
    """matplotlib joins Arabic letters (libraqm): a shaped word is narrower than its letters apart."""
    import matplotlib.ft2font as ft2font

    assert hasattr(ft2font, "__libraqm_version__")
    _, _, fig = _figure("ar")
    word = fig.axes[0].get_ylabel()
    assert any("\u0600" <= ch <= "\u06ff" for ch in word)
    renderer = fig.canvas.get_renderer()

    def width(text: str) -> float:
        return fig.text(0, 0, text, fontsize=20).get_window_extent(renderer).width

    letters = word.replace(" ", "")
    assert width(letters) < 0.9 * sum(width(ch) for ch in letters)


async def test_csv_local_time_words_and_reporter_code(harness: Harness) -> None:
    from bot.services.export import export

    manager = await harness.enrol("manager", language="es")
    worker = await harness.enrol("worker", "north")
    ref = await file_by_buttons(worker)
    tz = ZoneInfo("America/Guatemala")
    sent = await manager.say("/export")
    document = [c for m, c in harness.api.calls if m == "sendDocument"][-1]
    rows = list(csv.reader(io.StringIO(document["document"]["content"].decode("utf-8-sig"))))
    head, row = rows[0], dict(zip(rows[0], rows[1], strict=True))
    assert sent[-1].method == "sendDocument"
    assert "reported_at (America/Guatemala)" in head and head[-1] == "reporter"
    assert row["reference"] == ref and row["reporter"] == worker.person.code
    assert row["status"] == "Abierto" == tr("es", inc.FOLLOWUP["open"])
    assert row["severity"] == tr("es", "High") and row["category"] == tr("es", inc.CATEGORIES["arrest"])
    async with harness.storage.db.read() as tx:
        [incident] = await harness.storage.incidents.all(tx, _filters(manager.person.org_id), with_account=False)
    local = incident.reported_at.astimezone(tz)
    assert row["reported_at (America/Guatemala)"] == local.strftime("%Y-%m-%d %H:%M")
    assert "+00:00" not in "".join(rows[1]) and "UTC" not in "".join(rows[1])
    assert local.utcoffset() == timedelta(hours=-6) and incident.reported_at.tzinfo is not None
    data, _ = await export(
        harness.storage, manager.person.org_id, date(2026, 1, 1), date(2026, 12, 31), with_accounts=False, locale="fr"
    )
    [_, fr] = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert tr("fr", inc.FOLLOWUP["open"]) in fr and "(UTC)" in data.decode("utf-8-sig").splitlines()[0]
    assert isinstance(incident.reported_at, datetime)


def _filters(org_id: str):
    from storage.incidents import Filters

    return Filters(org_id=org_id)
