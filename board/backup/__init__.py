"""Backup and restore: one checked archive of the database and the attachment files."""
