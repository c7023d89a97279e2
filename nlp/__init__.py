"""Theme classification and redaction of free-text answers (spaCy)."""
