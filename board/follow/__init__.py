"""Following (关注) messages and saved searches with a daily digest and an Atom feed."""

from . import models  # noqa: F401  (the tables are created with the app's models)
