"""The archive: every post seen, published or imported, kept as a record (issue 14)."""
