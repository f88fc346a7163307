"""Small helpers shared by the flows."""

from __future__ import annotations

from bot.flows.model import Ctx, Done

NOT_IN = "You are not checked in. To start: /checkin."


def is_worker(c: Ctx) -> bool:
    return c.person is not None and c.person.role == "worker"


def not_a_worker(c: Ctx) -> Done:
    return Done(c.t("Check-ins are for outreach workers."))


def location_text(latitude: float, longitude: float) -> str | None:
    """ "lat, lon" with 5 decimals (about a metre), or None if out of range."""
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    return f"{latitude:.5f}, {longitude:.5f}"
