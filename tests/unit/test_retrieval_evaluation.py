"""Retrieval evaluation (desk.evaluation.retrieval): gold text found despite another extractor's
quotes, accents and ligatures; the benchmark's portable peak memory figure; the reports' median
and 95th percentile."""

import numpy as np
import psutil
import pytest

from desk.evaluation.benchmark import PeakMemory
from desk.evaluation.retrieval import DocumentText, _char_scores
from desk.evaluation.stats import median_p95


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


def _reset_peak() -> None:
    """Start the kernel's high-water mark afresh where it can be (Linux: clear_refs 5), so that
    memory an earlier test used and freed does not hide this test's growth."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
    except OSError:
        pass


def test_peak_memory_grows_by_a_touched_block_in_megabytes():
    _reset_peak()
    with PeakMemory() as peak:
        first = peak.mb()
        resident = psutil.Process().memory_info().rss / 2**20
        if first > resident + 16:
            pytest.skip("this platform's peak is above the current memory and cannot be reset")
        block = np.ones(64 * 2**20, dtype=np.uint8)  # every page written, so resident
        grown = peak.mb() - first
        del block
    assert 10 < first < 100_000
    assert 50 <= grown < 200  # 64 MB, in megabytes (not kB or bytes)


def test_median_and_p95_are_nearest_rank_and_rounded():
    assert median_p95([3.0, 1.0, 2.0], 1) == (2.0, 2.0)  # rank int(0.95 * 2) = 1
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert median_p95(reversed(values), 2) == (50.5, 95.0)  # rank int(0.95 * 99) = 94
    assert median_p95([1.234, 5.678], 1) == (3.5, 1.2)
    with pytest.raises(ValueError):  # statistics.StatisticsError
        median_p95([], 2)
