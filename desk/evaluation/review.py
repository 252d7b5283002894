"""Review-table quality against an expert review set (CUAD's answers per contract and
category, /work/shared/data/cuad-dev/cuad-dev-review.json): clause presence per yes-no term
(precision, recall, F1), value accuracy of the answer terms Desk types by code, how many
present cells are verified and cite a gold page, and the plain-keyword baseline that Desk
must beat."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from desk.core.errors import DeskError
from desk.core.text import tokens
from desk.review.cells import Cell
from desk.review.terms import BY_NAME
from desk.review.values import (
    Duration,
    iso,
    parse_date,
    parse_duration,
    same_place,
)

DATE_TERMS = ("Agreement Date", "Effective Date", "Expiration Date")
DURATION_TERMS = ("Renewal Term", "Notice Period To Terminate Renewal")
VALUE_TERMS = ("Document Name", "Parties", *DATE_TERMS, *DURATION_TERMS, "Governing Law")
MAX_MISSES = 10
DURATION_SLACK_DAYS = 2  # "3 months" and "90 days" are the same notice period


def load_review_set(path: Path) -> dict[str, Any]:
    """The review set at `path`, checked for the keys scoring reads, so that a wrong file
    fails here with its name rather than deep inside scoring."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DeskError(f"{path}: review set not found.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DeskError(f"{path}: cannot read the review set ({exc}).") from None
    except json.JSONDecodeError as exc:
        raise DeskError(f"{path}: not a JSON review set ({exc}).") from None
    if not isinstance(data, dict):
        raise DeskError(f"{path}: a review set is a JSON object with categories and documents.")
    if not isinstance(data.get("categories"), dict):
        raise DeskError(f"{path}: the review set has no 'categories' (name -> kind).")
    if not isinstance(data.get("documents"), list):
        raise DeskError(f"{path}: the review set has no 'documents' list.")
    for i, doc in enumerate(data["documents"]):
        if not isinstance(doc, dict) or "file" not in doc or not isinstance(
                doc.get("terms"), dict):
            raise DeskError(f"{path}: document {i + 1} of the review set lacks 'file' or "
                            "'terms'.")
    return data


# --- Presence -----------------------------------------------------------------------------

def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def _presence_metrics(pairs: Iterable[tuple[bool, bool]]) -> dict[str, Any]:
    """Confusion counts and P/R/F1 of (gold, predicted) pairs. Precision is None with no
    predicted positives, recall None with no gold positives, and F1 None with neither: such a
    term says nothing about Desk and is left out of the macro average."""
    tp = fp = fn = tn = 0
    for gold, predicted in pairs:
        if gold and predicted:
            tp += 1
        elif predicted:
            fp += 1
        elif gold:
            fn += 1
        else:
            tn += 1
    return {"tp": tp, "fp": fp, "fn": fn, "tn": tn, "precision": _ratio(tp, tp + fp),
            "recall": _ratio(tp, tp + fn), "f1": _ratio(2 * tp, 2 * tp + fp + fn),
            "n": tp + fp + fn + tn}


def _macro_f1(presence: dict[str, dict[str, Any]]) -> float | None:
    """Mean F1 over the terms that have one (see _presence_metrics)."""
    # From the counts, not the rounded F1s, so the mean is not off in the last digit.
    scores = [2 * m["tp"] / (2 * m["tp"] + m["fp"] + m["fn"]) for m in presence.values()
              if m["f1"] is not None]
    return round(sum(scores) / len(scores), 4) if scores else None


def _yes_no_terms(review_set: dict[str, Any], terms: list[str]) -> list[str]:
    categories = review_set["categories"]
    return [t for t in terms if categories.get(t) == "yes-no"]


def _gold(doc: dict[str, Any], term: str) -> dict[str, Any]:
    return doc["terms"].get(term) or {"present": False, "answer": None, "quotes": []}


# --- Values -------------------------------------------------------------------------------

class _Tally:
    """Correct/total/skipped of one value term, and the first few misses to look at."""

    def __init__(self) -> None:
        self.correct = self.total = self.skipped = 0
        self.misses: list[dict[str, Any]] = []

    def add(self, ok: bool, file: str, gold: Any, cell: Cell) -> None:
        self.total += 1
        self.correct += ok
        if not ok and len(self.misses) < MAX_MISSES:
            self.misses.append({"file": file, "gold": gold, "value": cell.value})

    def to_json(self) -> dict[str, Any]:
        return {"correct": self.correct, "total": self.total,
                "accuracy": _ratio(self.correct, self.total), "skipped": self.skipped,
                "misses": self.misses}


def _is_perpetual(answer: Any) -> bool:
    return isinstance(answer, str) and answer.strip().casefold() == "perpetual"


def _cell_duration(cell: Cell) -> Duration | None:
    typed = cell.typed
    if typed and typed.get("type") == "duration":
        try:
            return Duration.from_json(typed)
        except (TypeError, ValueError):
            return None
    return None


def _same_duration(a: Duration, b: Duration) -> bool:
    if a.months is not None and b.months is not None:
        return a.months == b.months
    return abs(a.approx_days - b.approx_days) <= DURATION_SLACK_DAYS


def _plain(text: str) -> str:
    """Case and punctuation ignored, for finding a party's name in a cell."""
    return " ".join(tokens(text))


_QUOTED = re.compile(r"[\"“”](.+?)[\"“”]")
# What follows a party's name but is not part of it ("General Electric Capital Corporation
# together with its successors and assigns").
_NAME_TAIL = re.compile(r"\s*,?\s+(?:together\s+with|and\s+all\s+of\s+its|and\s+its|"
                        r"and\s+their|a\s+subsidiary\s+of|d/b/a|dba|doing\s+business\s+as)\b.*",
                        re.IGNORECASE | re.DOTALL)
# Words of entries that only restate the defined terms ("Company and AGI (each a Party ...)",
# "individually and collectively "JVP"").
_FILLER = frozenset("and the each individually collectively together jointly severally as a an "
                    "or with referred to be shall hereinafter singularly".split())


def gold_parties(answer: str) -> list[str]:
    """The party names in CUAD's Parties answer: 'A ("X"); B ("Y"); A and B (collectively
    the "Parties")' gives A and B. A name is what precedes its parenthesised defined term;
    entries made only of defined terms and connecting words are not parties."""
    names: list[str] = []
    defined: set[str] = set()
    for entry in answer.split(";"):
        entry = " ".join(entry.split())
        head = re.split(r"[(\"“”]", entry, maxsplit=1)[0]
        head = _NAME_TAIL.sub("", head).strip(" ,.")
        head = re.sub(r"^the\s+", "", head, flags=re.IGNORECASE)
        words = set(tokens(head)) - _FILLER - defined
        for quoted in _QUOTED.findall(entry):
            defined.update(tokens(quoted))
        if head and words:
            names.append(head)
    return names


def _document_name_ok(gold: str, value: str) -> bool:
    gold_text, found = " ".join(gold.casefold().split()), " ".join(value.casefold().split())
    return bool(gold_text and found) and (gold_text in found or found in gold_text)


def _score_value(term: str, doc: dict[str, Any], cell: Cell, tally: _Tally,
                 parties: list[int]) -> None:
    """One value cell against the experts' answer; `parties` accumulates [found, total]."""
    gold = _gold(doc, term)
    answer = gold.get("answer")
    file = doc["file"]
    if not answer:  # no such clause: right when Desk found none either
        tally.add(not cell.present, file, answer, cell)
        return
    if term in DATE_TERMS:
        if _is_perpetual(answer):
            # No expiration date; a cell saying "perpetual" (with no date) says as much.
            has_date = bool(cell.typed and cell.typed.get("type") == "date")
            ok = not cell.present or ("perpetual" in cell.value.casefold() and not has_date)
            tally.add(ok, file, answer, cell)
            return
        gold_date = parse_date(str(answer))
        if gold_date is None:  # "09/[]/2018": the experts left the day blank
            tally.skipped += 1
            return
        typed = cell.typed or {}
        tally.add(cell.present and typed.get("type") == "date"
                  and typed.get("iso") == iso(gold_date), file, answer, cell)
    elif term in DURATION_TERMS:
        gold_duration = parse_duration(str(answer))
        if gold_duration is None:  # "perpetual" and other answers with no length
            tally.skipped += 1
            return
        found = _cell_duration(cell) if cell.present else None
        tally.add(found is not None and _same_duration(gold_duration, found), file, answer,
                  cell)
    elif term == "Governing Law":
        typed = cell.typed or {}
        candidates = [cell.value]
        if typed.get("type") == "place" and typed.get("name"):
            candidates.insert(0, str(typed["name"]))
        tally.add(cell.present and any(same_place(str(answer), c) for c in candidates),
                  file, answer, cell)
    elif term == "Parties":
        names = gold_parties(str(answer))
        if not names:
            tally.skipped += 1
            return
        typed = cell.typed or {}
        texts = [cell.value]
        if typed.get("type") == "parties":
            texts += [str(n) for n in typed.get("names") or []]
        haystack = " " + " | ".join(_plain(t) for t in texts) + " "
        matched = sum(cell.present and f" {_plain(n)} " in haystack for n in names)
        parties[0] += matched
        parties[1] += len(names)
        tally.add(matched == len(names), file, answer, cell)
    elif term == "Document Name":
        tally.add(cell.present and _document_name_ok(str(answer), cell.value), file, answer,
                  cell)


# --- Scoring ------------------------------------------------------------------------------

def _gold_pages(gold: dict[str, Any]) -> set[int]:
    return {int(p) for q in gold.get("quotes") or [] for p in q.get("pages") or []}


def _same_file(a: str, b: str) -> bool:
    return Path(a).name.casefold() == Path(b).name.casefold()


def score_review(review_set: dict[str, Any], rows: dict[str, dict[str, Cell]],
                 terms: list[str]) -> dict[str, Any]:
    """Desk's review `rows` (file -> term -> cell) against the experts' set. Only documents
    in `rows`, terms in `terms` and cells that exist are scored; terms the set does not have
    (custom or derived columns) are left out."""
    categories = review_set["categories"]
    docs = [d for d in review_set["documents"] if d["file"] in rows]
    yes_no = _yes_no_terms(review_set, terms)
    value_terms = [t for t in terms if t in VALUE_TERMS and t in categories]

    pairs: dict[str, list[tuple[bool, bool]]] = {t: [] for t in yes_no}
    tallies = {t: _Tally() for t in value_terms}
    parties = [0, 0]
    cells = present = verified = cited_den = cited_gold = 0
    for doc in docs:
        row = rows[doc["file"]]
        for term in terms:
            cell = row.get(term)
            if cell is None or term not in categories:
                continue
            cells += 1
            gold = _gold(doc, term)
            if term in pairs:
                pairs[term].append((bool(gold.get("present")), cell.present))
            if term in tallies:
                _score_value(term, doc, cell, tallies[term], parties)
            if cell.present and cell.route != "derived":
                present += 1
                verified += cell.verified
            pages = _gold_pages(gold)
            if cell.present and cell.citations and gold.get("present") and pages:
                cited_den += 1
                cited_gold += any(_same_file(c.file, doc["file"]) and c.page in pages
                                  for c in cell.citations)
    presence = {t: _presence_metrics(pairs[t]) for t in yes_no}
    values = {t: tallies[t].to_json() for t in value_terms}
    if "Parties" in values:
        values["Parties"]["parties_found"], values["Parties"]["parties_total"] = parties
    return {"documents": len(docs), "presence": presence, "macro_f1": _macro_f1(presence),
            "values": values, "verified_share": _ratio(verified, present),
            "cited_gold_page_share": _ratio(cited_gold, cited_den), "cells": cells}


def keyword_baseline(review_set: dict[str, Any], page_texts: dict[str, list[str]],
                     terms: list[str]) -> dict[str, Any]:
    """The baseline Desk must beat: a clause is present when the document contains one of the
    term's plain keywords (case-insensitive). Scored on the documents in `page_texts` with
    the same presence metrics as score_review."""
    docs = [d for d in review_set["documents"] if d["file"] in page_texts]
    texts = {d["file"]: "\n".join(page_texts[d["file"]]).casefold() for d in docs}
    yes_no = [t for t in _yes_no_terms(review_set, terms) if t in BY_NAME
              and BY_NAME[t].keywords]
    presence: dict[str, dict[str, Any]] = {}
    for term in yes_no:
        keywords = [k.casefold() for k in BY_NAME[term].keywords]
        presence[term] = _presence_metrics(
            (bool(_gold(d, term).get("present")), any(k in texts[d["file"]] for k in keywords))
            for d in docs)
    return {"documents": len(docs), "presence": presence, "macro_f1": _macro_f1(presence)}


# --- Report -------------------------------------------------------------------------------

def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def format_report(report: dict[str, Any], baseline: dict[str, Any] | None) -> str:
    """A plain-text table of score_review's report, with the keyword baseline's F1 beside
    Desk's when given."""
    base = (baseline or {}).get("presence", {})
    width = max([len("Macro F1"), *(len(t) for t in report["presence"])]) + 2
    lines = [f"Review of {report.get('documents', 0)} documents, {report['cells']} cells",
             "", f"{'Presence':<{width}}{'P':>6}{'R':>6}{'F1':>6}{'Keyword F1':>12}{'n':>5}"]
    for term, m in report["presence"].items():
        keyword = base.get(term, {}).get("f1")
        lines.append(f"{term:<{width}}{_num(m['precision']):>6}{_num(m['recall']):>6}"
                     f"{_num(m['f1']):>6}{_num(keyword):>12}{m['n']:>5}")
    base_macro = baseline.get("macro_f1") if baseline else None
    lines.append(f"{'Macro F1':<{width}}{'':>12}{_num(report['macro_f1']):>6}"
                 f"{_num(base_macro):>12}")
    if report["values"]:
        vwidth = max(len(t) for t in report["values"]) + 2
        lines += ["", f"{'Values':<{vwidth}}{'correct':>9}{'accuracy':>10}{'skipped':>9}"]
        for term, v in report["values"].items():
            lines.append(f"{term:<{vwidth}}{v['correct']:>4}/{v['total']:<4}"
                         f"{_share(v['accuracy']):>10}{v['skipped']:>9}")
            if "parties_total" in v:
                lines.append(f"{'  names found':<{vwidth}}{v['parties_found']:>4}/"
                             f"{v['parties_total']:<4}")
    lines += ["", f"Present cells verified: {_share(report['verified_share'])}",
              f"Present cells citing a gold page: {_share(report['cited_gold_page_share'])}"]
    return "\n".join(lines)
