"""Staff search (案件检索): handlers, coordinators and moderators search their own scope."""
