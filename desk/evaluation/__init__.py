"""Measuring Desk end to end on a set of documents and questions: retrieval quality (retrieval),
answer quality and time to first token (answers), indexing and search speed (benchmark). It sits
above ingest, index and rag, which it drives."""
