"""The review table: every document of a matter against the terms a lawyer checks."""
