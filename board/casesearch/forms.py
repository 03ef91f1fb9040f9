"""The staff search form (GET: nothing changes, so no CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import Form, StringField
from wtforms.validators import Length, Optional

from .services import MAX_QUERY_CHARS


class CaseSearchForm(Form):
    """The query of the staff search."""

    q = StringField(
        _l("检索词"),
        validators=[
            Optional(),
            Length(
                max=MAX_QUERY_CHARS, message=_l("检索词不能超过 %(n)d 个字。", n=MAX_QUERY_CHARS)
            ),
        ],
    )
