"""PDF reading, page-aware chunking, and import jobs that yield progress."""
