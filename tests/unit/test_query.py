from desk.index.query import parse_query, split_clauses


def test_identifiers_and_quoted_terms_become_phrases():
    q = parse_query('Under Section 12.3, what does "Confidential Information" mean in 2:21-cv-01234 '
                    "and § 1983?")
    assert "section 12 3" in q.phrases
    assert "confidential information" in q.phrases
    assert "2 21 cv 01234" in q.phrases
    assert "1983" in q.phrases
    assert "what" not in q.terms and "section" in q.terms


def test_plain_question_has_no_phrases_and_safe_fts_syntax():
    q = parse_query("Who may terminate (and when) -- NOT OR AND?")
    assert q.phrases == []
    assert all(t.isalnum() for t in q.terms)
    assert q.terms_query.count('"') == 2 * len(q.terms)


def test_split_clauses():
    parts = split_clauses("Consider the Supply Agreement between A and B; Who pays for shipping?")
    assert parts == ["Consider the Supply Agreement between A and B", "Who pays for shipping?"]
