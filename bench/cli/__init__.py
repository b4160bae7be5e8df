"""Layer 7, the command line: one module per subcommand under `bench.cli.commands`."""
