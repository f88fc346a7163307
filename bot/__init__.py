"""outreach-bot: check-ins, alerts and incident reports for outreach workers."""

__version__ = "0.1.0"
