"""Tokenising and folding (desk.core.text): the same tokens as the FTS5 index, offsets kept."""

import sqlite3

import pytest

from desk.core.text import (
    content_words,
    fold,
    letters_digits,
    letters_digits_offsets,
    token_spans,
    tokens,
)


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


@pytest.mark.parametrize("text", [
    "Naïve café — “Confidential” ‘x’", "cafe\u0301 nai\u0308ve", "non-compete well\u2011known",
    "2:21-cv-01234 § 1983 12.3", "İstanbul ΣΟΦΟΣ ς", "日本語 テキスト", "don't it’s",
    "Ø ø Æ œ Ł ł đ", "foo_bar x—y", "Ünïcödé 42nd",
])
def test_tokens_are_those_of_the_fts5_index(text):
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize='unicode61 remove_diacritics 2')")
    db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
    db.execute("INSERT INTO t(x) VALUES (?)", (text,))
    indexed = [r[0] for r in db.execute("SELECT term FROM v ORDER BY offset")]
    assert tokens(text) == indexed


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
