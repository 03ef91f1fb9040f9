"""Attachments of a message: images re-encoded without metadata, PDFs as documents (DESIGN §3.1)."""
