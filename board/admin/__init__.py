"""Admin pages: deadline policies, the holiday calendar and the mail outbox."""
