"""Retrieval evaluation (desk.evaluation.retrieval): gold text found despite another extractor's
quotes, accents and ligatures; and the benchmark's portable peak memory figure."""

from desk.evaluation.benchmark import PeakMemory
from desk.evaluation.retrieval import DocumentText, _char_scores


def test_gold_text_is_located_across_extractors():
    pages = ["Intro page.", "The “Licensee” shall pay the ﬁnal fee—see Section 12.3 (naïve)."]
    text = DocumentText(pages)
    span = text.locate('the Licensee shall pay the final fee - see section 12.3 (naive)')
    assert span is not None
    start, end = span
    page_2 = pages[1]
    # The span is in letter-and-digit offsets; page offsets map onto the same scale.
    assert text.offset(2, page_2.index("The")) == start
    assert text.offset(2, len(page_2)) == end
    assert text.locate("nothing like this") is None


def test_char_scores_measure_overlap_in_folded_letters():
    pages = ["Café terms. The ﬁnal fee is due."]
    text = DocumentText(pages)
    gold_span = text.locate("the final fee is due")
    assert gold_span is not None

    class Hit:  # only the fields _char_scores reads
        doc_id, page_start, page_end = 1, 1, 1
        char_start, char_end = pages[0].index("The"), len(pages[0])

    recall, precision = _char_scores([(1, [1], gold_span)], [Hit()], lambda _: text)
    assert recall == 1.0 and precision == 1.0


def test_peak_memory_is_reported_in_megabytes():
    with PeakMemory() as peak:
        first = peak.mb()
        block = bytearray(64 * 2**20)
        block[::4096] = b"x" * len(block[::4096])  # touch every page so it is resident
        assert peak.mb() >= first
    assert 10 < first < 100_000
