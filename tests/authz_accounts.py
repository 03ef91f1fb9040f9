"""Authorization-matrix entries for the account routes (board/auth): merged into MATRIX by
tests/authz_matrix.py. Mailed links work without signing in; everything under /account is the
signed-in person's own, and another person's session id is not found."""

from __future__ import annotations

from typing import Any

from authz_matrix import EVERYONE, LOGIN, OK, SIGNED_IN_ONLY, Rule, expect


def _no_such_link(_world) -> dict[str, Any]:
    """A link token nobody was sent (the routes answer 400, after authorization)."""
    return {"token": "no-such-link-token"}


def _spare_session(world) -> dict[str, Any]:
    """A second signed-in browser of the author's, for the rule that ends one."""
    from conftest import T0

    from board.extensions import db
    from board.models.accounts import UserSession

    row = UserSession(
        user=world.user("author"),
        key_hash="spare-" + "0" * 58,
        user_agent="spare browser",
        created_at=T0,
        last_seen_at=T0,
    )
    db.session.add(row)
    db.session.commit()
    return {"session_id": row.id}


ACCOUNT_RULES: dict[tuple[str, str], Rule] = {
    ("auth.verify_email", "GET"): Rule(
        "/verify-email/{token}", expect=EVERYONE, setup=_no_such_link
    ),
    ("auth.verify_email", "POST"): Rule(
        "/verify-email/{token}", expect=EVERYONE, data={}, setup=_no_such_link
    ),
    ("auth.resend_verification", "POST"): Rule("/account/verify/resend", expect=SIGNED_IN_ONLY),
    ("auth.reset_request", "GET"): Rule("/reset-password", expect=EVERYONE),
    ("auth.reset_request", "POST"): Rule(
        "/reset-password", expect=EVERYONE, data={"email": "nobody@example.org"}
    ),
    ("auth.reset_password", "GET"): Rule(
        "/reset-password/{token}", expect=EVERYONE, setup=_no_such_link
    ),
    ("auth.reset_password", "POST"): Rule(
        "/reset-password/{token}", expect=EVERYONE, data={}, setup=_no_such_link
    ),
    ("auth.account", "GET"): Rule("/account", expect=SIGNED_IN_ONLY),
    ("auth.update_profile", "POST"): Rule("/account", expect=SIGNED_IN_ONLY, data={}),
    ("auth.change_password", "POST"): Rule("/account/password", expect=SIGNED_IN_ONLY, data={}),
    ("auth.change_email", "POST"): Rule("/account/email", expect=SIGNED_IN_ONLY, data={}),
    ("auth.notifications", "GET"): Rule("/account/notifications", expect=SIGNED_IN_ONLY),
    ("auth.notifications", "POST"): Rule(
        "/account/notifications", expect=SIGNED_IN_ONLY, data={"progress": "y"}
    ),
    ("auth.unsubscribe", "GET"): Rule("/unsubscribe/{token}", expect=EVERYONE, setup=_no_such_link),
    ("auth.unsubscribe", "POST"): Rule(
        "/unsubscribe/{token}", expect=EVERYONE, setup=_no_such_link
    ),
    ("auth.export", "GET"): Rule("/account/export", expect=SIGNED_IN_ONLY),
    ("auth.sessions", "GET"): Rule("/account/sessions", expect=SIGNED_IN_ONLY),
    ("auth.end_session", "POST"): Rule(
        "/account/sessions/{session_id}/end",
        expect=expect(404, anonymous=LOGIN, author=OK),
        setup=_spare_session,
    ),
    # Staff see a page telling them to ask an admin; a post is refused. A citizen's wrong
    # password is a 422 (allowed to try, nothing deleted: the other rules keep their actors).
    ("auth.delete_account", "GET"): Rule("/account/delete", expect=SIGNED_IN_ONLY),
    ("auth.delete_account", "POST"): Rule(
        "/account/delete",
        expect=expect(403, anonymous=LOGIN, author=OK, other_citizen=OK),
        data={"current_password": "not-the-password"},
    ),
    # Signs every actor out: kept last.
    ("auth.end_all_sessions", "POST"): Rule(
        "/account/sessions/end-all", expect=SIGNED_IN_ONLY, fresh_session=True
    ),
}
