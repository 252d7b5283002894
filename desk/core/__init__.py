"""Plain data types, errors and progress primitives shared by every layer (no Qt, no heavy imports)."""
