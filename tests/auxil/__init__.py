"""Test helpers: the harness around the real Application and the Bot API stand-in."""
