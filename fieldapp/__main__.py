"""`python -m fieldapp` runs the command line."""

from fieldapp.cli import main

raise SystemExit(main())
