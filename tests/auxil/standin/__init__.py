"""An in-process stand-in for Telegram's Bot API, used by the sandbox, the tests and the benchmarks.

Only Telegram's servers are replaced: the real `Application` and `Bot` send real requests
through python-telegram-bot's request layer, and this answers them as the Bot API would.
"""

from tests.auxil.standin.api import FakeBotApi, Sent
from tests.auxil.standin.limits import FloodLimits
from tests.auxil.standin.request import StandinRequest
from tests.auxil.standin.updates import UpdateFactory

__all__ = ["FakeBotApi", "FloodLimits", "Sent", "StandinRequest", "UpdateFactory"]
