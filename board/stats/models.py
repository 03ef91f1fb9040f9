"""Indexes the open-data queries need on tables defined elsewhere (created with the schema).

- `ix_message_replied_at`: the home page's latest replies and the replies feed order by
  `replied_at`; without it each home page sorts every replied message.
- `ix_message_stats`: every figure filters public cases (visibility, hidden, state) and then
  reads only these narrow columns; with all of them in one index the database scans the index
  instead of the wide message rows (titles and bodies), several times less data per figure.
- `ix_cosign_created_at`: "most co-signed this month" reads only this month's co-signs.
"""

from sqlalchemy import Index

from ..models import Cosign, Message

INDEXES = (
    Index("ix_message_replied_at", Message.replied_at),
    Index(
        "ix_message_stats",
        Message.visibility,
        Message.is_hidden,
        Message.state,
        Message.region_path,
        Message.board_id,
        Message.unit_id,
        Message.kind,
        Message.domain,
        Message.published_at,
        Message.created_at,
        Message.replied_at,
    ),
    Index("ix_cosign_created_at", Cosign.created_at),
)
