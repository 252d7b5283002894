from desk.ingest.chunker import chunk_pages


def _pages():
    para = "The Supplier shall deliver the goods. " * 20
    return [para + "\n\n" + "Payment is due within thirty days. " * 10,
            "", "Governing law is Delaware. " * 30]


def test_chunks_respect_size_and_map_back_to_page_text():
    pages = _pages()
    chunks = chunk_pages(7, pages, size=300, overlap=60)
    assert chunks
    for c in chunks:
        assert c.doc_id == 7
        assert len(c.text) <= 300
        if c.page_start == c.page_end:
            assert pages[c.page_start - 1][c.char_start:c.char_end] == c.text
        else:
            assert c.text.startswith(pages[c.page_start - 1][c.char_start:])
            assert c.text.endswith(pages[c.page_end - 1][:c.char_end])


def test_overlap_repeats_text_between_neighbours():
    chunks = chunk_pages(1, _pages(), size=300, overlap=80)
    same_page = [(a, b) for a, b in zip(chunks, chunks[1:]) if a.page_end == b.page_start]
    assert any(b.char_start < a.char_end for a, b in same_page)


def test_empty_page_gets_no_chunk_and_pages_are_one_based():
    chunks = chunk_pages(1, _pages(), size=300, overlap=0)
    assert {c.page_start for c in chunks} <= {1, 3}
    assert min(c.page_start for c in chunks) == 1
    assert max(c.page_end for c in chunks) == 3


def test_short_document_is_one_chunk_and_chunks_may_cross_pages():
    chunks = chunk_pages(1, ["Short first page.", "Short second page."], size=500, overlap=100)
    assert len(chunks) == 1
    assert (chunks[0].page_start, chunks[0].page_end) == (1, 2)
    assert chunks[0].char_start == 0 and chunks[0].char_end == len("Short second page.")


def test_unbroken_text_is_split_hard():
    chunks = chunk_pages(1, ["x" * 1200], size=500, overlap=0)
    assert [len(c.text) for c in chunks] == [500, 500, 200]
