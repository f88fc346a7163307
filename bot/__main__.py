"""`python -m bot` is the same as the `outreach-bot` command."""

from bot.cli import main

raise SystemExit(main())
