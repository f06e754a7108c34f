"""`python -m ui` runs the `fieldapp` program (window and subcommands)."""

from ui.main import main

raise SystemExit(main())
