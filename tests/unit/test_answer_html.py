"""The answer view's HTML, without Qt: what a verified, an unverified and a missing citation,
a draft under "not found" and a streaming answer look like."""

import subprocess
import sys

from desk.rag.turns import NOT_FOUND_TEXT, UNKNOWN_REASON, UNVERIFIED_DRAFT
from desk.ui.answer_html import EMPTY, NOT_FOUND, citation_at, citation_tooltip, render_conversation

VERIFIED = {"n": 1, "file": "MSA.pdf", "page": 2, "quote": "ninety (90) days", "verified": True,
            "reason": ""}
UNVERIFIED = {"n": 2, "file": "MSA.pdf", "page": 3, "quote": "forty-five (45) weeks",
              "verified": False, "reason": "the quoted words do not occur in source [2]"}


def answer(text: str, citations: list, found: bool = True, draft: str | None = None) -> dict:
    return {"answer": text, "found": found, "draft": draft, "citations": citations,
            "unsupported": [], "timings": {}}


def test_verified_citation_is_an_ok_link_with_its_source_line():
    html = render_conversation([("Notice?", answer('It is "ninety (90) days" [1].', [VERIFIED]))])
    assert "<p class='q'>Q: Notice?</p>" in html
    assert ("<p>It is &quot;ninety (90) days&quot; "
            "<a class='ok' href='cite:0:1'>[1]</a>.</p>") in html
    assert ("<p class='src'><br>[1] MSA.pdf, p. 2 "
            "<span style='color:#1a7f37'>✓ verified</span></p>") in html


def test_unverified_citation_is_a_bad_link_with_the_reason():
    turns = [("Q1", answer("x [1]", [VERIFIED])),
             ("Q2", answer("Yes [1]; weeks [2].", [VERIFIED, UNVERIFIED]))]
    html = render_conversation(turns)
    assert "<a class='bad' href='cite:1:2'>[2]</a>" in html  # numbered by its turn
    assert "<a class='ok' href='cite:1:1'>[1]</a>" in html
    assert ("[2] MSA.pdf, p. 3 <span style='color:#b42318'>(unverified: "
            "the quoted words do not occur in source [2])</span>") in html


def test_two_quotes_of_one_page_under_one_number_make_one_source_line():
    second = {**VERIFIED, "quote": "prior written notice"}
    html = render_conversation([("Q", answer("a [1] b [1].", [VERIFIED, second]))])
    assert html.count("[1] MSA.pdf, p. 2 <span") == 1
    assert html.count("href='cite:0:1'") == 2


def test_unverified_citation_without_a_reason_says_so():
    citation = {**UNVERIFIED, "reason": ""}
    html = render_conversation([("Q", answer("w [2]", [citation]))])
    assert f"(unverified: {UNKNOWN_REASON})" in html


def test_draft_is_shown_under_not_found_marked_with_its_links():
    draft = 'Notice is "forty-five (45) weeks" [2].'
    html = render_conversation([("Q", answer(NOT_FOUND_TEXT, [UNVERIFIED], found=False,
                                             draft=draft))])
    assert (f"<p class='q'>Q: Q</p>{NOT_FOUND}<p class='nf'>{UNVERIFIED_DRAFT}</p>"
            "<blockquote style='color:#667085'><p>Notice is &quot;forty-five (45) weeks&quot; "
            "<a class='bad' href='cite:0:2'>[2]</a>.</p>") in html
    assert html.endswith("</span></p></blockquote>")


def test_not_found_without_a_draft_is_only_the_verdict():
    html = render_conversation([("Q", answer(NOT_FOUND_TEXT, [], found=False))])
    assert html.endswith(f"<p class='q'>Q: Q</p>{NOT_FOUND}")
    assert NOT_FOUND_TEXT not in html  # the model's sentence is replaced by the verdict


def test_pending_answer_is_escaped_text_and_an_ellipsis_before_the_first_piece():
    pending = {"answer": 'a <b> & "c" [1]', "found": True, "citations": [], "pending": True}
    html = render_conversation([("Q<1>", pending), ("Q2", {**pending, "answer": ""})])
    assert "<p class='q'>Q: Q&lt;1&gt;</p><p>a &lt;b&gt; &amp; &quot;c&quot; [1]</p>" in html
    assert html.endswith("<p class='q'>Q: Q2</p><p>…</p>")


def test_a_mark_with_no_citation_stays_plain_and_lists_split():
    html = render_conversation([("Q", answer("See [1, 3] and [4].", [VERIFIED]))])
    assert "<p>See <a class='ok' href='cite:0:1'>[1]</a>[3] and [4].</p>" in html
    assert "href='cite:0:3'" not in html and "href='cite:0:4'" not in html


def test_newlines_become_breaks_and_empty_conversation_shows_the_hint():
    html = render_conversation([("Q", answer("one\ntwo", []))])
    assert "<p>one<br>two</p><p class='src'></p>" in html
    assert render_conversation([]).endswith(EMPTY)


def test_citation_at_resolves_links_and_the_tooltip_says_why():
    turns = [("Q", answer("x [1] [2]", [VERIFIED, UNVERIFIED]))]
    assert citation_at(turns, "cite:0:2") == UNVERIFIED
    assert citation_at(turns, "cite:0:9") is None
    assert citation_at(turns, "cite:5:1") is None
    assert citation_at(turns, "https://example.com") is None
    assert citation_tooltip(VERIFIED) == "MSA.pdf, page 2\nVerified: the quote is on this page."
    assert citation_tooltip(UNVERIFIED) == ("MSA.pdf, page 3\nNot verified: the quoted words do "
                                            "not occur in source [2].")


def test_renderer_imports_without_qt():
    code = ("import sys\n"
            "class Block:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name.split('.')[0] in ('PySide6', 'shiboken6'):\n"
            "            raise ImportError('Qt imported: ' + name)\n"
            "sys.meta_path.insert(0, Block())\n"
            "import desk.ui.answer_html\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
