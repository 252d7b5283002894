"""Typed, versioned settings; where data lives; the fingerprint that says how an index was built."""
