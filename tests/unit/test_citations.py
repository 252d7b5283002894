"""Citation parsing and verification, true and false cases."""

from desk.core.types import Hit
from desk.rag.citations import says_not_found, verify_citations
from desk.rag.prompt import Passage, build_messages, fixed_messages, select_passages

P1 = ("12.3 Termination for Convenience. Either party may terminate this Agreement for "
      "convenience upon ninety (90) days prior written notice to the other party.")
P2 = "18. Governing Law. This Agreement shall be governed by the laws of the State of Delaware."


def _passages():
    return [Passage(1, 1, "msa.pdf", 2, 2, P1, []), Passage(2, 1, "msa.pdf", 3, 4, P2, [])]


def _page(passage, quote):
    return passage.page_start


def test_exact_quote_is_verified_despite_case_and_spacing():
    text, cites, unsupported = verify_citations(
        'Either party may end it on "NINETY (90) days  prior written notice" [1].',
        _passages(), _page)
    assert [(c.n, c.file, c.page, c.verified) for c in cites] == [(1, "msa.pdf", 2, True)]
    assert cites[0].quote == "NINETY (90) days  prior written notice"
    assert unsupported == [] and text.endswith("[1].")


def test_near_verbatim_long_quote_is_replaced_by_the_sources_exact_words():
    text, cites, _ = verify_citations(
        'Yes. "Each party may terminate this Agreement for convenience upon ninety (90) days '
        'written notice" [1].', _passages(), _page)
    exact = ("Either party may terminate this Agreement for convenience upon ninety (90) days "
             "prior written notice")
    assert f'"{exact}" [1]' in text
    assert [(c.n, c.verified, c.quote) for c in cites] == [(1, True, exact)]


def test_loosely_matching_quote_is_not_repaired():
    text, cites, _ = verify_citations(
        '"Either party may end the contract at will with ninety days notice to the customer" '
        '[1].', _passages(), _page)
    assert "at will" in text and not cites[0].verified


def test_invented_quote_is_not_verified_and_says_why():
    _, cites, _ = verify_citations('Notice is "thirty (30) days" [1].', _passages(), _page)
    assert not cites[0].verified and "do not occur" in cites[0].reason


def test_verbatim_quote_under_the_wrong_number_points_to_the_source_that_has_it():
    text, cites, _ = verify_citations('The law is "the laws of the State of Delaware" [1].',
                                      _passages(), _page)
    assert [(c.n, c.verified) for c in cites] == [(2, True)]
    assert "cited as [1]" in cites[0].reason and text.endswith("Delaware\" [2].")


def test_wrong_number_is_flagged_when_the_right_source_is_ambiguous():
    twice = _passages() + [Passage(3, 2, "sow.pdf", 1, 1, P2, [])]
    _, cites, _ = verify_citations('The law is "the laws of the State of Delaware" [1].',
                                   twice, _page)
    assert not cites[0].verified and "source [2]" in cites[0].reason


def test_a_statement_under_the_wrong_number_points_to_the_one_source_that_has_it():
    question = "What is the notice period to terminate for convenience?"
    text, cites, _ = verify_citations("Ninety (90) days [2].", _passages(), _page, question)
    assert [(c.n, c.verified) for c in cites] == [(1, True)]
    assert "the statement is in [1]" in cites[0].reason and text == "Ninety (90) days [1]."
    text, cites, _ = verify_citations(
        "Either party may terminate this Agreement for convenience upon ninety (90) days [2]",
        _passages(), _page)
    assert [(c.n, c.verified) for c in cites] == [(1, True)]
    assert "the sentence is in [1]" in cites[0].reason
    # Two other sources with the statement: which one was meant is unknown, so it stays wrong.
    twice = _passages() + [Passage(3, 2, "sow.pdf", 1, 1, "Payment within ninety (90) days.", [])]
    _, cites, _ = verify_citations("Ninety (90) days [2].", twice, _page, question)
    assert [(c.n, c.verified) for c in cites] == [(2, False)]


def test_paraphrase_checked_by_content_words_and_bad_numbers_rejected():
    _, cites, _ = verify_citations("The agreement is governed by the laws of Delaware [2]. "
                                   "The supplier must buy insurance from Lloyd's [1]. "
                                   "See also [7].", _passages(), _page)
    assert [c.verified for c in cites] == [True, False, False]
    assert "no source [7]" in cites[2].reason


def test_words_repeated_from_the_question_are_not_claims_but_numbers_must_match():
    question = "What is the required notice period under this contract?"
    _, cites, _ = verify_citations("The required notice period under this contract is ninety "
                                   "days [1]. The notice period is 60 days [1].",
                                   _passages(), _page, question)
    assert cites[0].verified
    assert not cites[1].verified and "60 does not appear" in cites[1].reason
    # Without the question the same restatement is mostly words the source does not have.
    _, cites, _ = verify_citations("The required notice period under this contract is ninety "
                                   "days [1].", _passages(), _page)
    assert not cites[0].verified


def test_uncited_sentences_are_attributed_or_marked():
    text, cites, unsupported = verify_citations(
        "Either party may terminate this Agreement for convenience upon ninety (90) days prior "
        "written notice to the other party. The moon is made of cheese.", _passages(), _page)
    assert [(c.n, c.verified) for c in cites] == [(1, True)]
    assert "[1]" in text
    assert unsupported == ["The moon is made of cheese."]


def test_a_terse_uncited_answer_is_attributed_only_to_the_one_source_with_those_words():
    text, cites, _ = verify_citations("ninety (90) days", _passages(), _page)
    assert text == "ninety (90) days [1]" and cites[0].verified
    twice = _passages() + [Passage(3, 2, "sow.pdf", 1, 1, "Payment within ninety (90) days.", [])]
    _, cites, unsupported = verify_citations("ninety (90) days", twice, _page)
    assert cites == [] and unsupported == ["ninety (90) days"]


def test_not_found_phrases():
    assert says_not_found("NOT FOUND")
    assert says_not_found("The documents do not contain a warranty period.")
    assert says_not_found("The audit rights are not explicitly stated in the given sources.")
    assert not says_not_found('The term is "three (3) years" [1].')


def _hit(cid, page, start, end, text):
    return Hit(cid, 1, "msa.pdf", page, page, start, end, text, 1.0)


def test_overlapping_hits_merge_and_budget_is_respected():
    text = "abcdefghij" * 10
    hits = [_hit(1, 2, 0, 60, text[:60]), _hit(2, 2, 40, 100, text[40:100]),
            _hit(3, 5, 0, 50, "x" * 50), _hit(4, 9, 0, 400, "y " * 200)]
    passages = select_passages(hits, token_budget=60, count_tokens=lambda s: len(s) // 4)
    assert passages[0].text == text and passages[0].n == 1
    assert [p.page_start for p in passages] == [2, 5]  # the large passage no longer fits


def test_messages_have_fixed_prefix_history_and_numbered_sources():
    messages = build_messages("When can it be terminated?", _passages(), [("Q1", "A1")])
    fixed = fixed_messages()
    assert messages[:len(fixed)] == fixed and fixed[0]["role"] == "system"
    assert fixed[-1]["role"] == "assistant"  # the worked examples end with an answer
    assert [m["content"] for m in messages[len(fixed):len(fixed) + 2]] == ["Q1", "A1"]
    assert messages[-1]["content"].startswith("Sources, all from msa.pdf:\n[1] p. 2:\n")
    assert "[2] pp. 3-4:" in messages[-1]["content"]
    two_files = _passages() + [Passage(3, 2, "sow.pdf", 1, 1, "Fees are fixed.", [])]
    content = build_messages("Fees?", two_files, [])[-1]["content"]
    assert "[1] msa.pdf, p. 2:" in content and "[3] sow.pdf, p. 1:" in content


def test_quote_boxes_cover_exactly_the_quoted_words(tmp_path):
    from desk.ingest.pdf import read_pdf
    from desk.rag.highlight import quote_boxes
    from tests.pdfs import CONTRACT_PAGES, make_pdf

    page = read_pdf(make_pdf(tmp_path / "a.pdf", CONTRACT_PAGES)).pages[1]
    boxes = quote_boxes(page, "upon NINETY (90) days prior written notice")
    assert len(boxes) == 7
    assert all(x1 > x0 and y1 > y0 for x0, y0, x1, y1 in boxes)
    assert quote_boxes(page, "ninety (90) months") == []


def test_copied_sentence_is_the_quote_not_a_short_defined_term_inside_it():
    passage = Passage(1, 1, "a.pdf", 1, 1, 'The term shall continue for three (3) years '
                      '(the "Term") unless terminated earlier.', [])
    _, cites, _ = verify_citations('The term shall continue for three (3) years (the "Term") '
                                   "unless terminated earlier. [1]", [passage], _page)
    assert cites[0].verified and cites[0].quote.startswith("The term shall continue")
    _, cites, _ = verify_citations('Payment is due in "Term" [1].', [passage], _page)
    assert not cites[0].verified


OPINION = ("The Court of Appeals relied on Grutter v. Bollinger, 539 U. S. 306 (2003), and held "
           "that the admissions plan was narrowly tailored to its compelling interest.")


def test_an_authority_named_in_the_answer_must_be_cited_by_the_source():
    passages = [Passage(1, 1, "opinion.pdf", 4, 4, OPINION, [])]
    _, cites, _ = verify_citations(
        'The court relied on Grutter, 539 U.S. 306: "the admissions plan was narrowly '
        'tailored" [1].', passages, _page)
    assert [(c.verified, c.reason) for c in cites] == [(True, "")]
    _, cites, _ = verify_citations(
        'The court relied on 631 F.3d 213: "the admissions plan was narrowly tailored" [1].',
        passages, _page)
    assert [(c.verified, c.reason) for c in cites] == [
        (False, "source [1] does not cite 631 F.3d 213")]
