"""`flask seed` commands."""

from flask.cli import AppGroup

seed_cli = AppGroup("seed", help="Load the region directory and demo data.")
