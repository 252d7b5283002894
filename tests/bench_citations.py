"""Citation search, extraction and table of authorities on the case-law dev corpus, run on demand
(not in the test suite):

    .venv/bin/python -m tests.make_case_corpus /tmp/case-corpus
    DESK_HOME=/tmp/cases-home .venv/bin/python -m tests.bench_citations --corpus /tmp/case-corpus \
        [--contracts ../shared/data/cuad-dev/pdf] [--out report.json]

Imports the corpus (and the CUAD contracts, into the same matter: opinions beside contracts, as
a lawyer's matter holds them) into a fresh matter, then measures:
* citation lookup: each synthetic citation searched as printed and as typed, k=4; a hit counts
  when its page range holds a page that cites the authority (the gold pages, and the pages of
  the real documents that cite the same key: a search for "42 USC 1983" may rightly answer
  with an opinion's page); top-4 and top-1 shares, and the same for each case's name; beside
  them the same searched with whole_matter=True, which tells what narrowing a search to the
  document it seems to name costs;
* the same on the real opinions, whose gold is what the extractor stored (the pages of each
  full citation's key, searched by its text on its first page and by the key): it measures the
  search, not the extraction; searched before the synthetic documents are imported;
* extraction recall on the synthetic pages (the key stored on every gold page), false
  citations on the synthetic contract pages (must be 0), and every citation found on the CUAD
  contracts with its context (contracts do cite statutes: the list is to be read);
* the table of authorities of each document against its stored citations, and of the
  synthetic documents against the gold;
* import speed and the citation finder's share of it, on the contracts and on the opinions.
Misses are listed with why, where that can be told (the query's key, the stored keys, the
document the query was narrowed to).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

from desk.config.settings import load_settings
from desk.core.types import Document, Hit
from desk.index.citations import find_citations, query_citations
from desk.index.matter import Matter, delete_matter, list_matters, open_matter
from desk.index.retriever import Retriever
from desk.ingest.importer import ImportJob
from desk.review import authorities as authorities_module
from desk.review.authorities import table_of_authorities

MATTER = "caselaw-bench"
K = 4
TARGETS = {"top4": 0.95, "top1": 0.85, "names_top4": 0.90}

Pages = dict[str, set[int]]  # file -> pages
KeyPages = dict[str, Pages]  # key -> file -> the pages the extractor stored it on (any form)


def _ws(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------------------------------------
# Import

def finder_alone(matter: Matter, files: set[str]) -> dict[str, Any]:
    """find_citations on the stored page texts, one document at a time, in this thread alone:
    the finder's own cost, without the import's reader and embedder competing for the GIL."""
    pages, seconds = 0, 0.0
    for doc in matter.catalog.documents():
        if doc.file_name in files:
            texts = matter.catalog.page_texts(doc.id)
            started = time.perf_counter()
            find_citations(texts)
            seconds += time.perf_counter() - started
            pages += len(texts)
    return {"pages": pages, "seconds": round(seconds, 3),
            "ms_per_page": round(1000 * seconds / pages, 2) if pages else None}


def import_files(matter: Matter, label: str, paths: list[Path]) -> dict[str, Any]:
    """One import job; its figures from the job's own summary. OCR is off: the corpus has text
    layers, and OCR time would hide the finder's share."""
    chunking = load_settings().chunking
    job = ImportJob(matter, paths, chunking.size, chunking.overlap, ocr=False)
    for _ in job.run():
        pass
    s = job.summary
    return {"input": label, "files": s.added, "pages": s.pages, "chunks": s.chunks,
            "seconds": round(s.seconds, 2), "pages_per_s": round(s.pages / s.seconds, 1)
            if s.seconds else None,
            "citation_seconds": round(s.citation_seconds, 3),
            "citation_share": round(s.citation_seconds / s.seconds, 4) if s.seconds else None,
            "citation_ms_per_page": round(1000 * s.citation_seconds / s.pages, 2)
            if s.pages else None,
            "extract_seconds": round(s.extract_seconds, 2),
            "embed_seconds": round(s.embed_seconds, 2), "failed": s.failed,
            "needs_ocr": s.pages_needing_ocr}


# ---------------------------------------------------------------------------------------------
# Search

@dataclass
class Lookup:
    """One query and where its answer may be."""

    query: str
    accept: Pages
    key: str = ""  # the authority it should find
    gold_file: str = ""
    label: str = ""  # what the query is (court form, typed form, name)
    rank: int | None = None  # 1-based rank of the first acceptable hit within k
    rank_whole: int | None = None  # the same, searched with whole_matter=True (no narrowing)
    hits: list[dict[str, Any]] = field(default_factory=list)
    why: str = ""


def _ok(hit: Hit, accept: Pages) -> bool:
    pages = accept.get(hit.file, set())
    return any(p in pages for p in range(hit.page_start, hit.page_end + 1))


def run_lookups(retriever: Retriever, lookups: list[Lookup], stored: KeyPages) -> None:
    for lookup in lookups:
        hits = retriever.search(lookup.query, k=K)
        lookup.hits = [{"file": h.file, "pages": f"{h.page_start}-{h.page_end}",
                        "score": round(h.score, 4)} for h in hits]
        lookup.rank = next((i + 1 for i, h in enumerate(hits) if _ok(h, lookup.accept)), None)
        if lookup.rank != 1:
            lookup.why = explain(retriever, lookup, stored)
        whole = retriever.search(lookup.query, k=K, whole_matter=True)
        lookup.rank_whole = next((i + 1 for i, h in enumerate(whole) if _ok(h, lookup.accept)),
                                 None)


def explain(retriever: Retriever, lookup: Lookup, stored: KeyPages) -> str:
    """Why a search missed, as far as the index can tell."""
    keys = query_citations(lookup.query)
    focus = retriever.last_focus.doc_id
    reasons = []
    if lookup.key:
        if not keys:
            reasons.append("the query parses to no citation key")
        elif lookup.key not in keys:
            reasons.append(f"the query parses to {keys}, not {lookup.key!r}")
        where = stored.get(lookup.key, {})
        gold_pages = lookup.accept.get(lookup.gold_file, set())
        on_gold = sorted(where.get(lookup.gold_file, set()) & gold_pages)
        if not on_gold:
            reasons.append(f"{lookup.key!r} is stored on no gold page of {lookup.gold_file}")
        elif lookup.key in keys:
            total = sum(len(p) for p in where.values())
            reasons.append(f"key stored on {total} page(s) in the matter, gold pages {on_gold} "
                           "not among those ranked")
    if focus is not None:
        doc = retriever.matter.catalog.document(focus)
        name = doc.file_name if doc else "?"
        if name != lookup.gold_file:
            reasons.append(f"the query was narrowed to {name}")
    if not lookup.key:
        reasons.append("name lookup: keys named " + str(retriever._cases_named(lookup.query)))
    return "; ".join(reasons) or "ranked below another page"


def shares(lookups: list[Lookup]) -> dict[str, Any]:
    """Top-4 and top-1 shares as Desk searches, and searched with whole_matter=True: the
    difference is what narrowing the search to a document "the query names" costs."""
    n = len(lookups)

    def share(count: int) -> float | None:
        return round(count / n, 3) if n else None

    return {"n": n, "top4": share(sum(lk.rank is not None for lk in lookups)),
            "top1": share(sum(lk.rank == 1 for lk in lookups)),
            "whole_top4": share(sum(lk.rank_whole is not None for lk in lookups)),
            "whole_top1": share(sum(lk.rank_whole == 1 for lk in lookups)),
            "narrowed_misses": sum(lk.rank is None and "narrowed to" in lk.why
                                   for lk in lookups)}


def misses(lookups: list[Lookup], top1: bool = False) -> list[dict[str, Any]]:
    return [{"query": lk.query, "label": lk.label, "key": lk.key, "file": lk.gold_file,
             "gold_pages": sorted(lk.accept.get(lk.gold_file, set())), "rank": lk.rank,
             "rank_whole_matter": lk.rank_whole, "why": lk.why, "hits": lk.hits}
            for lk in lookups if lk.rank is None or (top1 and lk.rank != 1)]


# ---------------------------------------------------------------------------------------------
# The catalog's citations

def stored_citations(matter: Matter) -> tuple[dict[int, Document], list[tuple[Any, ...]]]:
    catalog = matter.catalog
    return {d.id: d for d in catalog.documents()}, catalog.citations()


def pages_by_key(docs: dict[int, Document], rows: Iterable[tuple[Any, ...]]) -> KeyPages:
    out: KeyPages = {}
    for doc_id, page, key, *_ in rows:
        out.setdefault(key, {}).setdefault(docs[doc_id].file_name, set()).add(page)
    return out


def accept_for(key: str, gold: Pages, stored: KeyPages, own: set[str]) -> Pages:
    """The gold pages, plus the pages of other (real) documents that cite the same key."""
    accept: Pages = {f: set(p) for f, p in gold.items()}
    for file, pages in stored.get(key, {}).items():
        if file not in own:
            accept.setdefault(file, set()).update(pages)
    return accept


# ---------------------------------------------------------------------------------------------
# The measures

def synthetic_lookups(gold: dict[str, Any], stored: KeyPages) -> dict[str, list[Lookup]]:
    own = set(gold["synthetic"]) | {gold["contracts"]["file"]}
    court, typed, names = [], [], []
    by_name: dict[tuple[str, str], set[int]] = defaultdict(set)
    for c in gold["citations"]:
        accept = accept_for(c["key"], {c["file"]: set(c["pages"])}, stored, own)
        court.append(Lookup(c["court_form"], accept, c["key"], c["file"], "court form"))
        typed.append(Lookup(c["typed_form"], accept, c["key"], c["file"], "typed form"))
        if c["case_name"]:
            by_name[(c["case_name"], c["file"])].update(c["pages"])
    for (name, file), pages in by_name.items():
        names.append(Lookup(name, {file: pages}, "", file, "case name"))
    return {"court_form": court, "typed_form": typed, "case_name": names}


def real_lookups(gold: dict[str, Any], docs: dict[int, Document], rows: list[tuple[Any, ...]],
                 stored: KeyPages, texts: dict[int, list[str]]) -> dict[str, list[Lookup]]:
    """Gold from the extractor: each full citation key of a real opinion, searched by its text
    on its first page (as printed) and by the key (as typed)."""
    real = set(gold["opinions"])
    first: dict[tuple[int, str], tuple[int, int, int, str]] = {}
    for doc_id, page, key, kind, form, _name, _pin, start, end in rows:
        if docs[doc_id].file_name in real and form == "full" and (doc_id, key) not in first:
            first[(doc_id, key)] = (page, start, end, kind)
    printed, typed = [], []
    for (doc_id, key), (page, start, end, kind) in first.items():
        file = docs[doc_id].file_name
        raw = texts[doc_id][page - 1][start:end]
        accept = {f: set(p) for f, p in stored[key].items()}
        printed.append(Lookup(_ws(raw), accept, key, file, f"as printed ({kind})"))
        typed.append(Lookup(key, accept, key, file, f"as keyed ({kind})"))
    return {"as_printed": printed, "as_keyed": typed}


def extraction(gold: dict[str, Any], docs: dict[int, Document],
               rows: list[tuple[Any, ...]]) -> dict[str, Any]:
    """Recall: the key stored on every gold page (by form: which pages lacked it); names of
    the full case citations; keys stored on synthetic pages that the gold does not have."""
    at: dict[tuple[str, int], dict[str, list[tuple[Any, ...]]]] = defaultdict(dict)
    for row in rows:
        at[(docs[row[0]].file_name, row[1])].setdefault(row[2], []).append(row)
    failures, found, names_ok, names_n = [], 0, 0, 0
    by_feature: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    gold_keys: dict[tuple[str, int], set[str]] = defaultdict(set)
    for c in gold["citations"]:
        for p in c["pages"]:
            gold_keys[(c["file"], p)].add(c["key"])
        missing = [f for f in c["forms"] if c["key"] not in at.get((c["file"], f["page"]), {})]
        ok = not missing
        found += ok
        features = ["all"] + [f for f in ("line_split", "page_split", "variation", "parallel")
                              if c[f]] + [c["kind"]]
        for f in features:
            by_feature[f][0] += ok
            by_feature[f][1] += 1
        if c["case_name"]:
            full = [r for r in at.get((c["file"], c["first_page"]), {}).get(c["key"], [])
                    if r[4] == "full"]
            if full:
                names_n += 1
                names_ok += _ws(full[0][5]) == c["case_name"]
        if not ok:
            stored_there = {f["page"]: sorted(at.get((c["file"], f["page"]), {}))
                            for f in missing}
            failures.append({"key": c["key"], "court_form": c["court_form"], "file": c["file"],
                             "missing": missing, "keys_stored_there": stored_there})
    synthetic = set(gold["synthetic"])
    extra = sorted({(f, p, k) for (f, p), keys in at.items() if f in synthetic
                    for k in keys if k not in gold_keys[(f, p)]})
    wrong_names = []
    for c in gold["citations"]:
        full = [r for r in at.get((c["file"], c["first_page"]), {}).get(c["key"], [])
                if r[4] == "full"]
        if c["case_name"] and full and _ws(full[0][5]) != c["case_name"]:
            wrong_names.append({"key": c["key"], "gold": c["case_name"], "stored": full[0][5]})
    n = len(gold["citations"])
    return {"n": n, "recall": round(found / n, 3),
            "by_feature": {f: {"found": a, "n": b} for f, (a, b) in by_feature.items()},
            "names_exact": f"{names_ok}/{names_n}", "wrong_names": wrong_names,
            "failures": failures,
            "extra_keys": [{"file": f, "page": p, "key": k} for f, p, k in extra]}


def false_citations(gold: dict[str, Any], docs: dict[int, Document], rows: list[tuple[Any, ...]],
                    texts: dict[int, list[str]], contracts: set[str]) -> dict[str, Any]:
    """Every citation stored on a contract, with its text and some context: a contract may
    rightly cite a statute ("11 U.S.C. § 541(b)(1)"), so the CUAD list is read, not counted."""
    def listed(files: set[str]) -> list[dict[str, Any]]:
        return [{"file": docs[d].file_name, "page": p, "key": k, "kind": kind, "form": form,
                 "text": _ws(texts[d][p - 1][s:e]),
                 "context": _ws(texts[d][p - 1][max(0, s - 70):e + 40])}
                for d, p, k, kind, form, _n, _pin, s, e in rows if docs[d].file_name in files]

    cuad = listed(contracts)
    return {"contract_pages": listed({gold["contracts"]["file"]}), "cuad": cuad,
            "cuad_by_kind": dict(Counter(r["kind"] for r in cuad))}


def authorities(matter: Matter, gold: dict[str, Any]) -> dict[str, Any]:
    """Each document's table of authorities: every key with a full citation listed, with all
    the pages citing it; and for the synthetic documents, every gold key with its gold pages."""
    catalog = matter.catalog
    gold_by_file: dict[str, dict[str, set[int]]] = defaultdict(dict)
    for c in gold["citations"]:
        gold_by_file[c["file"]][c["key"]] = set(c["pages"])
    out = []
    for doc in catalog.documents():
        rows = catalog.citations(doc.id)
        pages: dict[str, set[int]] = defaultdict(set)
        full = set()
        for _d, page, key, _kind, form, *_ in rows:
            pages[key].add(page)
            if form == "full":
                full.add(key)
        error = ""
        try:
            entries = table_of_authorities(catalog, doc).authorities
        except Exception as exc:  # a bug in the table is a finding, not the end of the bench
            error = f"{type(exc).__name__}: {exc}"
            # its contents can still be checked: the same table, sorted by kind and key
            with mock.patch.object(authorities_module, "_sort_key",
                                   lambda a: (a.kind, a.key)):
                entries = table_of_authorities(catalog, doc).authorities
        # an entry lists a case by its first citation with its parallels, and every page
        # citing it by any of them
        table = {k: set(a.pages) for a in entries for k in (a.key, *a.parallels)}
        group = {k: (a.key, *a.parallels) for a in entries for k in (a.key, *a.parallels)}
        report: dict[str, Any] = {"error": error,
            "file": doc.file_name, "authorities": len(table), "stored_full_keys": len(full),
            "missing": sorted(full - set(table)), "extra": sorted(set(table) - full),
            "wrong_pages": [{"key": k, "table": sorted(table[k]), "stored": sorted(stored)}
                            for k in sorted(full & set(table))
                            if table[k] != (stored := set().union(*(pages[g] for g in group[k])))]}
        if doc.file_name in gold_by_file:
            want = gold_by_file[doc.file_name]
            report["gold_missing"] = sorted(set(want) - set(table))
            report["gold_wrong_pages"] = [
                {"key": k, "table": sorted(table[k]), "gold": sorted(gold)}
                for k in sorted(set(want) & set(table))
                if table[k] != (gold := set().union(*(want.get(g, set()) for g in group[k])))]
        out.append(report)
    complete = [r for r in out if not (r["missing"] or r["extra"] or r["wrong_pages"])]
    gold_complete = [r for r in out if "gold_missing" in r
                     and not (r["gold_missing"] or r["gold_wrong_pages"])]
    return {"documents": len(out), "complete": len(complete),
            "synthetic": sum("gold_missing" in r for r in out),
            "gold_complete": len(gold_complete),
            "errors": sum(bool(r["error"]) for r in out), "tables": out}


# ---------------------------------------------------------------------------------------------
# Report

SHOWN = 12  # misses printed per set


def _reason(why: str) -> str:
    if "narrowed to" in why:
        return "narrowed to another document"
    if "parses to" in why:
        return "query key"
    if "stored on no gold page" in why:
        return "not stored"
    return "ranked below"


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def print_report(report: dict[str, Any]) -> None:
    w = sys.stdout.write
    w("\nIMPORT\n")
    w(f"  {'input':<22}{'files':>6}{'pages':>7}{'s':>8}{'pages/s':>9}{'cite s':>9}"
      f"{'share':>8}{'ms/page':>9}{'alone ms/page':>15}\n")
    for r in report["imports"]:
        w(f"  {r['input']:<22}{r['files']:>6}{r['pages']:>7}{r['seconds']:>8}"
          f"{_fmt(r['pages_per_s']):>9}{r['citation_seconds']:>9}{_fmt(r['citation_share']):>8}"
          f"{_fmt(r['citation_ms_per_page']):>9}{_fmt(r['alone']['ms_per_page']):>15}\n")
    w("  (share = citation_seconds / seconds of the import; alone = find_citations on the "
      "stored texts afterwards, nothing else running)\n")
    w(f"  first call of the citation finder (import, regexes): {report['warmup_s']} s\n")
    w(f"\nLOOKUP (k={K}; targets top-4 >= {TARGETS['top4']}, top-1 >= {TARGETS['top1']}, "
      f"names top-4 >= {TARGETS['names_top4']})\n")
    w(f"  {'set':<54}{'n':>5}{'top-4':>8}{'top-1':>8}  |{'whole matter: top-4':>20}"
      f"{'top-1':>7}{'narrowed misses':>17}\n")
    for label, f in report["lookup"].items():
        w(f"  {label:<54}{f['n']:>5}{_fmt(f['top4']):>8}{_fmt(f['top1']):>8}  |"
          f"{_fmt(f['whole_top4']):>20}{_fmt(f['whole_top1']):>7}{f['narrowed_misses']:>17}\n")
    e = report["extraction"]
    w(f"\nEXTRACTION (synthetic): recall {e['recall']:.3f} of {e['n']}; case names exact "
      f"{e['names_exact']}; keys not in the gold {len(e['extra_keys'])}\n")
    w("  " + ", ".join(f"{f} {v['found']}/{v['n']}" for f, v in e["by_feature"].items()) + "\n")
    for f in e["failures"]:
        w(f"  MISSED {f['key']!r} ({f['court_form']!r}, {f['file']}): "
          f"{[(m['page'], m['form']) for m in f['missing']]}; stored there "
          f"{f['keys_stored_there']}\n")
    fc = report["false_citations"]
    w(f"\nCITATIONS ON CONTRACTS: synthetic contract pages {len(fc['contract_pages'])} (must be "
      f"0); CUAD contracts {len(fc['cuad'])} {fc['cuad_by_kind']}\n")
    for r in fc["contract_pages"] + fc["cuad"]:
        w(f"  {r['file'][:40]} p{r['page']}: {r['key']!r} ({r['kind']}, {r['form']}) "
          f"in \"...{r['context']}...\"\n")
    a = report["authorities"]
    w(f"\nTABLE OF AUTHORITIES: {a['complete']}/{a['documents']} documents list every stored "
      f"full citation with all its pages; synthetic {a['gold_complete']}/{a['synthetic']} "
      f"match the gold; {a['errors']} raised (checked again sorted by kind and key)\n")
    errors = Counter(t["error"] for t in a["tables"] if t["error"])
    for error, count in errors.items():
        w(f"  {count} documents: {error}\n")
    for t in a["tables"]:
        bad = {k: t[k] for k in ("missing", "extra", "wrong_pages", "gold_missing",
                                 "gold_wrong_pages") if t.get(k)}
        if bad:
            w(f"  {t['file']}: {json.dumps(bad)[:600]}\n")
    w("\nSEARCH MISSES (not in the top 4; all in the JSON)\n")
    for label, items in report["misses"].items():
        reasons = Counter(_reason(m["why"]) for m in items)
        w(f"  {label}: {len(items)} misses: {dict(reasons)}\n")
        for m in items[:SHOWN]:
            w(f"    {m['query']!r} -> {m['why']}; whole matter rank {m['rank_whole_matter']}\n")
    w("\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, required=True,
                        help="a folder made by tests.make_case_corpus")
    parser.add_argument("--contracts", type=Path,
                        help="a folder of contract PDFs imported into the same matter (CUAD dev)")
    parser.add_argument("--out", type=Path, help="write the report as JSON here")
    args = parser.parse_args(argv)
    if not os.environ.get("DESK_HOME"):
        raise SystemExit("Set DESK_HOME to a scratch folder: the bench makes a matter there.")
    gold = json.loads((args.corpus / "gold.json").read_text(encoding="utf-8"))
    if MATTER in list_matters():
        delete_matter(MATTER)
    matter = open_matter(MATTER)
    try:
        started = time.perf_counter()
        find_citations(["Warm up: Grutter v. Bollinger, 539 U.S. 306 (2003)."])
        warmup = round(time.perf_counter() - started, 2)
        matter.embedder.embed(["warm up"])
        imports = []
        contracts: set[str] = set()
        if args.contracts:
            files = sorted(p for p in args.contracts.iterdir() if p.suffix.lower() == ".pdf")
            contracts = {p.name for p in files}
            imports.append(import_files(matter, "CUAD contracts", files))
        imports.append(import_files(matter, "real opinions",
                                    [args.corpus / f for f in gold["opinions"]]))
        # The real opinions are searched beside the contracts only: the synthetic pages, dense
        # with citations from their first lines, would otherwise draw their searches.
        docs, rows = stored_citations(matter)
        texts = {d: matter.catalog.page_texts(d) for d in docs}
        stored = pages_by_key(docs, rows)
        real = real_lookups(gold, docs, rows, stored, texts)
        for lookups in real.values():
            run_lookups(Retriever(matter), lookups, stored)
        imports.append(import_files(matter, "synthetic + contract",
                                    [args.corpus / f for f in gold["synthetic"]]
                                    + [args.corpus / gold["contracts"]["file"]]))
        groups = [{p.name for p in files} if args.contracts else set(), set(gold["opinions"]),
                  set(gold["synthetic"]) | {gold["contracts"]["file"]}][-len(imports):]
        for row, names in zip(imports, groups, strict=True):
            row["alone"] = finder_alone(matter, names)
        docs, rows = stored_citations(matter)
        texts = {d: matter.catalog.page_texts(d) for d in docs}
        stored = pages_by_key(docs, rows)
        synthetic = synthetic_lookups(gold, stored)
        for lookups in synthetic.values():
            run_lookups(Retriever(matter), lookups, stored)
        lookup = {"synthetic, court form": shares(synthetic["court_form"]),
                  "synthetic, typed form": shares(synthetic["typed_form"]),
                  "synthetic, case name": shares(synthetic["case_name"]),
                  "real opinions, as printed (gold from the extractor)":
                      shares(real["as_printed"]),
                  "real opinions, as keyed (gold from the extractor)": shares(real["as_keyed"])}
        for kind in ("case", "statute", "regulation"):
            for form in ("court_form", "typed_form"):
                chosen = [lk for lk, c in zip(synthetic[form], gold["citations"], strict=True)
                          if c["kind"] == kind]
                lookup[f"  synthetic {kind}s, {form.replace('_', ' ')}"] = shares(chosen)
        report = {
            "corpus": str(args.corpus), "matter": MATTER, "k": K, "warmup_s": warmup,
            "imports": imports, "lookup": lookup,
            "extraction": extraction(gold, docs, rows),
            "false_citations": false_citations(gold, docs, rows, texts, contracts),
            "authorities": authorities(matter, gold),
            "misses": {"court form": misses(synthetic["court_form"]),
                       "typed form": misses(synthetic["typed_form"]),
                       "case name": misses(synthetic["case_name"]),
                       "real, as printed": misses(real["as_printed"]),
                       "real, as keyed": misses(real["as_keyed"])},
            "top1_misses": {"court form": misses(synthetic["court_form"], True),
                            "typed form": misses(synthetic["typed_form"], True),
                            "case name": misses(synthetic["case_name"], True),
                            "real, as printed": misses(real["as_printed"], True),
                            "real, as keyed": misses(real["as_keyed"], True)},
        }
    finally:
        matter.close()
    print_report(report)
    if args.out:
        args.out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n",
                            encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
