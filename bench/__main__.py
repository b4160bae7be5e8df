"""`python -m bench` is the same as the `archbench` console script."""

from bench.cli.main import main

raise SystemExit(main())
