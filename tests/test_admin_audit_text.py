"""/admin/audit shows recorded values as they were written: Chinese names as Chinese, not as
JSON \\u escapes (found by the admin browser journey, tests/test_e2e_admin.py), and still
escaped for HTML."""

from __future__ import annotations

from conftest import T0, login

from board.audit import record_change, value_text
from board.extensions import db


def test_value_text_keeps_chinese_and_types():
    assert value_text("杭州市物价局") == '"杭州市物价局"'
    assert value_text(None) == "null"
    assert value_text(True) == "true"
    assert value_text(25) == "25"
    assert value_text(["330127"]) == '["330127"]'


def test_audit_page_shows_chinese_values_and_escapes_markup(client, admin):
    record_change(
        admin, "unit.update", "330100-wj", {"name": "杭州市物价局"},
        {"name": "杭州市发展和改革委员会<script>alert(1)</script>"}, now=T0,
    )  # fmt: skip
    db.session.commit()
    login(client, admin)
    page = client.get("/admin/audit?target=330100-wj").get_data(as_text=True)
    assert '<del>"杭州市物价局"</del>' in page.replace("&#34;", '"')
    assert "杭州市发展和改革委员会&lt;script&gt;" in page
    assert "<script>alert(1)" not in page
    assert "\\u676d" not in page
