"""What build_application(..., hooks=) is told about the scheduled jobs as they run (bot/telegram/jobs.py
tells them; a bench's, say); kept in BotData.hooks. Imports nothing: context.py and jobs.py both use it."""

from __future__ import annotations


class Hooks:
    """What a caller of build_application(..., hooks=) (a bench) is told about the jobs as they run
    (BotData.hooks); none in production (then nothing is timed). Override what you need: the defaults do nothing."""

    def on_flush(self, seconds: float, sent: int, found_running: bool) -> None:
        """After each outbox flush (the tick's, the sweep's, a handler's request_flush): its duration, the
        messages it sent, and whether it found a flush running and returned at once (sent is then 0)."""

    def on_tick_step(self, name: str, seconds: float) -> None:
        """After each step of the escalation tick: "advance_checkins", "advance_alerts" or "flush"."""
