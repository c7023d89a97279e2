"""Runs the relais command line."""

from bot.cli import main

raise SystemExit(main())
