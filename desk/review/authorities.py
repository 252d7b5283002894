"""The table of authorities of a document, as a brief has one: cases (alphabetical), statutes,
regulations and other authorities, each with every page citing it in any form (full, short,
Id., supra; not the document's own "Cite as"), "passim" past a threshold; and, for the matter, which documents cite an authority
and how often. Built from the citation index (desk/index/citations.py), exported as Markdown
and DOCX."""

from __future__ import annotations

import io
import re
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desk.core.files import atomic_write_bytes, atomic_write_text
from desk.core.types import Document
from desk.index.catalog import Catalog
from desk.index.citations import BLANK_PAGE, CASE, FULL, OTHER, OWN, REGULATION, STATUTE

PASSIM_PAGES = 5  # cited on this many pages or more: "passim", as briefs print it
SECTIONS = [(CASE, "Cases"), (STATUTE, "Statutes"), (REGULATION, "Regulations"),
            (OTHER, "Other Authorities")]


def authority_label(name: str, key: str, parallels: Iterable[str] = ()) -> str:
    """How an authority is listed: "Grutter v. Bollinger, 539 U.S. 306, 123 S. Ct. 2325" (its
    parallel citations after the first), or the citation."""
    citations = ", ".join((key, *parallels))
    return f"{name}, {citations}" if name else citations


@dataclass
class Authority:
    key: str  # the canonical citation: "539 U.S. 306", "42 U.S.C. § 1983"
    kind: str
    name: str = ""  # a case's name
    pages: list[int] = field(default_factory=list)
    references: int = 0  # citations of it in any form
    first: tuple[int, int, int] = (0, 0, 0)  # (page, start, end) of its first citation
    parallels: list[str] = field(default_factory=list)  # "123 S. Ct. 2325" after 539 U.S. 306

    @property
    def label(self) -> str:
        return authority_label(self.name, self.key, self.parallels)

    @property
    def where(self) -> str:
        if len(self.pages) >= PASSIM_PAGES:
            return "passim"
        return ", ".join(str(p) for p in self.pages)

    def to_json(self) -> dict[str, Any]:
        return {"citation": self.key, "parallel": self.parallels, "kind": self.kind,
                "name": self.name, "pages": self.pages, "references": self.references,
                "passim": len(self.pages) >= PASSIM_PAGES}


@dataclass
class TableOfAuthorities:
    file: str
    authorities: list[Authority]

    def section(self, kind: str) -> list[Authority]:
        return [a for a in self.authorities if a.kind == kind]

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, **{title.lower().replace(" ", "_"): [
            a.to_json() for a in self.section(kind)] for kind, title in SECTIONS}}


def _sort_key(authority: Authority) -> tuple[Any, ...]:
    """Cases by name (then citation, the unnamed last); statutes and regulations by title, then section, in
    numeric order: 42 U.S.C. § 1981 before § 1983 before § 12101."""
    if authority.kind == CASE:
        # named cases alphabetically; those whose name was not printed with them after
        name = re.sub(r"^(in re|ex parte)\s+", "", authority.name.casefold())
        return (0 if name else 1, name or authority.key.casefold(), authority.key)
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part)
                 for part in re.findall(r"\d+|[^\d\s]+", authority.key))


def _authority(key: str, name: str) -> Hashable:
    """What one entry of the table lists: a citation, or for a page left blank ("567 U.S. ___",
    which every slip opinion of the volume shares) the citation and its case's name."""
    return (key, name) if key.endswith(BLANK_PAGE) else key


def _first_citation(key: str, parallels: dict[str, str]) -> str:
    """The citation a case is listed by: the one its parallels follow ("129 S. Ct. 1937" is
    listed under "556 U.S. 662"), also where the parallel is cited alone."""
    seen = {key}
    while key in parallels and parallels[key] not in seen:
        key = parallels[key]
        seen.add(key)
    return key


def _gather(rows: list[tuple[Any, ...]], parallels: dict[str, str]
            ) -> tuple[list[Authority], list[tuple[Authority, tuple[Any, ...]]]]:
    """The entries these citation rows list (a case by its first citation, with its parallels,
    named as its full citations most often are), and each row with its entry; the document's
    own citation is no entry."""
    found: dict[Hashable, Authority] = {}
    names: dict[Hashable, Counter[str]] = defaultdict(Counter)
    placed: list[tuple[Authority, tuple[Any, ...]]] = []
    for row in rows:
        _, page, key, kind, form, name, _pin, start, end = row
        if form == OWN:
            continue
        first = _first_citation(key, parallels)
        group = _authority(first, name)
        authority = found.get(group)
        if authority is None:
            authority = found[group] = Authority(first, kind, first=(page, start, end))
        if key != first and key not in authority.parallels:
            authority.parallels.append(key)
        authority.references += 1
        if name and form == FULL:
            names[group][name] += 1
        placed.append((authority, row))
    for group, counts in names.items():
        found[group].name = counts.most_common(1)[0][0]
    return list(found.values()), placed


def table_of_authorities(catalog: Catalog, doc: Document) -> TableOfAuthorities:
    """The document's authorities with the pages citing each, sorted as a brief sorts them."""
    authorities, placed = _gather(catalog.citations(doc.id), catalog.parallel_citations(doc.id))
    for authority, row in placed:
        if row[1] not in authority.pages:
            authority.pages.append(row[1])
    order = {kind: n for n, (kind, _) in enumerate(SECTIONS)}
    return TableOfAuthorities(doc.file_name, sorted(
        authorities, key=lambda a: (order.get(a.kind, len(order)), _sort_key(a))))


def cited_by(catalog: Catalog) -> list[dict[str, Any]]:
    """Every authority of the matter with the documents citing it and how often, the most
    cited first."""
    files = {d.id: d.file_name for d in catalog.documents()}
    authorities, placed = _gather(catalog.citations(), catalog.parallel_citations())
    documents: dict[int, Counter[str]] = defaultdict(Counter)  # by id of the authority
    for authority, row in placed:
        documents[id(authority)][files.get(row[0], "?")] += 1
    out = [{"citation": a.key, "parallel": a.parallels, "kind": a.kind, "name": a.name,
            "references": a.references,
            "documents": [{"file": f, "references": n}
                          for f, n in documents[id(a)].most_common()]}
           for a in authorities]
    return sorted(out, key=lambda r: (-r["references"], r["citation"]))


def to_markdown(table: TableOfAuthorities) -> str:
    lines = [f"# Table of authorities: {table.file}", ""]
    for kind, title in SECTIONS:
        entries = table.section(kind)
        if not entries:
            continue
        lines += [f"## {title}", "", "| Authority | Pages |", "|---|---|"]
        lines += [f"| {a.label.replace('|', '/')} | {a.where} |" for a in entries]
        lines.append("")
    if not table.authorities:
        lines.append("No citations were found in this document.")
    return "\n".join(lines).rstrip() + "\n"


def write_markdown(table: TableOfAuthorities, path: Path) -> None:
    atomic_write_text(path, to_markdown(table))


def write_docx(table: TableOfAuthorities, path: Path) -> None:
    """A Word table of authorities: a heading per group, each authority on its own line with
    its pages after a dotted leader at the right margin, as briefs set it."""
    from docx import Document as WordDocument
    from docx.enum.text import WD_TAB_ALIGNMENT, WD_TAB_LEADER
    from docx.shared import Inches

    word = WordDocument()
    word.add_heading(f"Table of Authorities: {table.file}", level=1)
    section = word.sections[0]
    # python-docx's default template always has these; its types allow None
    right = int(section.page_width or 0) - int(section.left_margin or 0) - int(
        section.right_margin or 0)
    for kind, title in SECTIONS:
        entries = table.section(kind)
        if not entries:
            continue
        word.add_heading(title, level=2)
        for authority in entries:
            paragraph = word.add_paragraph()
            paragraph.paragraph_format.tab_stops.add_tab_stop(
                right, WD_TAB_ALIGNMENT.RIGHT, WD_TAB_LEADER.DOTS)
            paragraph.paragraph_format.left_indent = Inches(0.25)
            paragraph.paragraph_format.first_line_indent = Inches(-0.25)
            citations = authority_label("", authority.key, authority.parallels)
            if authority.kind == CASE and authority.name:
                paragraph.add_run(authority.name).italic = True
                paragraph.add_run(f", {citations}")
            else:
                paragraph.add_run(citations)
            paragraph.add_run(f"\t{authority.where}")
    if not table.authorities:
        word.add_paragraph("No citations were found in this document.")
    buffer = io.BytesIO()
    word.save(buffer)
    atomic_write_bytes(path, buffer.getvalue())
