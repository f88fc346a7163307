"""Scheduled work: the escalation tick and the outbox sender."""
