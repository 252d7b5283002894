"""Legal citations (cases, statutes, regulations, rules) in page texts and in search queries.

Every citation gets a canonical key, the same however it was printed or typed ("539 U. S. 306",
"539 US 306" and "539 U.\\nS. 306" are all "539 U.S. 306"), so the index, the table of
authorities and a query meet on one string. Cases, journals and state laws come from eyecite;
federal statutes, regulations, court rules and the Constitution from regexes of our own,
because eyecite misses "42 USC 1983", "§ 78j(b)", "§ 2000e-2", "29 CFR 1630.2" and "Fed. R.".

Keys (decisions):
* case: "<volume> <canonical reporter> <page>" ("631 F.3d 213"); a page left blank in a slip
  opinion is "___".
* statute: "42 U.S.C. § 1983": one space after "§", subsections out of the key and in `pin`
  ("§ 1983(a)" is key "42 U.S.C. § 1983", pin "(a)"), because the table of authorities lists the
  section; a range ("§§ 1981-1983") is keyed by its first section, and each section of a list
  ("§§ 1981, 1983, and 1985(3)") is its own citation. Section letters are
  upper case in title 26 (the Internal Revenue Code writes "409A") and lower case elsewhere
  ("78j", "2000e-2"), so a query typed in either case finds them. "I.R.C. § 409A" is
  "26 U.S.C. § 409A". "Id. § 1988" after "42 U.S.C. § 1983" is "42 U.S.C. § 1988".
* regulation: "29 C.F.R. § 1630.2" (subsections in `pin`), a whole part "29 C.F.R. pt. 1630",
  "Treas. Reg. § 1.409A-1", "82 FR 12345".
* other: court rules ("Fed. R. Civ. P. 12", "Fed. R. Evid. 702", rule subdivisions in `pin`),
  the Constitution ("U.S. Const. art. I, § 8", "U.S. Const. amend. XIV"), law journals
  ("100 Harv. L. Rev. 1") and the rest of eyecite's laws.
State statutes keep eyecite's matched text with whitespace and "Sec."/"Section" normalised
("Cal. Civ. Code § 1542"; eyecite's own correction drops the "Civ."), so a query must spell
them as the document does, capitals included (eyecite is case-sensitive).

Case citations that look like contract numbering ("10 A. 5 units") are dropped unless plausible
(the rule is in `_find`).

Speed: eyecite runs page by page (its cost grows faster than the text), and resolution of short
forms, Id. and supra runs once over the whole document; the court lookup is cached; a stricter
pre-filter only runs a reporter's regex when the reporter follows a digit. Thread safety: the
only shared state is built once under a lock (the tokenizer, the reporter table, the cached
court lookup) and is read-only afterwards.
"""

from __future__ import annotations

import functools
import logging
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # eyecite is imported on first use: importing it takes ~0.4 s
    from eyecite.models import CitationBase
    from eyecite.tokenizers import Tokenizer

log = logging.getLogger(__name__)

CASE, STATUTE, REGULATION, OTHER = "case", "statute", "regulation", "other"
FULL, SHORT, ID, SUPRA = "full", "short", "id", "supra"
OWN = "own"  # the document's own citation ("Cite as: 570 U. S. ____"): searchable, not cited
# Bumped whenever keys, forms or names change: a matter's documents read by an older finder are
# read again (from their stored text) at its next import or opening.
FINDER_VERSION = 2
BLANK_PAGE = "___"  # the page of a case not yet paginated in the reporter: "567 U.S. ___"


@dataclass(frozen=True)
class Citation:
    """One citation on one page: what it cites (`key`, a full citation) and where it is."""

    kind: str  # CASE | STATUTE | REGULATION | OTHER (court rules, the Constitution, journals)
    key: str  # the canonical full citation it is or points to: "539 U.S. 306"
    form: str  # FULL | SHORT | ID | SUPRA
    start: int  # span in the page text as given (raw, not cleaned)
    end: int
    name: str = ""  # case name where known; short forms, Id. and supra get their case's name
    pin: str = ""  # pin cite ("230", without "at"), or a subsection ("(a)(1)")
    year: int | None = None
    parallel: str = ""  # a parallel citation's case's first citation ("129 S. Ct. 1937" after
    # "556 U.S. 662, 678,"): a table of authorities lists them as one entry


# ---------------------------------------------------------------------------------------------
# Whitespace: eyecite finds no citation with a line break, a tab, a non-breaking or a double
# space between volume, reporter and page, so each page is collapsed first, keeping a map back
# to the raw offsets.

_SPACE = re.compile(  # each alternative starts with the character it consumes, for speed
    r"(?P<hyphen>-(?<=[a-z]-)[ \t]*\n\s*(?=[a-z]))"  # "Bol-\nlinger": hyphen and break go
    r"|(?P<join>[-–](?<=\w[-–])[ \t]*\n\s*(?=\d))"  # "2000e-\n2", "1.752-\n1": the break goes
    r"|(?P<zero>\u00ad[ \t]*\n\s*(?=\w)|[\u00ad\u200b\u2060\ufeff]+)"  # soft hyphens (with
    # the line break after one: "Mon\u00ad\ntana"), zero widths go
    # any other run is one space (a single space already is: not matched)
    r"|(?P<space>(?! (?![\s\u00ad\u200b\u2060\ufeff]))\s[\s\u00ad\u200b\u2060\ufeff]*)")


def _collapse(text: str) -> tuple[str, list[int]]:
    """`text` with whitespace runs as one space, and `offsets`: clean[i] is text[offsets[i]]
    (one entry more than the clean text, for end positions)."""
    out: list[str] = []
    offsets: list[int] = []
    pos = 0
    for m in _SPACE.finditer(text):
        out.append(text[pos:m.start()])
        offsets.extend(range(pos, m.start()))
        if m.lastgroup == "space":
            out.append(" ")
            offsets.append(m.start())
        elif m.lastgroup == "join":  # the dash stays
            out.append(m.group()[0])
            offsets.append(m.start())
        pos = m.end()
    out.append(text[pos:])
    offsets.extend(range(pos, len(text)))
    offsets.append(len(text))
    return "".join(out), offsets


def _ws(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------------------------------------
# Our own regexes: federal statutes, regulations, court rules, the Constitution. They run on
# collapsed text (single spaces) and on queries, case-insensitively.

_MARK = r"(?:§§?|sec(?:tion)?s?\b\.?)"
_LETTERS = r"(?:[a-z]{1,3}(?![a-z]))?"
_USC_SECTION = rf"\d+{_LETTERS}(?:-\d+{_LETTERS})*"
# "1630.2", "240.10b-5", and Treasury's "301.6231(a)(3)-1", whose parentheses belong to the
# section only when a "-1" follows.
_CFR_SECTION = r"\d+(?:\.\d+[a-z]*(?:(?:\([a-z0-9]{1,4}\))*-\d+[a-z]*)*)?"
_SUB = r"(?P<sub>(?:\([a-z0-9]{1,4}\))*)"
_BEFORE = r"(?<![\w.])"

_USC = re.compile(
    rf"{_BEFORE}(?P<title>\d{{1,2}}) ?(?:U\.? ?S\.? ?C(?:\.? ?[AS])?\b\.?|U\.? ?S\.? ?Code\b)"
    rf",? ?(?:{_MARK} ?)?(?P<sec>{_USC_SECTION}){_SUB}", re.I)
_CFR = re.compile(
    rf"{_BEFORE}(?P<title>\d{{1,2}}) ?C\.? ?F\.? ?R\b\.?,? ?"
    rf"(?:(?P<part>parts?|pts?\.?) ?|{_MARK} ?)?(?P<sec>{_CFR_SECTION}){_SUB}", re.I)
_IRC = re.compile(
    rf"{_BEFORE}(?:I\.R\.C\.|IRC\b),? ?(?:{_MARK} ?)?(?P<sec>{_USC_SECTION}){_SUB}", re.I)
_TREAS = re.compile(
    rf"{_BEFORE}Treas(?:ury)?\.? ?Reg(?:ulations?|s?\.)? ?(?:§§? ?)?(?P<sec>\d+\.[\w]+(?:-\w+)*)"
    rf"{_SUB}", re.I)
_RULE_SETS = {"civ": "Fed. R. Civ. P.", "crim": "Fed. R. Crim. P.", "app": "Fed. R. App. P.",
              "bankr": "Fed. R. Bankr. P.", "evid": "Fed. R. Evid.", "frcp": "Fed. R. Civ. P.",
              "frcrp": "Fed. R. Crim. P.", "frap": "Fed. R. App. P.", "frbp": "Fed. R. Bankr. P.",
              "fre": "Fed. R. Evid."}
_RULE = re.compile(
    rf"{_BEFORE}(?:Fed(?:eral)?\.? ?R(?:ules?|\.)? ?(?:of )?(?P<set>Civ|Crim|App|Bankr|Evid)"
    r"(?:il|inal|ellate|uptcy|ence)?\.?(?: ?P(?:roc(?:edure)?)?\b\.?)?"
    r"|(?P<abbr>FRCP|FRCrP|FRAP|FRBP|FRE)\b)"
    rf" ?(?:Rule )?(?P<num>\d+(?:\.\d+)?){_SUB}", re.I)
_CONST = re.compile(
    rf"{_BEFORE}U\.? ?S\.? ?Const(?:itution|\.)?,? ?"
    r"(?:(?P<art>art(?:icles?|s?\b\.?))|amend(?:ments?|s?\b\.?))"
    r" ?(?P<num>[ivxlc]+\b|\d+\b)(?:,? ?(?:§|sec\.) ?(?P<sec>\d+))?(?:,? ?(?P<cl>cl\. ?\d+))?",
    re.I)


def _section(title: int, sec: str) -> str:
    """A section as keyed: a range keyed by its first section, letters cased by title."""
    head = sec.split("-")[0]
    if head.isdigit() and "-" in sec:  # "1981-1983" is a range; "2000e-2" is one section
        sec = head
    if title == 26:
        return re.sub(r"(?<=\d)[a-z]+", lambda m: m.group().upper(), sec.lower())
    return sec.lower()


def _roman(n: int) -> str:
    out = ""
    for value, numeral in ((100, "C"), (90, "XC"), (50, "L"), (40, "XL"), (10, "X"), (9, "IX"),
                           (5, "V"), (4, "IV"), (1, "I")):
        while n >= value:
            out += numeral
            n -= value
    return out


@dataclass
class _Law:
    start: int
    end: int
    key: str
    kind: str
    pin: str


# The further sections of a list after "§§" ("§§ 1981, 1983, and 1985(3)"): each is its own
# statute, as a table of authorities lists them. An item after a comma alone must be followed
# by punctuation, "and"/"or", "et seq." or a parenthesis; one after "and"/"or" (the last) by
# anything but another code. So "§§ 1981, 28 U.S.C. § 1331" and "§§ 1981, 12 months" add
# nothing.
def _list_items(sec: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    following = rf"(?P<sec>{sec}){_SUB}"
    return (re.compile(rf", ?{following}(?=$|[,;.:)\]]| (?:and|or|&|et seq|\())", re.I),
            re.compile(rf",? ?(?:and|or|&) {following}(?! ?(?:U\.? ?S\.? ?C|C\.? ?F\.? ?R)\b)",
                       re.I))


_USC_ITEM = _list_items(_USC_SECTION)
_CFR_ITEM = _list_items(_CFR_SECTION)


def _listed(text: str, m: re.Match[str], items: tuple[re.Pattern[str], re.Pattern[str]],
            code: str, title: int, kind: str) -> list[_Law]:
    if "§§" not in m.group() and not re.search(r"sec(?:tion)?s\b", m.group(), re.I):
        return []
    comma, last = items
    out: list[_Law] = []
    end = m.end()
    while n := comma.match(text, end) or last.match(text, end):
        out.append(_Law(n.start("sec"), n.end(), f"{code} {_section(title, n['sec'])}", kind,
                        n["sub"]))
        end = n.end()
        if n.re is last:
            break
    return out


def _own_laws(text: str) -> list[_Law]:
    """Federal statutes, regulations, rules and constitution cites in collapsed text."""
    found: list[_Law] = []
    # Each pattern runs only if its letters occur (periods and spaces aside): most pages have
    # none of them, and a regex starting with a look-behind tries every position.
    compact = re.sub(r"[\s.]", "", text).lower()
    usc, cfr, irc = "usc" in compact, "cfr" in compact, "irc" in compact
    treas, const = "treas" in compact, "const" in compact
    rules = "fed" in compact or "fr" in compact
    for m in _USC.finditer(text) if usc else ():
        title = int(m["title"])
        found.append(_Law(m.start(), m.end(), f"{title} U.S.C. § {_section(title, m['sec'])}",
                          STATUTE, m["sub"]))
        found += _listed(text, m, _USC_ITEM, f"{title} U.S.C. §", title, STATUTE)
    for m in _CFR.finditer(text) if cfr else ():
        title = int(m["title"])
        sec = _section(title, m["sec"])
        if m["part"] and "." not in sec:
            found.append(_Law(m.start(), m.end(), f"{title} C.F.R. pt. {sec}", REGULATION, ""))
        else:
            found.append(_Law(m.start(), m.end(), f"{title} C.F.R. § {sec}", REGULATION,
                              m["sub"]))
            found += _listed(text, m, _CFR_ITEM, f"{title} C.F.R. §", title, REGULATION)
    for m in _IRC.finditer(text) if irc else ():  # the Internal Revenue Code is title 26
        found.append(_Law(m.start(), m.end(), f"26 U.S.C. § {_section(26, m['sec'])}", STATUTE,
                          m["sub"]))
        found += _listed(text, m, _USC_ITEM, "26 U.S.C. §", 26, STATUTE)
    for m in _TREAS.finditer(text) if treas else ():
        found.append(_Law(m.start(), m.end(), f"Treas. Reg. § {_section(26, m['sec'])}",
                          REGULATION, m["sub"]))
    for m in _RULE.finditer(text) if rules else ():
        rule_set = _RULE_SETS[(m["set"] or m["abbr"]).lower()]
        found.append(_Law(m.start(), m.end(), f"{rule_set} {m['num']}", OTHER, m["sub"]))
    for m in _CONST.finditer(text) if const else ():
        num = m["num"].upper() if not m["num"].isdigit() else _roman(int(m["num"]))
        key = f"U.S. Const. {'art.' if m['art'] else 'amend.'} {num}"
        if m["sec"]:
            key += f", § {m['sec']}"
        found.append(_Law(m.start(), m.end(), key, OTHER, _ws(m["cl"] or "")))
    found.sort(key=lambda law: (law.start, -law.end))
    kept: list[_Law] = []
    for law in found:  # the patterns do not overlap in practice; keep the first, longest
        if not kept or law.start >= kept[-1].end:
            kept.append(law)
    return kept


# ---------------------------------------------------------------------------------------------
# The eyecite engine, built once.

_VOLUME_FIRST = "(?:^|[^a-zA-Z0-9])((?P<volume>"


@dataclass
class _Engine:
    tokenizer: Tokenizer  # the digit-gated pre-filter
    stock: Tokenizer  # eyecite's own, to check the gated one gives the same results
    reporters: dict[str, set[str]] = field(default_factory=dict)  # folded name -> editions


_engine_lock = threading.Lock()
_engine_instance: _Engine | None = None


def _fold_reporter(text: str) -> str:
    return re.sub(r"[\s.,]", "", text).lower()


def _engine() -> _Engine:
    """Import eyecite, cache its court lookup and build the tokenizer, once per process."""
    global _engine_instance
    if _engine_instance is not None:
        return _engine_instance
    with _engine_lock:
        if _engine_instance is None:
            _engine_instance = _build_engine()
    return _engine_instance


def _patch_court_lookup() -> None:
    """eyecite's court lookup folds each of ~2,000 courts' names with a regex on every call
    (~22 ms per court parenthetical: most of its time on a new opinion). Folded once here, the
    same loop gives the same answer in ~0.2 ms; the answer depends on the string alone, so it
    is cached too."""
    import eyecite.helpers

    if hasattr(eyecite.helpers.get_court_by_paren, "cache_info"):
        return
    fold = functools.partial(eyecite.helpers.re.sub, r"[^\w]", "")
    folded = [(fold(court["citation_string"]).lower(), court["id"])
              for court in eyecite.helpers.courts]

    @functools.lru_cache(maxsize=4096)
    def get_court_by_paren(paren_string: str) -> str | None:
        court_str = fold(paren_string).lower()
        court_code = None
        if court_str:
            for name, court_id in folded:
                if name == court_str:  # an exact match wins; else the last prefix match
                    return str(court_id)
                if name.startswith(court_str):
                    court_code = court_id
        return court_code

    get_court_by_paren.eyecite_original = eyecite.helpers.get_court_by_paren  # type: ignore[attr-defined]
    eyecite.helpers.get_court_by_paren = get_court_by_paren


def _patch_reference_search() -> None:
    """After each full case citation eyecite looks for "Grutter, at 330"-style references with a
    regex of the case's party names, compiled anew every time (~4 ms): half of its time on
    opinions. That regex matches a name verbatim followed by a pin cite, so unless the rest of
    the text has one of the names followed by a pin cite (checked with the pin-cite regex,
    compiled once) there is no reference; and the compiled regex depends on the names alone,
    so it is cached. Results are eyecite's own (the body below is its
    `extract_pincited_reference_citations`)."""
    import eyecite.find
    from eyecite.models import CaseReferenceToken, FullCaseCitation, ReferenceCitation
    from eyecite.regexes import PIN_CITE_REGEX, reference_pin_cite_re
    from eyecite.utils import is_valid_name

    if getattr(eyecite.find.extract_pincited_reference_citations, "_desk", False):
        return

    after_name = re.compile(rf"\s+{PIN_CITE_REGEX}", re.VERBOSE)

    def _pin_cite_follows(text: str, offset: int, name: str) -> bool:
        at = text.find(name, offset)
        while at >= 0:
            if after_name.match(text, at + len(name)):
                return True
            at = text.find(name, at + 1)
        return False

    @functools.lru_cache(maxsize=2048)
    def compiled(names: tuple[tuple[str, str], ...]) -> re.Pattern[str]:
        return re.compile(reference_pin_cite_re(
            [rf"(?P<{key}>{re.escape(value)})" for key, value in names]), re.VERBOSE)

    def extract_pincited_reference_citations(citation: FullCaseCitation, plain_text: str
                                             ) -> list[ReferenceCitation]:
        offset = citation.span()[-1]
        names = tuple((key, value) for key in ReferenceCitation.name_fields
                      if (value := getattr(citation.metadata, key, None))
                      and is_valid_name(value))
        if not any(_pin_cite_follows(plain_text, offset, value) for _, value in names):
            return []
        references = []
        for match in compiled(names).finditer(plain_text[offset:]):
            start, end = match.start() + offset, match.end() + offset
            references.append(ReferenceCitation(
                token=CaseReferenceToken(data=match.group(0), start=start, end=end),
                span_start=start, span_end=end, full_span_start=start, full_span_end=end,
                index=0, metadata=match.groupdict()))
        return references

    setattr(extract_pincited_reference_citations, "_desk", True)  # noqa: B010
    setattr(extract_pincited_reference_citations, "eyecite_original",  # noqa: B010
            eyecite.find.extract_pincited_reference_citations)
    eyecite.find.extract_pincited_reference_citations = extract_pincited_reference_citations


def _build_engine() -> _Engine:
    from collections import defaultdict

    import ahocorasick
    from eyecite.models import TokenExtractor
    from eyecite.tokenizers import EXTRACTORS, AhocorasickTokenizer, _strip_ws, default_tokenizer
    from reporters_db import REPORTERS

    # Process-wide patches, made once under the engine lock, before any use of eyecite here.
    # "Unknown overlap case" and the like are eyecite's notes to itself, not Desk's.
    logging.getLogger("eyecite").setLevel(logging.ERROR)
    _patch_court_lookup()

    # Every page puts ~50 extractors into a set, and each hash is the hash of a dataclass repr
    # (~14 us): about 0.7 ms a page. The value never changes, so it is kept on the extractor;
    # the same value keeps eyecite's set order, and so its results.
    if not getattr(TokenExtractor, "_desk_cached_hash", False):
        repr_hash = TokenExtractor.__hash__

        def cached_hash(self: TokenExtractor) -> int:
            value: int | None = self.__dict__.get("_desk_hash")
            if value is None:
                value = self.__dict__["_desk_hash"] = repr_hash(self)
            return value

        setattr(TokenExtractor, "__hash__", cached_hash)  # noqa: B010
        setattr(TokenExtractor, "_desk_cached_hash", True)  # noqa: B010

    _patch_reference_search()

    @dataclass
    class DigitGatedTokenizer(AhocorasickTokenizer):
        """eyecite's pre-filter, stricter: a regex that starts with a volume runs only where its
        reporter string follows a digit, "-" or "(" (whitespace stripped), so "COMPANY" does
        not run the "CO" reporters' regexes. Law, Id. and supra extractors are as before."""

        def __post_init__(self) -> None:
            super().__post_init__()
            grouped: dict[str, tuple[list[TokenExtractor], list[TokenExtractor]]] = \
                defaultdict(lambda: ([], []))
            for e in EXTRACTORS:
                if e.strings and not e.flags & re.I:
                    for s in e.strings:
                        grouped[_strip_ws(s)][0 if e.regex.startswith(_VOLUME_FIRST) else 1] \
                            .append(e)
            self.gated_filter = ahocorasick.Automaton()
            for s, (gated, ungated) in grouped.items():
                self.gated_filter.add_word(s, (len(s), gated, ungated))
            self.gated_filter.make_automaton()

        def get_extractors(self, text: str) -> set[TokenExtractor]:
            stripped = _strip_ws(text)
            out = set(self.unfiltered_extractors)
            for end, (n, gated, ungated) in self.gated_filter.iter(stripped):
                out.update(ungated)
                start = end - n + 1
                if gated and start > 0 and (stripped[start - 1].isdigit()
                                            or stripped[start - 1] in "-("):
                    out.update(gated)
            for _, extractors in self.case_insensitive_filter.iter(stripped.lower()):
                out.update(extractors)
            return out

    reporters: dict[str, set[str]] = {}
    for sources in REPORTERS.values():
        for source in sources:
            for edition in source["editions"]:
                reporters.setdefault(_fold_reporter(edition), set()).add(edition)
            for variation, edition in source["variations"].items():
                reporters.setdefault(_fold_reporter(variation), set()).add(edition)
    return _Engine(DigitGatedTokenizer(), default_tokenizer, reporters)


# ---------------------------------------------------------------------------------------------
# Keys of eyecite's citations.

def _case_key(c: Any, engine: _Engine) -> str:
    g = c.groups
    reporter = c.corrected_reporter() if c.edition_guess else _ws(g.get("reporter") or "")
    if not c.edition_guess:  # ambiguous for eyecite: the reporter table may still know it
        editions = engine.reporters.get(_fold_reporter(reporter), set())
        if len(editions) == 1:
            reporter = next(iter(editions))
    volume = g.get("volume")
    if volume and not re.match(rf"{re.escape(volume)} ", _ws(c.matched_text())):
        return _ws(c.corrected_citation())  # the reporter first: "T.C. Memo. 2020-26"
    page = c.corrected_page() or BLANK_PAGE  # "585 U.S. ___", a slip opinion
    return " ".join(p for p in (volume, reporter, page) if p)


def _law_kind(c: Any) -> str:
    edition = c.edition_guess or (c.all_editions[0] if c.all_editions else None)
    cite_type = edition.reporter.cite_type if edition else ""
    if cite_type.startswith("leg_") or cite_type == "municipal":
        return STATUTE
    if cite_type in ("admin_compilation", "admin_register"):
        return REGULATION
    return OTHER


def _law_key(c: Any) -> str:
    g = c.groups
    reporter = c.edition_guess.short_name if c.edition_guess else ""
    if reporter in ("U.S.C.", "C.F.R.") and g.get("title") and g.get("section"):
        title = int(g["title"]) if str(g["title"]).isdigit() else g["title"]
        sec = _section(title if isinstance(title, int) else 0, g["section"])
        return f"{title} {reporter} § {sec}"
    if g.get("volume") and g.get("page") and reporter:  # "82 FR 12345", "82 Stat. 6"
        return f"{g['volume']} {reporter} {g['page']}"
    text = re.sub(r"(?:\bSec(?:tions?|s?\.)|§§)\s*", "§ ", _ws(c.matched_text()), flags=re.I)
    return re.sub(r"§\s*", "§ ", text)


_ARTICLE = re.compile(
    r"^(?:(?:see|also|cf\.?|but|and|or|accord|e\.g\.,?|compare|with|quoting|citing|i(?:bi)?d\.,?|"
    r"pp?\.\s?[\d–-]+\.?,?)\s+)+", re.I)
_IN_RE = re.compile(r"(?:In re|Ex parte|Matter of|In the Matter of) $")


def _clean_name(name: str | None) -> str:
    return _ARTICLE.sub("", _ws(name or "")).strip(" ,;")


_NAME_BEFORE = re.compile(
    r"(?P<plaintiff>[A-Z][\w'’.&-]*(?: (?:[A-Z][\w'’.&-]*|of|the|for|&)){0,6}) v\. "
    r"(?P<defendant>[A-Z][\w'’.&-]*(?: (?:[A-Z][\w'’.&-]*|of|the|and|at|for|in|on|&)){0,10}),"
    r"\s*$")


def _extends(longer: str, name: str) -> bool:
    """Whether `longer` is `name` with more of the party's name before it ("Regents of Univ. of
    Cal." for "Cal."), not a sentence or a signal ("State. See DeFunis", "In Clark")."""
    extra = longer[:len(longer) - len(name)]
    return (len(longer) > len(name) and longer.endswith(name)
            and not re.search(r"[.;:] [A-Z]|^(?:In|See|But|Cf\.|Also|Accord) ", extra))


def _case_name(c: Any, text: str, offset: int) -> str:
    """ "Plaintiff v. Defendant", "In re Defendant", or "" (one party alone is often a fragment:
    eyecite reads "Fisher v. Univ. of Tex. at Austin" as defendant "Austin")."""
    plaintiff, defendant = _clean_name(c.metadata.plaintiff), _clean_name(c.metadata.defendant)
    # eyecite stops at lower-case words ("University of Texas at Austin" gives "Austin",
    # "Regents of Univ. of Cal." gives "Cal.") and leaves two spaces where it dropped a word
    # ("National Federation  Independent Business"): "Plaintiff v. Defendant, " just before
    # the citation is read too, and wins where it holds eyecite's parties or eyecite has none
    start = offset + c.span()[0]
    named = _NAME_BEFORE.search(text[max(0, start - 160):start])
    read = (_clean_name(named["plaintiff"]), _clean_name(named["defendant"])) if named else None
    dropped = "  " in f"{c.metadata.plaintiff or ''} {c.metadata.defendant or ''}"
    if plaintiff and defendant and not dropped and not (
            read and _extends(read[0], plaintiff) and read[1].startswith(defendant)):
        return f"{plaintiff} v. {defendant}"
    if read:
        return f"{read[0]} v. {read[1]}"
    if plaintiff and defendant:
        return f"{plaintiff} v. {defendant}"
    if defendant and c.full_span_start is not None:
        before = text[max(0, offset + c.full_span_start - 20):offset + c.full_span_start]
        m = _IN_RE.search(before)
        if m:
            return f"{m.group().strip()} {defendant}"
    return ""


def _pin(pin: str | None) -> str:
    return re.sub(r"^[\s,]*(?:at\s+)?", "", _ws(pin or "")).strip(" ,.;:")


# ---------------------------------------------------------------------------------------------
# Finding and resolving.

_MAX_CHUNK = 6000  # a longer "page" (a whole DOCX) is cut at sentence ends into ~4,000 chars
_SENTENCE_END = re.compile(r"(?<=[a-z]{3}[.!?]) (?=[A-Z])")


def _chunks(text: str) -> Iterator[tuple[int, str]]:
    pos = 0
    while len(text) - pos > _MAX_CHUNK:
        m = _SENTENCE_END.search(text, pos + 4000, pos + _MAX_CHUNK * 2)
        if not m:
            break
        yield pos, text[pos:m.start()]
        pos = m.end()
    yield pos, text[pos:]


@dataclass
class _Found:
    cite: CitationBase
    page: int
    start: int  # clean offsets on the page
    end: int
    full_end: int
    full_start: int | None = None  # where eyecite's reading of a case citation starts
    key: str = ""  # full citations only
    kind: str = ""
    pin: str = ""
    name: str = ""
    year: int | None = None
    guesses: tuple[str, ...] = ()  # a supra's or short form's case name read before it
    quoted: bool = False  # inside a "(quoting ...)" or "(citing ...)" parenthetical
    parallel_to: str = ""  # a parallel cite's case's first citation: "129 S. Ct. 1937"'s
    # "556 U.S. 662"


_PAGE_RANGE = re.compile(r"(?:[–—-]\d+)?")
_CASE_BEFORE = re.compile(r"(?P<plaintiff>[A-Z][\w'’.&-]*(?: [A-Z][\w'’.&-]*){0,5}) v\. "
                          r"[^,;()]{1,80}, $")


_PARTY_BEFORE = re.compile(r"(?P<name>[A-Z][\w'’.&-]*),? $")  # "Arizona, 567 U. S., at ___"
_AT_PAGE = re.compile(r"\sat\s+\d+$")


def _as_short(c: Any, short_class: Any) -> Any:
    """eyecite's full citation "Brand v. Commissioner, 81 T.C. at 828" as the short form it is."""
    short = short_class(
        c.token, c.index, span_start=c.span_start, span_end=c.span_end,
        exact_editions=c.exact_editions, variation_editions=c.variation_editions,
        metadata={"antecedent_guess": c.metadata.plaintiff or c.metadata.defendant,
                  "pin_cite": c.metadata.pin_cite, "court": c.metadata.court})
    short.edition_guess, short.document = c.edition_guess, c.document
    return short


def _page_citations(text: str, page: int, tokenizer: Tokenizer, engine: _Engine) -> list[_Found]:
    """eyecite's citations and our own law citations on one collapsed page, in text order; bare
    "§" tokens (UnknownCitation) are left out, so they neither count nor break an Id. chain."""
    from eyecite import get_citations
    from eyecite.models import (
        CitationToken,
        FullCaseCitation,
        FullCitation,
        FullJournalCitation,
        FullLawCitation,
        ShortCaseCitation,
        SupraCitation,
        UnknownCitation,
    )

    laws = _own_laws(text)
    found: list[_Found] = []
    for law in laws:
        token = CitationToken(text[law.start:law.end], law.start, law.end,
                              groups={"desk_key": law.key})
        found.append(_Found(FullLawCitation(token, 0), page, law.start, law.end, law.end,
                            key=law.key, kind=law.kind, pin=law.pin))
    for offset, chunk in _chunks(text):
        if not chunk.strip():
            continue
        for c in get_citations(chunk, tokenizer=tokenizer):
            if isinstance(c, UnknownCitation):
                continue
            if isinstance(c, FullCaseCitation) and _AT_PAGE.search(c.matched_text()):
                c = _as_short(c, ShortCaseCitation)  # "Brand v. Commissioner, 81 T.C. at 828"
            start, end = (offset + x for x in c.span())
            if any(start < law.end and law.start < end for law in laws):
                continue  # our regex read it as a federal statute, rule or regulation
            f = _Found(c, page, start, end, offset + c.full_span()[1],
                       pin=_pin(c.metadata.pin_cite))
            if isinstance(c, ShortCaseCitation):
                # eyecite ends the span (and loses the pin) before a range "at 311–312"
                m = _PAGE_RANGE.match(text, max(end, offset + c.token.end))
                if m and not f.pin:
                    f.pin = (c.groups.get("page") or "") + m.group()
                f.end = m.end() if m else max(end, offset + c.token.end)
                m = _PARTY_BEFORE.search(text, max(0, start - 60), start)
                f.guesses = (m["name"],) if m else ()
            elif isinstance(c, SupraCitation):
                m = _CASE_BEFORE.search(text, max(0, start - 120), start)
                f.guesses = (m["plaintiff"], m["plaintiff"].split()[-1]) if m else ()
            if isinstance(c, FullCaseCitation):
                f.key, f.kind = _case_key(c, engine), CASE
                f.full_start = offset + c.full_span()[0]
                f.name, f.year = _case_name(c, text, offset), c.year
            elif isinstance(c, FullLawCitation):
                f.key, f.kind = _law_key(c), _law_kind(c)
            elif isinstance(c, FullJournalCitation | FullCitation):
                f.key, f.kind, f.year = _ws(c.corrected_citation()), OTHER, c.year
            found.append(f)
    found.sort(key=lambda f: f.start)
    # eyecite sometimes reads the year from a parenthetical beyond the next citation
    # ("Grutter ..., 539 U.S. 306 (2003). Id. at 330. Smith ... (2011)" gives Grutter 2011):
    # such a year is replaced by the one in a parenthetical right after the citation (or its
    # parallel cites), or dropped.
    for i, f in enumerate(found):
        if f.kind != CASE:
            continue
        j = i + 1
        while j < len(found) and found[j].kind == CASE and found[j].full_start == f.full_start:
            j += 1  # parallel cites of one case: eyecite starts them all at the case name
        if j < len(found) and f.full_end > found[j].start:
            m = _YEAR_PAREN.match(text, found[j - 1].end, found[j].start)
            f.year = int(m["year"]) if m and int(m["year"]) <= _THIS_YEAR + 1 else None
    return found


_YEAR_PAREN = re.compile(r"(?:,? ?(?:at )?[\d*][\d*–—\-, n.]*)? ?\([^()]{0,60}?"
                         r"(?P<year>1[6-9]\d\d|20\d\d)(?:[-–]\d\d)?\)")
_THIS_YEAR = time.gmtime().tm_year


def _name_guesses(guess: str | None) -> list[str]:
    """eyecite's antecedent guess, then its last clause ("3d Cir. 2011). Smith" -> "Smith")."""
    guesses = [_ws(guess or "").strip(" ,.;:")]
    guesses.append(re.split(r"[.;)\]] ", guesses[0])[-1].strip(" ,.;:"))
    return [g for g in dict.fromkeys(guesses) if g]


def _by_name(guess: str | None, fulls: list[tuple[Any, Hashable]], names: dict[int, str]
             ) -> Hashable | None:
    """The one resource whose case has a party named like the guess (in eyecite's reading, or
    in ours, `names` by id of the citation), or None."""
    from eyecite.models import FullCaseCitation

    for name in _name_guesses(guess):
        matches = {resource for full, resource in fulls
                   if isinstance(full, FullCaseCitation)
                   and any(name in (party or "") for party in (
                       full.metadata.plaintiff, full.metadata.defendant, names.get(id(full))))}
        if len(matches) == 1:
            return matches.pop()
    return None


def _resolve_short(short: Any, fulls: list[tuple[Any, Hashable]], guesses: tuple[str, ...],
                   names: dict[int, str]) -> Hashable | None:
    """As eyecite: the earlier case with this reporter and volume, the party name deciding
    between several: the word printed before it ("Arizona, 567 U. S., at ___"), then eyecite's
    guess, also without what eyecite took from before it."""
    from eyecite.models import FullCaseCitation

    candidates = [(full, resource) for full, resource in fulls
                  if isinstance(full, FullCaseCitation)
                  and full.corrected_reporter() == short.corrected_reporter()
                  and full.groups.get("volume") == short.groups.get("volume")]
    if len({resource for _, resource in candidates}) <= 1:
        return candidates[0][1] if candidates else None
    for guess in (*guesses, short.metadata.antecedent_guess):
        named = _by_name(guess, candidates, names)
        if named is not None:
            return named
    # Cases in one volume do not share pages, so a pin cite belongs to the candidate with the
    # last first page at or before it ("539 U.S., at 328": Grutter at 306, not Gratz at 244).
    pin = re.match(r"\d+", short.groups.get("page") or "")
    starts = [(int(full.groups["page"]), resource) for full, resource in candidates
              if str(full.groups.get("page") or "").isdigit()]
    before = [(start, resource) for start, resource in starts if pin and start <= int(pin[0])]
    if before:
        best = max(start for start, _ in before)
        found = {resource for start, resource in before if start == best}
        return found.pop() if len(found) == 1 else None
    return None


_ID_SECTION = {code: re.compile(rf" ?,? ?(?:at )?§ ?(?P<sec>{sec}){_SUB}", re.I)
               for code, sec in (("U.S.C.", _USC_SECTION), ("C.F.R.", _CFR_SECTION))}
_CODE_KEY = re.compile(r"^(?P<title>\d+) (?P<code>U\.S\.C\.|C\.F\.R\.) § ")


_SENTENCE_START = re.compile(r"[.!?]\)?\s+(\(?[A-Z][\w.]*)")
_SIGNALS = {"See", "Cf.", "Accord", "But", "Compare", "Contra", "E.g.", "Id.", "Ibid."}


def _string_cite_gap(gap: str) -> bool:
    """Whether two citations with `gap` between belong to one string of citations: up to four
    words ("), aff'g", "; see also", " and ") and no sentence end ("later. Elsewhere,") unless
    a signal starts the next sentence ("(1992). See also")."""
    if len(gap.split()) > 4 or len(gap) > 60:
        return False
    return all(m[1] in _SIGNALS for m in _SENTENCE_START.finditer(gap))


def _by_page(found: list[_Found]) -> list[list[_Found]]:
    pages: dict[int, list[_Found]] = {}
    for f in found:
        pages.setdefault(f.page, []).append(f)
    return list(pages.values())


def _find(pages: list[str], tokenizer: Tokenizer | None = None) -> list[list[Citation]]:
    from eyecite import resolve_citations
    from eyecite.models import (
        FullCaseCitation,
        IdCitation,
        ReferenceCitation,
        ShortCaseCitation,
        SupraCitation,
    )
    from eyecite.resolve import _resolve_id_citation, _resolve_reference_citation

    engine = _engine()
    tokenizer = tokenizer or engine.tokenizer
    cleaned: list[tuple[str, list[int]]] = []
    found: list[_Found] = []
    for number, raw in enumerate(pages):
        try:
            text, offsets = _collapse(raw if isinstance(raw, str) else "")
            cleaned.append((text, offsets))
            found.extend(_page_citations(text, number, tokenizer, engine))
        except Exception:  # a page eyecite cannot read costs that page, never the document
            log.warning("citations: page %d skipped", number + 1, exc_info=True)
            cleaned.append(("", [0]))
    # The document's own citation in its running head ("Cite as: 570 U. S. ____ (2013)") is
    # no authority it cites, and an "Id." after the head points past it, to what the text cited.
    own: list[_Found] = []
    cited: list[_Found] = []
    for f in found:
        (own if f.kind == CASE and _own(cleaned[f.page][0], f) else cited).append(f)
    found = cited
    by_id = {id(f.cite): f for f in found}
    names_by_id = {id(f.cite): f.name for f in found if f.name}
    first: _Found | None = None  # the first citation of the last case cited in full
    for f in found:
        f.quoted = _in_explanatory_parenthetical(cleaned[f.page][0], f.start)
        if f.kind == CASE and f.key:
            if first and (first.page, first.full_start) == (f.page, f.full_start):
                f.parallel_to = first.key  # eyecite starts parallel cites at the case's name
            else:
                first = f

    # "Id." is the last authority cited outside "(quoting ...)" and "(citing ...)"
    # parentheticals (Bluebook 4.1): "Iqbal, 556 U.S. 662 (quoting Twombly, 550 U.S. 544). Id."
    # is Iqbal, by its first citation (556 U.S. 662, not its parallel S. Ct. or L. Ed. 2d).
    # Every resolution passes through `track`, which keeps that authority.
    none_yet = object()
    main: Any = none_yet  # the last such resolution (None where it failed)

    def track(cite: Any, resolution: Hashable | None) -> Hashable | None:
        nonlocal main
        if not by_id[id(cite)].quoted:
            main = resolution
        return resolution

    def resolve_id(cite: Any, last: Hashable | None, resolutions: Any) -> Hashable | None:
        antecedent = last if main is none_yet else main
        return track(cite, _resolve_id_citation(cite, antecedent, resolutions)
                     if antecedent is not None else None)

    def resolve_full(cite: Any) -> Hashable:
        f = by_id[id(cite)]
        resource = _resource(f)
        if not f.parallel_to:
            track(cite, resource)
        return resource

    def resolve_supra(supra: Any, fulls: list[tuple[Any, Hashable]]) -> Hashable | None:
        """By eyecite's antecedent guess, else by "Grutter v. Bollinger, supra" before it."""
        named = _by_name(supra.metadata.antecedent_guess, fulls, names_by_id)
        for guess in by_id[id(supra)].guesses if named is None else ():
            named = _by_name(guess, fulls, names_by_id)
            if named is not None:
                break
        return track(supra, named)

    resolved: dict[int, Hashable] = {}  # cite -> the resource (see _resource) it points to
    try:
        resolutions = resolve_citations(
            [f.cite for f in found], resolve_full_citation=resolve_full,
            resolve_shortcase_citation=lambda short, fulls: track(short, _resolve_short(
                short, fulls, by_id[id(short)].guesses, names_by_id)),
            resolve_supra_citation=resolve_supra,
            resolve_reference_citation=lambda ref, fulls: track(
                ref, _resolve_reference_citation(ref, fulls)),
            resolve_id_citation=resolve_id)
        for resource, cites in resolutions.items():
            for cite in cites:
                resolved[id(cite)] = resource
    except Exception:  # keep the full citations
        log.warning("citations: resolution failed", exc_info=True)
        resolved = {id(f.cite): _resource(f) for f in found if f.key}

    # Per resource: its kind, best name, year, and whether a case is plausible. Case cites in
    # contracts ("10 A. 5 units", "Room 101 P. 3", "Docket 2020 WL 5") parse as real reporters,
    # so a case key is kept only if one of its full citations has both party names or a year,
    # or a short form, supra or "Grutter at 330" reference points to it. An Id. does not count:
    # "3 id. 4" follows a fake one. The rule is per key, so a bare repeat of a named case stays.
    kinds: dict[Hashable, str] = {}
    names: dict[Hashable, Counter[str]] = {}
    years: dict[Hashable, int] = {}
    plausible: set[Hashable] = set()
    for f in found:
        key = resolved.get(id(f.cite))  # a resource
        if key is None:
            continue
        if f.key:
            kinds.setdefault(key, f.kind)
            if f.kind != CASE or f.name or f.year:
                plausible.add(key)
            if f.name:
                names.setdefault(key, Counter())[f.name] += 1
            if f.year and key not in years:
                years[key] = f.year
        elif isinstance(f.cite, ShortCaseCitation | SupraCitation | ReferenceCitation):
            plausible.add(key)
    # A bare case citation in a string of citations, next to a plausible one with a few words
    # and no sentence end between ("978 F.2d 1310 (2d Cir. 1992), aff'g T.C. Memo. 1991-462"),
    # is plausible too.
    for page_found in _by_page(found):
        text = cleaned[page_found[0].page][0]
        for forward in (True, False):
            near: _Found | None = None
            for f in page_found if forward else page_found[::-1]:
                key = resolved.get(id(f.cite))
                if key is None:
                    continue
                if key not in plausible and f.key and near is not None:
                    gap = text[near.full_end:f.start] if forward else text[f.full_end:near.start]
                    if _string_cite_gap(gap):
                        plausible.add(key)
                if key in plausible:
                    near = f
    best_name = {key: max(c.items(), key=lambda kv: (kv[1], len(kv[0])))[0]
                 for key, c in names.items()}

    out: list[list[Citation]] = [[] for _ in pages]
    for f in own[:1]:  # the first head is enough to find the document by its citation
        raw_start, raw_end = cleaned[f.page][1][f.start], cleaned[f.page][1][f.end - 1] + 1
        out[f.page].append(Citation(CASE, f.key, OWN, raw_start, raw_end, "", "", f.year))
    last_base, last_key = "", ""  # "Id. § 1988" after 42 U.S.C. § 1983, and Ids after it
    for f in found:
        resource = resolved.get(id(f.cite))
        if resource is None or resource not in plausible:
            continue
        kind = kinds.get(resource, CASE)
        key = _key_of(resource)
        text, offsets = cleaned[f.page]
        start, end, pin, emitted = f.start, f.end, f.pin, key
        if isinstance(f.cite, IdCitation):
            form = ID
            if "§" in key and re.match(r"at\s", f.cite.metadata.pin_cite or ""):
                continue  # "Id. at 5" after a code section: the Id. is of something else
            if kind != CASE and "¶" in (f.cite.metadata.pin_cite or f.cite.matched_text()):
                continue  # "Id. ¶ 35" after a rule or statute: a pleading's paragraph
            code = _CODE_KEY.match(key)
            m = _ID_SECTION[code["code"]].match(text, end) if code else None
            if code and m:
                title = int(code["title"])
                emitted = f"{title} {code['code']} § {_section(title, m['sec'])}"
                end, pin = m.end(), m["sub"]
            elif key == last_base and last_key:
                emitted = last_key
        elif f.key:
            form = FULL
        elif isinstance(f.cite, SupraCitation):
            form = SUPRA
        else:
            form = SHORT
        last_base, last_key = key, emitted
        if isinstance(f.cite, FullCaseCitation) and not f.cite.groups.get("page"):
            pin = ""
        raw_start, raw_end = offsets[start], offsets[max(start, end - 1)] + 1
        out[f.page].append(Citation(kind, emitted, form, raw_start, raw_end,
                                    best_name.get(resource, ""), pin, years.get(resource),
                                    f.parallel_to if form == FULL else ""))
    for page_out in out:
        page_out.sort(key=lambda c: c.start)
    return out


_OWN_CITATION = re.compile(r"\bcite as: ?$", re.I)
_STAR_PAGE = re.compile(r"\[ ?$")  # "[590 F.Supp.3d 870]": a page of the report itself
_EXPLANATORY = re.compile(r"\([^()]{0,40}?\b(?:quoting|citing|quoted in|cited in)\b", re.I)


def _own(text: str, f: _Found) -> bool:
    """Whether a case citation is the document's own: its running head ("Cite as: 570 U. S.
    ____") or a page marker of the reporter it is printed from ("[590 F.Supp.3d 870]")."""
    start = f.full_start or f.start
    if _OWN_CITATION.search(text, max(0, start - 12), start):
        return True
    return bool(_STAR_PAGE.search(text, max(0, f.start - 2), f.start)
                and re.match(r" ?\]", text[f.end:f.end + 2]))


def _in_explanatory_parenthetical(text: str, start: int) -> bool:
    """Whether `start` lies inside an open "(quoting ...", "(citing ...", "(quoted in ..." on
    its page (looking back at most 400 characters): the nearest "(" with one more "(" than ")"
    from it to `start`."""
    low = max(0, start - 400)
    i = text.rfind("(", low, start)
    while i >= 0:
        if text.count("(", i, start) - text.count(")", i, start) == 1:
            return bool(_EXPLANATORY.match(text, i))
        i = text.rfind("(", low, i)
    return False


def _resource(f: _Found) -> Hashable:
    """What a full citation cites, for resolving short forms to it: its key, and for a page
    left blank ("567 U.S. ___", shared by every slip opinion of the volume) its case's name."""
    return (f.key, f.name) if f.kind == CASE and f.key.endswith(BLANK_PAGE) and f.name else f.key


def _key_of(resource: Hashable) -> str:
    return str(resource[0] if isinstance(resource, tuple) else resource)


def find_citations(pages: list[str]) -> list[list[Citation]]:
    """All citations of one document, page by page (one list per page), with short forms, Id.
    and supra resolved across the whole document to the full citation they point back to (their
    key is that citation's key); those that resolve to nothing are dropped, and so are case
    citations that fail the plausibility rule above (contract numbering that looks like a
    reporter). Never raises on garbled or partial text or empty pages."""
    try:
        return _find(list(pages))
    except Exception:
        log.warning("citations: document skipped", exc_info=True)
        return [[] for _ in pages]


# ---------------------------------------------------------------------------------------------
# Queries.

_NUMBER = re.compile(r"(?<![\w.])\d+(?!\w)")
_BLANK_QUERY = re.compile(r"(?<![\w.])(?P<volume>\d+) (?P<reporter>[a-z][a-z.\d ]{0,28}?) ?_{2,}",
                          re.I)


def query_citations(query: str) -> list[str]:
    """The canonical keys of the citations in a search query typed in any form ("539 US 306",
    "631 F3d 213", "42 USC 1983", "42 U.S.C. section 1983", "29 CFR 1630.2"), case-insensitive;
    a pin cite ("539 U.S. 306, 328") gives the same key. Never raises."""
    try:
        return _query(query)
    except Exception:
        log.warning("citations: query %r not parsed", query, exc_info=True)
        return []


def _query(query: str) -> list[str]:
    from eyecite import get_citations
    from eyecite.models import FullCaseCitation, FullJournalCitation, FullLawCitation

    engine = _engine()
    text, _ = _collapse(query or "")
    keys: list[str] = []
    spans: list[tuple[int, int]] = []
    laws = _own_laws(text)
    for law in laws:
        keys.append(law.key)
        spans.append((law.start, law.end))
    if text.strip():
        for c in get_citations(text, tokenizer=engine.tokenizer):
            start, end = c.span()
            if any(start < e and s < end for s, e in spans):
                continue
            if isinstance(c, FullCaseCitation):  # a blank page too: "567 U.S. ___"
                keys.append(_case_key(c, engine))
            elif isinstance(c, FullLawCitation):
                keys.append(_law_key(c))
            elif isinstance(c, FullJournalCitation):
                keys.append(_ws(c.corrected_citation()))
            else:
                continue
            spans.append((start, end))
    # Typed in lower case or without periods ("539 u.s. 306", "631 f3d 213"), which eyecite's
    # case-sensitive regexes miss: a number, a known reporter name, a number.
    numbers = list(_NUMBER.finditer(text))
    for a, b in pairwise(numbers):
        if any(a.start() < e and s < b.end() for s, e in spans):
            continue
        between = text[a.end():b.start()]
        if not re.search(r"[a-z]", between, re.I) or len(between) > 30:
            continue
        editions = engine.reporters.get(_fold_reporter(between), set())
        if len(editions) == 1:
            keys.append(f"{int(a.group())} {next(iter(editions))} {int(b.group())}")
            spans.append((a.start(), b.end()))
    for m in _BLANK_QUERY.finditer(text):  # "567 us ___"
        editions = engine.reporters.get(_fold_reporter(m["reporter"]), set())
        if len(editions) == 1 and not any(m.start() < e and s < m.end() for s, e in spans):
            keys.append(f"{int(m['volume'])} {next(iter(editions))} {BLANK_PAGE}")
    return list(dict.fromkeys(keys))


def keys_typed_in(query: str, keys: list[str]) -> list[str]:
    """The stored keys a query spells loosely, word for word: letters and digits only, any case
    ("cal civ code 1542" is "Cal. Civ. Code § 1542", "n.y. gen. bus. law 349" is
    "N.Y. Gen. Bus. Law § 349"): the forms eyecite's case-sensitive regexes miss, matched
    against the citations a matter holds, so it needs no reporter table."""
    words = _LOOSE_WORD.findall(query.lower())
    if not any(w.isdigit() for w in words):
        return []
    padded = f" {' '.join(words)} "
    found = []
    for key in keys:
        spelled = _LOOSE_WORD.findall(key.lower())
        if len(spelled) >= 3 and f" {' '.join(spelled)} " in padded:
            found.append(key)
    return found


_LOOSE_WORD = re.compile(r"[a-z0-9]+")


# ---------------------------------------------------------------------------------------------

def _split_pages(text: str) -> list[str]:
    if "\f" in text:
        return text.split("\f")
    return [text[i:i + 3000] for i in range(0, len(text), 3000)] or [""]


def _main(path: str) -> None:
    with open(path, encoding="utf-8", errors="replace") as fh:
        pages = _split_pages(fh.read())
    find_citations(pages)  # warm up: import, regex compiles
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        result = find_citations(pages)
        best = min(best, time.perf_counter() - t0)
    cites = [c for page in result for c in page]
    forms = Counter(c.form for c in cites)
    kinds = Counter(c.kind for c in cites)
    print(f"{path}: {len(pages)} pages, {sum(map(len, pages))} chars, "
          f"{1000 * best / len(pages):.2f} ms/page ({1000 * best:.0f} ms), {len(cites)} citations, "
          f"{len({c.key for c in cites})} authorities; forms {dict(forms)}; kinds {dict(kinds)}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m desk.index.citations FILE.txt")
    _main(sys.argv[1])
