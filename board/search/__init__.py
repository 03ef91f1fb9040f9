"""Public full-text search: Whoosh with jieba, fed from an outbox written in the same transaction."""
