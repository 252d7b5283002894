"""Tokenising and folding (desk.core.text): the FTS5 index's own terms for queries, a harder
fold for comparing texts, offsets kept."""

import sqlite3

import pytest

from desk.core.text import (
    FTS_TOKENIZER,
    content_words,
    fold,
    index_tokens,
    letters_digits,
    letters_digits_offsets,
    token_spans,
    tokens,
)
from desk.core.types import Chunk
from desk.index.catalog import Catalog
from desk.index.query import parse_query


def test_diacritics_are_removed_precomposed_or_not():
    assert tokens("Naïve café, ÅNGSTRÖM Ñandú") == ["naive", "cafe", "angstrom", "nandu"]
    assert tokens("cafe\u0301 nai\u0308ve") == ["cafe", "naive"]  # e + combining acute
    assert fold("Señor") == "senor"


def test_ligatures_and_compatibility_characters_decompose():
    assert tokens("the ﬁnal ﬂoor") == ["the", "final", "floor"]
    assert tokens("x² ①") == ["x2", "1"]
    assert tokens("İstanbul STRASSE Straße") == ["istanbul", "strasse", "strasse"]


def test_curly_quotes_and_apostrophes_separate_tokens():
    assert tokens("“Confidential Information” means ‘Data’") == [
        "confidential", "information", "means", "data"]
    assert tokens("the Licensee’s rights") == tokens("the Licensee's rights") == [
        "the", "licensee", "s", "rights"]


def test_hyphens_and_dashes_split_words():
    for dash in "-\u2010\u2011\u2013\u2014\u00ad":
        assert tokens(f"non{dash}compete") == ["non", "compete"]
    assert tokens("snake_case") == ["snake", "case"]


def test_digits_are_tokens_and_identifiers_split_at_punctuation():
    assert tokens("2:21-cv-01234, § 1983, Section 12.3(a), $1,500.00") == [
        "2", "21", "cv", "01234", "1983", "section", "12", "3", "a", "1", "500", "00"]


def fts5_terms(text):
    """The terms a real FTS5 table with the catalog's tokenizer indexes for `text`, in order."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize='unicode61 remove_diacritics 2')")
    db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
    db.execute("INSERT INTO t(x) VALUES (?)", (text,))
    return [r[0] for r in db.execute("SELECT term FROM v ORDER BY offset")]


# Texts on which both folds agree with the index...
PLAIN = [
    "Naïve café — “Confidential” ‘x’", "cafe\u0301 nai\u0308ve", "non-compete well\u2011known",
    "2:21-cv-01234 § 1983 12.3", "İstanbul ΣΟΦΟΣ ς", "日本語 テキスト", "don't it’s",
    "Ø ø Æ œ Ł ł đ", "foo_bar x—y", "Ünïcödé 42nd",
]
# ... and ones where only `index_tokens` does: no casefold of ß, no compatibility decomposition,
# accents kept off Latin letters, no NFD of Hangul.
INDEX_ONLY = [
    "Straße STRAẞE Straßenbau STRASSE", "２０２４ Ｆｕｌｌ－ｗｉｄｔｈ ＡＢＣ", "x² ½ ① Ⅻ", "the ﬁnal ﬂoor ﬀ",
    "Ωμέγα Ἀθῆναι ΐ", "σοφός ΣΟΦΟΣ", "µ ſ K Å", "한국어 법률", "ｶﾀｶﾅ ﾊﾟ", "हिन्दी",
    "“Straße” ‘２０２４’ „Vertrag“ «clause»",
]


@pytest.mark.parametrize("text", PLAIN + INDEX_ONLY)
def test_tokens_are_those_of_the_fts5_index(text):
    assert index_tokens(text) == fts5_terms(text)


def test_ascii_index_tokens_are_those_of_the_fts5_index():
    text = "".join(f"Ab{chr(c)}9z " for c in range(128))
    assert index_tokens(text) == fts5_terms(text)
    assert index_tokens("Café ASCII") == fts5_terms("Café ASCII")  # the non-ASCII path


@pytest.mark.parametrize("text", PLAIN)
def test_comparing_tokens_agree_with_the_index_on_plain_text(text):
    assert tokens(text) == fts5_terms(text)


def test_comparing_tokens_fold_further_than_the_index():
    text = "Straße ２０２４ x² ﬁnal Ωμέγα"
    assert tokens(text) == ["strasse", "2024", "x2", "final", "ωμεγα"]
    assert index_tokens(text) == ["straße", "２０２４", "x²", "ﬁnal", "ωμέγα"]


def test_the_catalog_indexes_with_this_tokenizer(tmp_path):
    catalog = Catalog(tmp_path / "catalog.db")
    tables = dict(catalog.db.execute(
        "SELECT name, sql FROM sqlite_master WHERE name IN ('chunks_fts', 'documents_fts')"))
    catalog.close()
    assert len(tables) == 2
    assert all(f"tokenize='{FTS_TOKENIZER}'" in sql for sql in tables.values())


def test_a_real_catalog_finds_sharp_s_and_full_width_digits_by_keyword(tmp_path):
    catalog = Catalog(tmp_path / "catalog.db")
    with catalog.transaction() as db:
        road = catalog.add_document(db, "Bauvertrag.pdf", str(tmp_path / "Bauvertrag.pdf"),
                                    "0" * 64, [], "Bauvertrag Straße Straßenbau ２０２４")
        lease = catalog.add_document(db, "Lease.pdf", str(tmp_path / "Lease.pdf"), "1" * 64, [],
                                     "Lease agreement Harbor Properties")
        catalog.add_chunks(db, [
            Chunk(road, 1, 1, 0, 70, "Die Straße wird im Jahr ２０２４ gebaut; der Straßenbau "
                                     "kostet x² Euro."),
            Chunk(lease, 1, 1, 0, 40, "The tenant pays rent for the street."),
        ])
    road_chunk = catalog.chunk_ids(road)
    try:
        for question in ["Straße", "straßenbau", "２０２４", "STRAẞE", "x²",
                         "Was kostet die Straße im Jahr ２０２４?"]:
            parsed = parse_query(question)
            hits = catalog.keyword_search(parsed.terms_query, 5)
            assert [i for i, _ in hits] == road_chunk, question
        for word in ["Straße", "straßenbau", "２０２４"]:
            assert catalog.document_frequencies(parse_query(word).terms) == {
                index_tokens(word)[0]: 1}
            assert [d for d, _ in catalog.document_search(parse_query(word).terms_query, 2)] == [
                road]
        quoted = parse_query('Was gilt für "die Straße wird im Jahr ２０２４"?')
        assert quoted.phrases == ["die straße wird im jahr ２０２４"]
        assert [i for i, _ in catalog.keyword_search(quoted.phrases_query, 5)] == road_chunk
    finally:
        catalog.close()


def test_spans_point_at_each_token_in_the_original_text():
    text = "“Naïve” ﬁnal—cafe\u0301 x² 12.3"
    spans = token_spans(text)
    assert [text[a:b] for a, b in spans] == ["Naïve", "ﬁnal", "cafe\u0301", "x²", "12", "3"]
    assert [tokens(text[a:b]) for a, b in spans] == [[t] for t in tokens(text)]
    assert token_spans("plain ascii") == [(0, 5), (6, 11)]
    assert token_spans("") == token_spans("— ’") == []


def test_letters_digits_and_their_offsets_agree():
    text = "“Naïve” ﬁnal—Straße 12.3"
    squashed = letters_digits(text)
    assert squashed == "naivefinalstrasse123"
    offsets = letters_digits_offsets(text)
    assert len(offsets) == len(text) + 1 and offsets[-1] == len(squashed)
    start = text.index("ﬁnal")
    assert squashed[offsets[start]:offsets[start + 4]] == "final"


def test_content_words_drop_stopwords_and_single_characters():
    assert content_words(tokens("What is the notice period under clause 5 (a)?")) == [
        "notice", "period", "clause"]
