"""Submitting a page's real form the way a browser without JavaScript does, CSRF token included.

`submit(client, page, action, fields)` loads `page`, finds the form posting to `action`, starts
from what the browser would send untouched (text values, ticked boxes, selected options, the
hidden CSRF token) and overrides `fields` — a value of None unticks a box or leaves a field out.
"""

from __future__ import annotations

from html.parser import HTMLParser

from flask import g


class _FormReader(HTMLParser):
    """The successful controls of the first form whose action is `action`."""

    def __init__(self, action: str):
        super().__init__(convert_charrefs=True)
        self.action = action
        self.found = False
        self.inside = False
        self.done = False
        self.fields: dict[str, str] = {}
        self._select: str | None = None
        self._select_first: str | None = None
        self._select_chosen = False
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        """Collect the default value of each control inside the form."""
        a = dict(attrs)
        if tag == "form" and not self.done and a.get("action") == self.action:
            self.found = self.inside = True
            return
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name and a.get("type", "text") not in ("submit", "button", "file"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields[name] = a.get("value", "on")
            else:
                self.fields[name] = a.get("value", "")
        elif tag == "select" and name:
            self._select, self._select_first, self._select_chosen = name, None, False
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._select_first is None:
                self._select_first = value
            if "selected" in a:
                self.fields[self._select], self._select_chosen = value, True
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""

    def handle_endtag(self, tag):
        """Close the select, textarea or form being read."""
        if tag == "select" and self._select:
            if not self._select_chosen and self._select_first is not None:
                self.fields[self._select] = self._select_first
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form" and self.inside:
            self.inside, self.done = False, True

    def handle_data(self, data):
        """A textarea's text is its value."""
        if self._textarea and self.inside:
            self.fields[self._textarea] += (
                data.lstrip("\n") if not self.fields[self._textarea] else data
            )


def read_form(html: str, action: str) -> dict[str, str]:
    """What a browser would send, untouched, from the form posting to `action` in `html`."""
    reader = _FormReader(action)
    reader.feed(html)
    assert reader.found, f"no form posting to {action}"
    return reader.fields


def fresh(client):
    """The client, after forgetting what the test's long-lived app context kept in `g` from
    earlier requests (another client's CSRF token, another request's language)."""
    g.pop("csrf_token", None)
    g.pop("_flask_babel", None)
    return client


def get(client, page: str, **kwargs):
    """GET `page` as a fresh request of this client."""
    return fresh(client).get(page, **kwargs)


def submit(client, page: str, action: str, fields: dict | None = None, **post):
    """Load `page`, fill the form posting to `action` with `fields` and post it."""
    html = get(client, page).get_data(as_text=True)
    data = read_form(html, action)
    for name, value in (fields or {}).items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    fresh(client)
    return client.post(action, data=data, **post)


def compose_fields(**fields) -> dict[str, str]:
    """The fields of the compose form (`/write?board=…`) as a citizen submits a public request for
    help in 西湖区 with no contact details, overridden by `fields`."""
    return {
        "track": "board",
        "kind": "help",
        "domain": "urban",
        "region": "330106",
        "private_note": "",
        "wants_public": "y",
        "real_name": "",
        "phone": "",
        "address": "",
        "submit": "提交",
    } | fields
