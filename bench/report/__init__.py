"""Layer 5, reporting: aggregation over seeds, tables, plots, provenance and the published leaderboard page."""
