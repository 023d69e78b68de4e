"""Subcommands of the `crossclass` console command, one module each (see crossclass.cli)."""
