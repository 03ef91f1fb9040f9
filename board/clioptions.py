"""Options the setup commands share (`flask seed site`, `flask suggest setup`)."""

from __future__ import annotations

from pathlib import Path

import click

# Where a setup command writes what it did; `<instance>/setup.log` when not given.
setup_log_option = click.option(
    "--log",
    "log_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="setup log (default: <instance>/setup.log)",
)
