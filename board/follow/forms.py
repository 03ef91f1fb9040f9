"""Forms of following and saved searches: CSRF-protected buttons and the save-search form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import Length, Optional

from ..stats.listing import NARROWING

# The public listing's parameters a saved search keeps (board/stats/listing.py).
SEARCH_ARGS = ("q", *NARROWING, "from", "to")


class ButtonForm(FlaskForm):
    """A form with nothing but its CSRF token: follow, unfollow, delete."""


class SaveSearchForm(FlaskForm):
    """Save the search shown on the search page; the filters ride along as hidden fields."""

    name = StringField(
        _l("名称（选填）"),
        validators=[Optional(), Length(max=120, message=_l("名称不能超过 120 个字。"))],
    )
    q = HiddenField(validators=[Optional(), Length(max=200)])
    region = HiddenField(validators=[Optional(), Length(max=40)])
    board = HiddenField(validators=[Optional(), Length(max=40)])
    unit = HiddenField(validators=[Optional(), Length(max=40)])
    kind = HiddenField(validators=[Optional(), Length(max=40)])
    domain = HiddenField(validators=[Optional(), Length(max=40)])
    topic = HiddenField(validators=[Optional(), Length(max=40)])  # a first-level topic: id or name
    state = HiddenField(validators=[Optional(), Length(max=200)])
    replied = HiddenField(validators=[Optional(), Length(max=10)])
    date_from = HiddenField(name="from", validators=[Optional(), Length(max=10)])
    date_to = HiddenField(name="to", validators=[Optional(), Length(max=10)])

    def search_args(self) -> dict[str, str]:
        """The search's parameters as the public listing reads them."""
        found = {}
        for field in self:
            if field.name in SEARCH_ARGS and field.data and "\x00" not in field.data:
                found[field.name] = field.data.strip()
        return found
