"""Delivery: MIME messages, mailers (Maildir, SMTP, memory) and the retry policy."""
