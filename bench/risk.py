"""Risk benchmark (issue 15): with 100,000 incidents at 1,000 places, the register and the map of /risk are
ready in under 2 s.

The places are hotspots with coordinates (sealed in the lists); the incidents are written through
storage.incidents.create over the last 120 days (so most fall in the 90-day window), at places chosen
with a long tail (a few busy, many quiet), every severity, 200 reporters in 10 teams; one missed check-out
or alert for every 50 incidents, each at a check-in's place. Then, each the median of --runs runs:
  - bot.services.risk.places_now (the read of every event, MAC-checked, and the computation) and the
    register's text (bot.handlers.risk.register_lines): what /risk computes;
  - bot.riskmap.map_png over every place with coordinates;
  - bot.services.risk.refresh, the minute sweep's job: after a new incident (a recomputation, the notices
    queued) and when nothing came in (the cheap path).

    .venv/bin/python bench/risk.py                 # 100,000 incidents, 1,000 places
    .venv/bin/python bench/risk.py --check --n 5000 --places 100 --runs 1   # as tests/ runs it

Invariants (the "invariant" table), against counts kept while filling: the database holds every incident;
the register has every place; its 90-day and 30-day counts add up to what was written in those windows;
its missed check-outs and alerts add up; the map draws one mark per place; the first refresh queues one
notice per manager for each place above "low", and a second queues none; no warning logged. With --check
the exit status is 1 exactly when one fails, whatever the timings (the 2 s target included).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from datetime import timedelta
from typing import Any

from _common import Invariants, LogCounter, add_check_flag, exit_status, notes, seconds, table
from _runner import BenchBot, config_with, median

TARGET = 2.0
DAYS = 120
TEAMS, REPORTERS = 10, 200
BATCH = 10_000


def hotspots(n: int, rng: random.Random) -> list[dict[str, Any]]:
    """n places scattered over a city of about 20 km (Guatemala City's latitude)."""
    return [
        {
            "name": f"Place {i:04d}",
            "kind": "bar",
            "risk": rng.choice(("low", "low", "medium", "high")),
            "lat": round(14.55 + rng.random() * 0.18, 3),
            "lon": round(-90.60 + rng.random() * 0.18, 3),
        }
        for i in range(n)
    ]


async def fill(bot: BenchBot, n: int, rng: random.Random) -> dict[str, Any]:
    """n incidents and n // 50 alerts over DAYS days; returns what the register must count."""
    from bot.services.incidents import week_of

    storage, org = bot.storage, bot.org
    now = bot.clock.now()
    names = [h.name for h in bot.config.hotspots]
    t0 = time.perf_counter()
    async with storage.db.tx() as tx:
        teams = [await storage.orgs.team_get_or_create(tx, org.id, f"team {t}", now) for t in range(TEAMS)]
        reporters = [await bot.add_person(tx, "worker", teams[i % TEAMS].id) for i in range(REPORTERS)]
        await bot.add_person(tx, "manager", None)
    counts = {"in90": 0, "in30": 0, "missed30": 0, "alerts30": 0}
    reports = []
    for _ in range(n):
        age = timedelta(seconds=rng.randrange(DAYS * 86400))
        place = names[min(int(rng.paretovariate(0.8)) - 1, len(names) - 1)]
        severity = rng.choice((1, 1, 2, 2, 3, 4, None))
        reports.append((now - age, rng.choice(reporters), place, severity))
        counts["in90"] += age <= timedelta(days=90)
        counts["in30"] += age <= timedelta(days=30)
    reports.sort(key=lambda r: r[0])
    for first in range(0, n, BATCH):
        async with storage.db.tx() as tx:
            for at, reporter, place, severity in reports[first : first + BATCH]:
                fields = {"category": "threat", "place_kind": "hotspot", "place": place, "severity": severity}
                await storage.incidents.create(
                    tx,
                    org_id=org.id,
                    reporter_id=reporter.id,
                    team_id=reporter.team_id,
                    fields=fields,
                    occurred_on=at.date(),
                    week=week_of(at.date()),
                    now=at,
                )
    async with storage.db.tx() as tx:
        for _ in range(n // 50):
            reporter, place = rng.choice(reporters), rng.choice(names)
            age = timedelta(seconds=rng.randrange(DAYS * 86400))
            at = now - age
            checkin_id = await storage.checkins.create(
                tx, org_id=org.id, person_id=reporter.id, team_id=reporter.team_id, place=place, place_custom=False,
                partner_id=None, alone_at_pairs=False, started_at=at, deadline_at=at, stage=0, next_step_at=None,
                location=None,
            )  # fmt: skip
            await storage.checkins.close(tx, checkin_id, "alert", at)  # one open check-in a person
            kind = rng.choice(("missed_checkout", "red"))
            await storage.alerts.create(
                tx, org_id=org.id, person_id=reporter.id, team_id=reporter.team_id, checkin_id=checkin_id,
                kind=kind, raised_at=at, managers_due_at=None, next_repeat_at=None,
            )  # fmt: skip
            if age <= timedelta(days=30):
                counts["missed30" if kind == "missed_checkout" else "alerts30"] += 1
    counts["fill_s"] = time.perf_counter() - t0
    counts["reporter"] = reporters[0]
    return counts


async def timed(fn: Any, runs: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = await fn()
        times.append(time.perf_counter() - t0)
    return median(times), result


async def run(args: argparse.Namespace) -> tuple[str, Invariants]:
    from bot.handlers.risk import marks_of, register_lines
    from bot.riskmap import MapTexts, map_figure, map_png
    from bot.services import risk
    from bot.services.incidents import week_of

    logs = LogCounter.install()
    rng = random.Random(15)
    bot = BenchBot(config_with(hotspots=hotspots(args.places, rng)), prefix="bench-risk-", poll=False)
    await bot.open_storage()
    filled = await fill(bot, args.n, rng)
    storage, config, org = bot.storage, bot.config, bot.org
    now = bot.clock.now()
    texts = MapTexts("Risk by place", {"low": "low", "medium": "medium", "high": "high"})

    async def register() -> Any:
        places = await risk.places_now(storage, config, org.id, now)
        return places, register_lines(places, "en")

    t_register, (places, _) = await timed(register, args.runs)

    async def draw() -> bytes:
        return await asyncio.to_thread(map_png, marks_of(places), texts)

    t_map, png = await timed(draw, args.runs)
    t_first = time.perf_counter()
    queued = await risk.refresh(storage, config, now)
    t_first = time.perf_counter() - t_first
    t_quiet = time.perf_counter()
    again = await risk.refresh(storage, config, now + timedelta(minutes=5))
    t_quiet = time.perf_counter() - t_quiet
    reporter = filled["reporter"]
    quiet = next(p.name for p in places if p.level == "low")
    async with storage.db.tx() as tx:  # critical incidents at a quiet place: the next sweep recomputes, tells
        for _ in range(2):
            await storage.incidents.create(
                tx, org_id=org.id, reporter_id=reporter.id, team_id=reporter.team_id,
                fields={"category": "threat", "place": quiet, "severity": 4}, occurred_on=now.date(),
                week=week_of(now.date()), now=now,
            )  # fmt: skip
    t_changed = time.perf_counter()
    changed = await risk.refresh(storage, config, now + timedelta(minutes=10))
    t_changed = time.perf_counter() - t_changed

    inv = Invariants()
    async with storage.db.read() as tx:
        inv.equal("incidents in the database", (await tx.one("SELECT count(*) FROM incidents"))[0], args.n + 2)
    inv.equal("register: every place", len(places), args.places)
    inv.equal("register: incidents in 90 days", sum(p.incidents90 for p in places), filled["in90"])
    inv.equal("register: incidents in 30 days", sum(p.incidents30 for p in places), filled["in30"])
    inv.equal("register: missed check-outs in 30 days", sum(p.missed30 for p in places), filled["missed30"])
    inv.equal("register: alerts in 30 days", sum(p.alerts30 for p in places), filled["alerts30"])
    drawn = map_figure(marks_of(places), texts).axes[0].collections[0]
    inv.equal("map: one mark per place", len(drawn.get_offsets()), args.places)
    above = sum(p.level != "low" for p in places)
    inv.equal("first refresh: one notice per place above low (one manager)", queued, above)
    inv.equal("second refresh, nothing new: notices", again, 0)
    inv.equal("refresh after new critical incidents at a quiet place: its one notice", changed, 1)
    inv.equal("warnings logged", logs.count, 0)
    await bot.close()

    levels = {k: sum(p.level == k for p in places) for k in ("low", "medium", "high")}
    out = [
        f"risk: {args.n:,} incidents over {DAYS} days at {args.places:,} places (all with coordinates), "
        f"{args.n // 50:,} missed check-outs and alerts; computed levels {levels}; median of {args.runs} runs",
        "",
        table(
            ("/risk", "outreach-bot", "target", "meets"),
            [
                ("register: places_now() + text", seconds(t_register), "", ""),
                (f"map: map_png() ({len(png) // 1024} KiB PNG)", seconds(t_map), "", ""),
                (
                    "register + map",
                    seconds(t_register + t_map),
                    "< 2 s",
                    "yes" if t_register + t_map < TARGET else "NO",
                ),
                ("sweep's refresh(), first (computes, queues notices)", seconds(t_first), "", ""),
                ("sweep's refresh(), nothing new (fingerprint only)", seconds(t_quiet), "", ""),
                ("sweep's refresh(), after two new incidents", seconds(t_changed), "", ""),
            ],
        ),
        "",
        notes([("fill: people, incidents, check-ins, alerts", seconds(filled["fill_s"]))]),
    ]
    return "\n".join(out), inv


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="incidents (default 100000)")
    parser.add_argument("--places", type=int, default=1000, help="places (default 1000)")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement; the median is shown (default 3)")
    add_check_flag(parser)
    args = parser.parse_args()
    if args.n < 100 or args.places < 2 or args.runs < 1:
        parser.error("--n must be at least 100, --places at least 2 and --runs at least 1")
    text, inv = asyncio.run(run(args))
    print(f"{text}\n\n{inv.table()}\n")
    return exit_status(args.check, inv)


if __name__ == "__main__":
    sys.exit(main())
