"""Ingestion: bytes from a source -> decoded text -> a ParsedListing. Pure, no database."""
