"""Intelligence for the desk (issue 19): the topic taxonomy, topic and routing suggestions,
hot issues and advisory reply checks."""

from . import models  # noqa: F401  (the topic table is created with the app's models)
