"""Catalog (SQLite), lexical index (FTS5), embedders, vector store (hnswlib), hybrid retriever."""
