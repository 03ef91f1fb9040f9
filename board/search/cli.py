"""`flask search` commands."""

from flask.cli import AppGroup

search_cli = AppGroup("search", help="Build, sync, check and serve the search index.")
