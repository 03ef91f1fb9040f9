"""The core workflow services, end to end through the real transaction code."""

from conftest import T0

from board.models import State, Visibility


def test_message_goes_from_submission_to_closed(make_message):
    """submit → approve → assign → accept → reply → sign-off → rate, an event per step."""
    m = make_message("closed")
    assert m.state == State.CLOSED
    assert m.visibility == Visibility.PUBLIC
    assert [e.action for e in m.events] == [
        "submit",
        "approve",
        "assign",
        "accept",
        "reply",
        "sign_off",
        "rate",
    ]
    assert m.rating.satisfaction_label == "很满意"
    assert m.code.startswith(f"MS-{T0.year}-")
