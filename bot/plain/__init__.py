"""The plain-text adapter: numbered choices for messengers without buttons (a terminal, Signal)."""
