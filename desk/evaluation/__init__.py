"""Measuring Desk end to end on a set of documents and questions: retrieval quality, indexing
and search speed. It sits above ingest, index and rag, which it drives."""
