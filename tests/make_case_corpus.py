"""Build the citation dev corpus as PDFs, run on demand:

    .venv/bin/python -m tests.make_case_corpus OUT_DIR

Into OUT_DIR go the public-domain opinions of resources/caselaw-dev (the PDFs as they are, the
.txt opinions laid out as PDFs of ~3,000-character pages), synthetic opinions whose pages cite
~40 reporters in the forms reporters-db lists (with case names, a line break inside some
citations, a citation ending a page with its "Id." at the top of the next, short forms and
supra), federal statutes and regulations, three contract pages full of section numbers where no
citation may be found, and gold.json. The gold is made by construction, not by the extractor,
so it can measure the extractor: for each synthetic citation its canonical key, the form
printed, the form a lawyer types, the case name, the file and every page citing it in any form.
Seeded, and with fixed PDF IDs, so every run writes the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pymupdf

from tests.pdfs import make_pdf

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "resources" / "caselaw-dev"
SEED = 20261202
PAGE_CHARS = 3000  # the .txt opinions: about this much text per PDF page
OPINION_FONT = 8
SYNTHETIC_FONT = 10
SYNTHETIC_DOCS = 4
SYNTHETIC_PAGES = 8  # per document
CONTRACT_FILE = "synthetic-contract-supply-agreement.pdf"
BOX = pymupdf.Rect(72, 72, 540, 740)  # make_pdf's text box

# ~40 editions (reporters-db's canonical abbreviations), federal, regional and state, each
# cited twice (a printed variant, then the canonical form); U.S., S. Ct. and L. Ed. 2d are also
# cited together as parallel citations.
EDITIONS = [
    "U.S.", "S. Ct.", "L. Ed.", "L. Ed. 2d", "F.", "F.2d", "F.3d", "F.4th", "F. Supp.",
    "F. Supp. 2d", "F. Supp. 3d", "F. App'x", "Fed. Cl.", "T.C.", "M.J.", "A.2d", "A.3d",
    "P.2d", "P.3d", "N.E.2d", "N.E.3d", "N.W.2d", "S.E.2d", "S.W.3d", "So. 2d", "So. 3d",
    "Cal. 4th", "Cal. App. 4th", "Cal. Rptr. 3d", "N.Y.2d", "N.Y.3d", "A.D.3d", "Ill. 2d",
    "Ill. App. 3d", "Ohio St. 3d", "Wash. 2d", "Wis. 2d", "Mass.", "N.J.", "Mich.",
]
PARALLEL = ["U.S.", "S. Ct.", "L. Ed. 2d"]

# (key, as printed, as typed): federal statutes and regulations in the forms courts print them
LAWS = [
    ("42 U.S.C. § 1983", "42 U. S. C. § 1983", "42 USC 1983"),
    ("29 U.S.C. § 621", "29 U.S.C. § 621", "29 USC 621"),
    ("29 C.F.R. § 1630.2", "29 C.F.R. § 1630.2(g)", "29 CFR 1630.2"),
    ("28 U.S.C. § 1331", "28 U.S.C. §1331", "28 USC 1331"),
    ("42 U.S.C. § 2000e-2", "42 U.S.C. § 2000e-2(a)(1)", "42 USC 2000e-2"),
    ("15 U.S.C. § 78j", "15 U.S.C. § 78j(b)", "15 USC 78j"),
    ("26 U.S.C. § 409A", "26 U.S.C. § 409A", "26 USC 409A"),
    ("20 C.F.R. § 404.1520", "20 C.F.R. § 404.1520(a)(4)", "20 CFR 404.1520"),
    ("42 U.S.C. § 12112", "42 U.S.C. Section 12112", "42 USC 12112"),
    ("29 C.F.R. § 1604.11", "29 CFR § 1604.11", "29 CFR 1604.11"),
]

CIRCUITS = ["1st Cir.", "2d Cir.", "3d Cir.", "4th Cir.", "5th Cir.", "6th Cir.", "7th Cir.",
            "8th Cir.", "9th Cir.", "10th Cir.", "11th Cir.", "D.C. Cir.", "Fed. Cir."]
DISTRICTS = ["S.D.N.Y.", "N.D. Cal.", "D. Mass.", "E.D. Pa.", "N.D. Ill.", "D.N.J.", "W.D. Tex."]
REGIONAL_COURTS = {"A.": ["Pa.", "Conn.", "Md.", "Vt."], "N.E.": ["Ill.", "Ind.", "Ohio"],
                   "N.W.": ["Minn.", "Iowa", "Neb."], "S.E.": ["Ga.", "N.C.", "W. Va."],
                   "S.W.": ["Tex.", "Mo.", "Ky."], "So.": ["Fla.", "Ala.", "La."],
                   "P.": ["Colo.", "Ariz.", "Or."]}

# Made-up surnames (every case has its own, so a name names one case).
_HEADS = ["Ash", "Bram", "Cal", "Dun", "Ell", "Fen", "Gar", "Hal", "Ingle", "Kes", "Lind",
          "Mar", "Nor", "Pem", "Rad", "Stan", "Thorn", "Ux", "Whit", "Yar", "Quill", "Orm"]
_TAILS = ["ford", "wick", "ton", "ley", "more", "by", "field", "worth", "ridge", "combe"]
_CAPTION_TAILS = ["gate", "brook", "haven", "stone", "dale"]  # the parties of the captions
_FIRST_NAMES = ["Alice", "Daniel", "Maria", "Thomas", "Grace", "Victor", "Helen", "Samuel"]
_CAPTION_COURTS = [("THIRD", "District of New Jersey"), ("SEVENTH", "Northern District of Illinois"),
                   ("SECOND", "Southern District of New York"), ("FIRST", "District of Massachusetts")]
_MONTHS = ["January", "March", "April", "June", "September", "October", "November"]
_DEFENDANTS = ["{} Corp.", "{}", "{} Tool Co.", "City of {}", "{} Holdings, Inc.",
               "{} Freight Lines", "Board of Educ. of {}", "{} Mut. Ins. Co."]

HOLDINGS = [
    "a party who accepts the benefits of a contract may not later disavow its burdens",
    "the notice requirement is satisfied by actual knowledge of the claim",
    "an employer is liable only for conduct within the scope of the employment",
    "the limitations period begins to run when the injury is discovered",
    "summary judgment is improper where the material facts are genuinely disputed",
    "the plain meaning of the statute controls unless it leads to an absurd result",
    "a waiver of a constitutional right must be knowing and voluntary",
    "the district court has broad discretion in managing its docket",
    "an ambiguous term is construed against the party who drafted it",
    "the duty to defend is broader than the duty to indemnify",
    "a failure to object at trial forfeits the argument on appeal",
    "the agency's reading deserves respect only to the extent it is persuasive",
    "punitive damages require proof of malice or reckless indifference",
    "a forum selection clause is enforced unless it is unreasonable",
    "the burden shifts to the defendant once a prima facie case is made",
    "an officer may rely on a facially valid warrant",
]
LEADS = ["It is settled that", "We have said that", "The rule is that", "As a general matter,",
         "The parties accept that"]
FILLERS = [
    "The district court's findings of fact are reviewed for clear error, and its conclusions of "
    "law afresh.",
    "The appellee answers that the argument comes too late, having been raised for the first "
    "time in a reply brief.",
    "At the hearing, counsel conceded that the contract was signed before the notice was sent.",
    "The witness testified that she had never seen the letter before the deposition.",
    "The record on this point is thin, and the parties dispute what it shows.",
    "We review that question de novo.",
    "The appellant raised the argument below, so it is preserved.",
    "Neither party asks us to revisit that rule, and we decline to do so on our own.",
    "The trial court made no finding on the issue.",
    "That reasoning applies with equal force here.",
    "The parties agree on the governing standard but not on its application.",
    "We therefore turn to the remaining claims.",
    "The dissent reads the evidence differently, but the jury was entitled to credit it.",
    "Nothing in the text of the agreement suggests otherwise.",
    "The question is a close one.",
    "On remand, the court should consider the remaining factors in the first instance.",
]

CONTRACT_PAGES = [
    "SUPPLY AGREEMENT\n\nThis Supply Agreement (the \"Agreement\") is made as of March 1, 2021 "
    "between Northwind Components, Inc., a Delaware corporation (\"Supplier\"), and Harbor Point "
    "Manufacturing LLC (\"Buyer\").\n\nArticle 1. Definitions\n\n1.1 \"Products\" means the "
    "goods listed in Schedule 3.1(a). 1.2 \"Delivery Date\" has the meaning given in Section "
    "12.3. 1.3 Terms defined in Article 7.2 have the same meaning throughout.\n\nArticle 2. "
    "Term\n\n2.1 This Agreement starts on the Effective Date and runs for 36 months. 2.2 Either "
    "party may renew it by notice given at least 10 days before it ends, pursuant to Sections "
    "2.1 and 2.2 hereof, §§ 3-4 excepted.\n\nArticle 3. Orders\n\n3.1 Subject to § 4.1 of this "
    "Agreement, the Supplier may reject an order within 5 business days. 3.2 Orders of 100 "
    "units or more require a deposit of 20% of the price.",
    "Article 4. Price and Payment\n\n4.1 Buyer shall pay $1,250,000 in 4 installments of "
    "$312,500, each due 30 days after invoice. 4.2 Late payments bear interest at 1.5% per "
    "month. 4.3 The Company shall not supply 10 U.S. persons on the denied parties list within "
    "30 days of notice.\n\nArticle 7. Indemnification\n\n7.1 Supplier shall indemnify Buyer "
    "against third-party claims arising from defects. 7.2 The indemnity in this Article 7.2 "
    "survives termination for 2 years. 7.3 Claims must be notified within 10 days under Sec. 5 "
    "and clause 3.1.\n\nArticle 9. Insurance\n\n9.1 Supplier shall keep product liability cover "
    "of at least $5,000,000 per occurrence. 9.2 Certificates are due on each anniversary, see "
    "Exhibit B, Part 2 and § 9.4.",
    "Article 12. Delivery and Notices\n\n12.1 Delivery is FCA Supplier's plant, Building 7, "
    "Suite 400, 1200 Main Street, Room 101. 12.2 Title passes on delivery. 12.3 Notices shall "
    "be in writing and are effective 3 days after mailing; invoice No. 2020-17 and purchase "
    "order PO-4506 refer to the first shipment.\n\nArticle 14. General\n\n14.1 This Agreement is "
    "governed by the laws of the State of New York. 14.2 Sections 1.1 through 14.3 survive as "
    "stated in Section 12.3 and § 7.1. 14.3 This Agreement may be signed in 2 counterparts.\n\n"
    "IN WITNESS WHEREOF the parties have signed this Agreement on the date first written above."
    "\n\nNorthwind Components, Inc.  By: ____________  Title: President\n\nHarbor Point "
    "Manufacturing LLC  By: ____________  Title: Managing Member",
]

_TYPOGRAPHY = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"',
                             "\u2013": "-", "\u2014": "--", "\u2026": "...", "\f": "\n",
                             "\u2022": "*", "\u00a0": " "})


# ---------------------------------------------------------------------------------------------
# Layout

def _latin1(text: str) -> str:
    """make_pdf's Helvetica has Latin-1 only; curly quotes and dashes would print as "?"."""
    text = text.translate(_TYPOGRAPHY)
    return "".join(ch if ord(ch) < 256 else "?" for ch in text)


def fits(text: str, fontsize: float) -> bool:
    """Whether make_pdf's text box holds all of `text` (PyMuPDF drops what overflows)."""
    doc = pymupdf.open()
    try:
        left = doc.new_page(width=612, height=792).insert_textbox(
            BOX, text, fontsize=fontsize, fontname="helv")
    finally:
        doc.close()
    return left >= 0


def paginate(text: str, chars: int = PAGE_CHARS, fontsize: float = OPINION_FONT) -> list[str]:
    """Pages of about `chars` characters cut at line ends (the opinion's own line breaks are
    kept), each ending earlier if the page cannot hold it all."""
    lines = [line.rstrip() for line in _latin1(text).split("\n")]
    pages: list[str] = []
    i = 0
    while i < len(lines):
        j, size = i, 0
        while j < len(lines) and (j == i or size + len(lines[j]) + 1 <= chars):
            size += len(lines[j]) + 1
            j += 1
        while j > i + 1 and not fits("\n".join(lines[i:j]), fontsize):
            j -= 1
        page = "\n".join(lines[i:j]).strip("\n")
        if page.strip():
            pages.append(page)
        i = j
    return pages


# ---------------------------------------------------------------------------------------------
# reporters-db

def _fold(text: str) -> str:
    return re.sub(r"[\s.,]", "", text).lower()


def reporter_table() -> tuple[dict[str, dict[str, object]], dict[str, set[str]]]:
    """Each edition's reporter, cite type, dates and variations; and which editions each
    folded spelling can mean (a spelling meaning two is ambiguous and not printed here)."""
    from reporters_db import REPORTERS

    editions: dict[str, dict[str, object]] = {}
    spellings: dict[str, set[str]] = {}
    for reporter, sources in REPORTERS.items():
        for source in sources:
            for edition, dates in source["editions"].items():
                editions.setdefault(edition, {
                    "reporter": reporter, "cite_type": source["cite_type"],
                    "start": dates["start"].year if dates["start"] else 1800,
                    "end": dates["end"].year if dates["end"] else 2024,
                    "variations": [v for v, e in source["variations"].items() if e == edition]})
                spellings.setdefault(_fold(edition), set()).add(edition)
            for variation, edition in source["variations"].items():
                spellings.setdefault(_fold(variation), set()).add(edition)
    return editions, spellings


def _printable(variation: str, edition: str) -> bool:
    """A spelling a court prints (reporters-db also lists OCR slips such as "P2.d", "A,2d")."""
    return (re.fullmatch(r"[A-Z][A-Za-z0-9'. ]*[A-Za-z0-9'.]", variation) is not None
            and not re.search(r"\d\.[a-z]|\d [a-z]|\d[A-Z]| \.|,", variation)
            and not (variation.endswith(".") and not edition.endswith(".")))


def printed_variants(edition: str, info: dict[str, object],
                     spellings: dict[str, set[str]]) -> list[str]:
    """reporters-db's variations of an edition that are the same letters spaced or punctuated
    otherwise ("U. S.", "F. 3d", "F3d", "S.Ct.", "N. E. 2d"), else any other unambiguous one."""
    variations = [v for v in list(info["variations"])  # type: ignore[call-overload]
                  if v != edition and _printable(v, edition)
                  and spellings.get(_fold(v)) == {edition}]
    same = [v for v in variations if _fold(v) == _fold(edition)]
    return same or variations


def typed_reporter(edition: str) -> str:
    """As a lawyer types it: no periods, single letters run together ("US", "F3d", "NE2d"),
    words kept apart ("F Supp 2d", "L Ed 2d", "Cal App 4th")."""
    out: list[str] = []
    joinable = False
    for token in edition.replace(".", " ").split():
        single = len(token) == 1 and token.isalpha()
        ordinal = re.fullmatch(r"\d+(?:d|th|st|nd|rd)", token) is not None
        if out and joinable and (single or ordinal):
            out[-1] += token
        else:
            out.append(token)
        joinable = single
    return " ".join(out)


# ---------------------------------------------------------------------------------------------
# Synthetic citations

@dataclass
class Cite:
    key: str
    kind: str  # case | statute | regulation
    printed: str  # as printed, on one line
    typed: str
    name: str = ""
    party: str = ""  # what a short form or supra calls the case: "Ashford"
    volume: int = 0
    reporter: str = ""  # as printed
    edition: str = ""
    first: int = 0  # the first page
    pin: int = 0
    paren: str = ""  # the court parenthetical, "(3d Cir. 1999)"
    variation: bool = False
    break_at: int = -1  # printed with a line break at this space, or -1
    group: int = -1  # a parallel citation's group
    file: str = ""
    forms: list[tuple[int, str]] = field(default_factory=list)  # (page, full|short|id|supra)

    @property
    def on_lines(self) -> str:
        """As printed, with the line break in it."""
        if self.break_at < 0:
            return self.printed
        return self.printed[:self.break_at] + "\n" + self.printed[self.break_at + 1:]

    def pin_cite(self, rng: random.Random) -> int:
        return self.pin + rng.randint(0, 12)

    def to_json(self) -> dict[str, object]:
        return {"key": self.key, "kind": self.kind, "court_form": self.printed,
                "typed_form": self.typed, "case_name": self.name, "file": self.file,
                "pages": sorted({p for p, _ in self.forms}), "first_page": self.first,
                "forms": [{"page": p, "form": f} for p, f in self.forms],
                "reporter": self.edition, "printed_reporter": self.reporter,
                "variation": self.variation, "line_split": self.break_at >= 0,
                "page_split": (self.first + 1, "id") in self.forms,
                "parallel": self.group >= 0}


def _names(rng: random.Random) -> list[str]:
    names = [h + t for h in _HEADS for t in _TAILS]
    rng.shuffle(names)
    return names


def _paren(edition: str, info: dict[str, object], year: int, rng: random.Random) -> str:
    reporter = str(info["reporter"])
    if reporter in ("F.", "F. App'x"):
        return f"({rng.choice(CIRCUITS)} {year})"
    if reporter == "F. Supp.":
        return f"({rng.choice(DISTRICTS)} {year})"
    if reporter == "M.J.":
        return f"(C.A.A.F. {year})"
    if reporter in REGIONAL_COURTS:
        return f"({rng.choice(REGIONAL_COURTS[reporter])} {year})"
    return f"({year})"


def make_cases(rng: random.Random) -> list[Cite]:
    """Two citations of each edition (a printed variant, then the canonical form) and two
    parallel citations (U.S., S. Ct., L. Ed. 2d) of one case each; unique names and volumes."""
    editions, spellings = reporter_table()
    names = iter(_names(rng))
    used: set[tuple[str, int]] = set()
    cites: list[Cite] = []

    def one(edition: str, variant: bool, year: int | None = None) -> Cite:
        info = editions[edition]
        forms = printed_variants(edition, info, spellings) if variant else []
        printed = rng.choice(forms) if forms else edition
        while True:
            volume = rng.randint(1, 600)
            if (edition, volume) not in used:
                used.add((edition, volume))
                break
        page = rng.randint(1, 1400)
        start, end = int(str(info["start"])), min(int(str(info["end"])), 2024)
        year = year or rng.randint(max(start, 1850), max(start, end))
        typed = f"{volume} {typed_reporter(edition)} {page}"
        return Cite(f"{volume} {edition} {page}", "case", f"{volume} {printed} {page}", typed,
                    volume=volume, reporter=printed, edition=edition, pin=page + 1,
                    paren=_paren(edition, info, year, rng), variation=printed != edition)

    def name(cite: Cite) -> None:
        plaintiff, defendant = next(names), next(names)
        cite.name = f"{plaintiff} v. {rng.choice(_DEFENDANTS).format(defendant)}"
        cite.party = plaintiff

    for edition in EDITIONS:
        for variant in (True, False):
            cite = one(edition, variant)
            name(cite)
            cites.append(cite)
    for group, variant in enumerate((True, False)):
        year = rng.randint(1957, 2023)
        members = [one(edition, variant, year) for edition in PARALLEL]
        name(members[0])
        for m in members:
            m.name, m.party, m.group, m.paren = members[0].name, members[0].party, group, ""
        members[-1].paren = f"({year})"
        cites.extend(members)
    for cite in cites:  # a line break inside one citation in three
        if rng.random() < 0.35:
            spaces = [i for i, ch in enumerate(cite.printed) if ch == " "]
            cite.break_at = rng.choice(spaces)
    return cites


def make_laws(rng: random.Random) -> list[Cite]:
    laws = []
    for key, printed, typed in LAWS:
        kind = "regulation" if "C.F.R." in key else "statute"
        law = Cite(key, kind, printed, typed)
        if rng.random() < 0.35:
            law.break_at = rng.choice([i for i, ch in enumerate(printed) if ch == " "])
        laws.append(law)
    return laws


# ---------------------------------------------------------------------------------------------
# Synthetic pages

def _cap(text: str) -> str:
    return text[0].upper() + text[1:]


def full_sentence(item: list[Cite], rng: random.Random) -> str:
    """A sentence citing a case (or one case's parallel citations) or a law in full."""
    first = item[0]
    holding = rng.choice(HOLDINGS)
    if first.kind != "case":
        return rng.choice([
            f"The claim arises under {first.on_lines}, and {holding}.",
            f"Plaintiff relies on {first.on_lines}. {_cap(holding)}.",
            f"See {first.on_lines}.",
        ])
    if len(item) > 1:
        cite = f"{item[0].on_lines}, {item[0].pin}, " + ", ".join(c.on_lines for c in item[1:])
        paren = item[-1].paren
    else:
        cite = f"{first.on_lines}, {first.pin}"
        paren = first.paren
    return rng.choice([
        f"The court in {first.name}, {cite} {paren}, held that {holding}.",
        f"See {first.name}, {cite} {paren} (holding that {holding}).",
        f"{_cap(holding)}. {first.name}, {cite} {paren}.",
        f"See also {first.name}, {cite} {paren}.",
        f"In {first.name}, {cite} {paren}, the court explained that {holding}.",
        f"Cf. {first.name}, {cite} {paren}.",
    ])


def discussion(rng: random.Random) -> list[str]:
    """Two to five sentences of prose without citations, so that a page is as long as an
    opinion's (a passage then holds a few citations, not a dozen)."""
    out = []
    for _ in range(rng.randint(2, 5)):
        if rng.random() < 0.4:
            out.append(f"{rng.choice(LEADS)} {rng.choice(HOLDINGS)}.")
        else:
            out.append(rng.choice(FILLERS))
    return out


def id_sentence(cite: Cite, rng: random.Random) -> str:
    if cite.kind != "case":
        return rng.choice(["See id.", "Id."])
    pin = cite.pin_cite(rng)
    return rng.choice([f"Id., at {pin}.", f"Id. at {pin}.", f"See id. at {pin}."])


def short_sentence(cite: Cite, rng: random.Random) -> tuple[str, str]:
    """A short form ("Ashford, 123 F. 3d, at 460") or supra of an earlier case (never of
    parallel citations: a supra cannot say which of them it means)."""
    pin = cite.pin_cite(rng)
    if cite.group >= 0 or rng.random() < 0.6:
        short = f"{cite.party}, {cite.volume} {cite.reporter}, at {pin}"
        return "short", rng.choice([f"See {short}.", f"{_cap(rng.choice(HOLDINGS))}. {short}."])
    return "supra", rng.choice([f"{cite.party}, supra, at {pin}.",
                                f"As {cite.party}, supra, at {pin}, explained, "
                                f"{rng.choice(HOLDINGS)}."])


def caption(index: int, rng: random.Random) -> str:
    """An opinion's first lines (court, docket, parties, judges, counsel) without citations,
    as real opinions open: Desk matches a query against each document's opening to find the
    document it names, and a synthetic opening dense with citations would draw every search."""
    names = [h + t for h in _HEADS for t in _CAPTION_TAILS]
    rng.shuffle(names)
    circuit, district = _CAPTION_COURTS[index % len(_CAPTION_COURTS)]
    a, b, j1, j2, j3, c1, c2, dj = names[:8]
    first = rng.sample(_FIRST_NAMES, 3)
    year = rng.randint(2015, 2023)
    return (f"UNITED STATES COURT OF APPEALS\nFOR THE {circuit} CIRCUIT\n\n"
            f"No. {year % 100}-{rng.randint(1000, 9999)}\n\n"
            f"{a.upper()} LOGISTICS, INC., Plaintiff-Appellant,\nv.\n"
            f"{b.upper()} COUNTY, Defendant-Appellee.\n\n"
            f"Appeal from the United States District Court for the {district}\n"
            f"District Judge: Honorable {first[0]} {dj}\n\n"
            f"Argued {rng.choice(_MONTHS)} {rng.randint(1, 28)}, {year}\n"
            f"Before: {j1.upper()}, {j2.upper()} and {j3.upper()}, Circuit Judges.\n"
            f"(Filed: {rng.choice(_MONTHS)} {rng.randint(1, 28)}, {year + 1})\n\n"
            f"{first[1]} {c1} (Argued), {c1} & Partners LLP, for Appellant.\n"
            f"{first[2]} {c2}, Office of the County Attorney, for Appellee.\n\n"
            f"OPINION OF THE COURT\n\n{j1.upper()}, Circuit Judge.\n\n"
            "This appeal asks whether the district court applied the right standard, and we "
            "hold that it did not in part. We recount only the facts needed to decide it.")


def build_document(file: str, items: list[list[Cite]], pages: int, rng: random.Random,
                   opening: str = "") -> list[str]:
    """Lay the items out over the pages, after `opening` on the first; record on each
    citation every page that cites it."""
    per_page = [items[i::pages] for i in range(pages)]
    texts: list[str] = []
    earlier: list[Cite] = []  # cases cited in full on earlier pages, for short forms and supra
    carry: Cite | None = None  # cited at the end of the previous page; its Id. opens this one
    for number, chunk in enumerate(per_page, start=1):
        sentences: list[str] = []
        if carry is not None:
            sentences.append(id_sentence(carry, rng))
            carry.forms.append((number, "id"))
            carry = None
        sentences.extend(discussion(rng))
        later: list[Cite] = []
        for index, item in enumerate(chunk):
            last = index == len(chunk) - 1
            if earlier and rng.random() < 0.7:
                target = rng.choice(earlier)
                form, text = short_sentence(target, rng)
                sentences.append(text)
                target.forms.append((number, form))
            for cite in item:
                cite.file, cite.first = file, number
                cite.forms.append((number, "full"))
            sentences.append(full_sentence(item, rng))
            if item[0].kind == "case":
                later.append(item[0])  # of parallel citations, short forms cite the first
            if last and number < pages and len(item) == 1:
                carry = item[0]  # ends the page: its Id. starts the next
                continue
            if len(item) == 1 and rng.random() < 0.35:
                sentences.append(id_sentence(item[0], rng))
                item[0].forms.append((number, "id"))
            if not last:
                sentences.extend(discussion(rng))
        earlier.extend(later)
        body = _paragraphs(sentences, rng)
        texts.append(f"{opening}\n\n{body}" if number == 1 and opening else body)
    return texts


def _paragraphs(sentences: list[str], rng: random.Random) -> str:
    out: list[str] = []
    line: list[str] = []
    for sentence in sentences:
        line.append(sentence)
        if len(line) >= rng.randint(2, 4):
            out.append(" ".join(line))
            line = []
    if line:
        out.append(" ".join(line))
    return "\n\n".join(out)


def _collapse(text: str) -> str:
    return " ".join(text.split())


def fix_id(path: Path) -> None:
    """A fixed trailer /ID instead of PyMuPDF's random one, so that a rebuilt corpus is the
    same bytes (Desk keys documents by their SHA-256 and would take a rebuilt one as changed)."""
    digest = hashlib.md5(path.name.encode()).hexdigest().upper()
    doc = pymupdf.open(path)
    doc.xref_set_key(-1, "ID", f"[<{digest}><{digest}>]")
    staged = path.with_suffix(".tmp")
    doc.save(staged, no_new_id=True)
    doc.close()
    staged.replace(path)


def check_pages(path: Path, expected: dict[int, list[str]]) -> None:
    """Every citation the gold puts on a page is in that page's text layer (as Desk reads it):
    nothing overflowed the text box or was mangled by the font."""
    from desk.ingest.pdf import read_pdf

    pages = {p.number: _collapse(p.text) for p in read_pdf(path).pages}
    for number, snippets in expected.items():
        for snippet in snippets:
            if _collapse(snippet) not in pages.get(number, ""):
                raise SystemExit(f"{path.name} page {number}: {snippet!r} is not in its text")


# ---------------------------------------------------------------------------------------------

def build(out: Path, seed: int = SEED) -> dict[str, Any]:
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    opinions: list[str] = []
    for source in sorted(SOURCE.iterdir()):
        if source.suffix.lower() == ".pdf":
            shutil.copyfile(source, out / source.name)
            opinions.append(source.name)
        elif source.suffix.lower() == ".txt":
            pages = paginate(source.read_text(encoding="utf-8"))
            fix_id(make_pdf(out / f"{source.stem}.pdf", pages, OPINION_FONT))
            opinions.append(f"{source.stem}.pdf")

    cases = make_cases(rng)
    laws = make_laws(rng)
    items: list[list[Cite]] = []
    groups: dict[int, list[Cite]] = {}
    for cite in cases:
        if cite.group >= 0:
            groups.setdefault(cite.group, []).append(cite)
        else:
            items.append([cite])
    items += list(groups.values()) + [[law] for law in laws]
    rng.shuffle(items)
    synthetic: list[str] = []
    for d in range(SYNTHETIC_DOCS):
        file = f"synthetic-opinion-{d + 1}.pdf"
        texts = build_document(file, items[d::SYNTHETIC_DOCS], SYNTHETIC_PAGES, rng,
                               caption(d, rng))
        for number, text in enumerate(texts, start=1):
            if not fits(text, SYNTHETIC_FONT):
                raise SystemExit(f"{file} page {number} overflows its text box")
        path = make_pdf(out / file, texts, SYNTHETIC_FONT)
        fix_id(path)
        expected: dict[int, list[str]] = {}
        for cite in cases + laws:
            if cite.file == file:
                expected.setdefault(cite.first, []).append(cite.printed)
        check_pages(path, expected)
        synthetic.append(file)
    fix_id(make_pdf(out / CONTRACT_FILE, CONTRACT_PAGES, SYNTHETIC_FONT))

    gold = {"seed": seed, "opinions": opinions, "synthetic": synthetic,
            "contracts": {"file": CONTRACT_FILE, "pages": list(range(1, len(CONTRACT_PAGES) + 1))},
            "citations": [c.to_json() for c in sorted(cases + laws, key=lambda c: (c.file, c.first))]}
    (out / "gold.json").write_text(json.dumps(gold, indent=1, ensure_ascii=False) + "\n",
                                   encoding="utf-8")
    return gold


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the folder to write (made if missing)")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    gold = build(args.out, args.seed)
    cites = gold["citations"]
    print(f"{args.out}: {len(gold['opinions'])} opinions, "
          f"{len(gold['synthetic'])} synthetic opinions with {len(cites)} citations "
          f"({sum(c['line_split'] for c in cites)} split across lines, "
          f"{sum(c['page_split'] for c in cites)} across pages, "
          f"{sum(c['variation'] for c in cites)} in a reporters-db variation), 1 contract")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
