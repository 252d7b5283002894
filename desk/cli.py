"""Headless commands over the same services the desktop app uses (see DESIGN.md, CLI contract)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desk.config.settings import Settings, load_settings
from desk.core.errors import DeskError, MatterBusy
from desk.core.progress import Progress, drive

if TYPE_CHECKING:
    from desk.index.matter import Matter
    from desk.llm.model import AnswerModel

DEFAULT_MATTER = "default"


class ProgressPrinter:
    """Progress with ETA on stderr: one updating line on a terminal, a line every 2 s otherwise."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.last = 0.0
        self.stage = ""

    def __call__(self, progress: Progress) -> None:
        if self.quiet:
            return
        now = time.monotonic()
        finished = progress.done >= progress.total
        if progress.stage == self.stage and not finished and now - self.last < (0.2 if self.tty else 2.0):
            return
        self.stage, self.last = progress.stage, now
        eta = progress.eta_seconds()
        eta_text = f" ETA {int(eta) // 60}:{int(eta) % 60:02d}" if eta is not None and not finished else ""
        line = (f"[{progress.stage}] {progress.done}/{progress.total}{eta_text} "
                f"{progress.message[:60]}")
        if self.tty:
            sys.stderr.write("\r\033[K" + line + ("\n" if finished else ""))
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def run(self, jobs: Iterable[Progress]) -> None:
        for progress in jobs:
            self(progress)


def _emit(data: object) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def cmd_index(args: argparse.Namespace) -> int:
    from desk.index.matter import open_matter
    from desk.ingest.importer import ImportJob, rebuild, remove_documents

    settings = load_settings()
    printer = ProgressPrinter(quiet=args.quiet)
    matter = open_matter(args.matter, settings, check_fingerprint=not args.rebuild)
    try:
        if matter.repaired:
            print(f"Repaired the semantic index: {matter.repaired} passages to re-embed.",
                  file=sys.stderr)
        if args.remove:
            removed = remove_documents(matter, args.paths)
            if args.json:
                _emit({"removed": removed})
            else:
                print("Removed: " + ", ".join(removed))
            return 0
        if args.rebuild:
            printer.run(rebuild(matter, settings.chunking.size, settings.chunking.overlap))
        job = ImportJob(matter, [Path(p) for p in args.paths], settings.chunking.size,
                        settings.chunking.overlap, ocr=not args.no_ocr)
        printer.run(job.run())
        summary = job.summary
        if args.json:
            _emit(summary.to_json())
        else:
            print(f"Added {summary.added}, replaced {summary.replaced}, unchanged "
                  f"{summary.skipped}, failed {len(summary.failed)}: {summary.pages} pages, "
                  f"{summary.chunks} passages in {summary.seconds:.1f} s.")
            for failure in summary.failed:
                print(f"  FAILED {failure['file']}: {failure['error']}")
            for name, figures in summary.ocr.items():
                low = figures.low_confidence_pages
                print(f"  {name}: {figures.pages} page(s) read by OCR" +
                      (f", mean confidence {figures.to_json()['confidence']}" if figures.read
                       else "") + (f"; check pages {low} (low confidence)" if low else ""))
            for entry in summary.pages_needing_ocr:
                print(f"  {entry['file']}: pages {entry['pages']}: {entry['error']}")
        return 1 if summary.failed and not (summary.added or summary.skipped or
                                            summary.replaced) else 0
    finally:
        matter.close()


def _print_hits(hits: list, as_json: bool) -> None:
    if as_json:
        _emit([h.to_json() for h in hits])
        return
    for rank, hit in enumerate(hits, 1):
        pages = (f"p. {hit.page_start}" if hit.page_start == hit.page_end
                 else f"pp. {hit.page_start}-{hit.page_end}")
        snippet = " ".join(hit.text.split())[:240]
        print(f"{rank:2d}. {hit.file}, {pages}  ({hit.score:.4f})\n    {snippet}")


def cmd_search(args: argparse.Namespace) -> int:
    from desk.index.matter import open_matter
    from desk.index.retriever import Retriever

    matter = open_matter(args.matter, create=False)
    try:
        pending = matter.catalog.count_pending()
        if pending:
            print(f"desk: semantic index not complete ({pending} passages pending); those are "
                  "found by keywords only until `desk index` finishes.", file=sys.stderr)
        retriever = Retriever(matter, load_settings().retrieval, mode=args.mode)
        if args.batch:
            stream = sys.stdin if args.batch == "-" else open(args.batch, encoding="utf-8")
            with stream:
                for line in stream:
                    query = line.strip()
                    hits = retriever.search(query, k=args.k, document=args.document) if query else []
                    _print_hits(hits, True)
            return 0
        if not args.query:
            raise DeskError("Give a query, or --batch FILE.")
        _print_hits(retriever.search(" ".join(args.query), k=args.k, document=args.document),
                    args.json)
        return 0
    finally:
        matter.close()


def cmd_eval(args: argparse.Namespace) -> int:
    from desk.evaluation.retrieval import evaluate_retrieval, load_set
    from desk.index.matter import open_matter

    ks = tuple(int(k) for k in args.k.split(","))
    data = load_set(Path(args.set))
    matter = open_matter(args.matter, create=False)
    try:
        if args.answers or args.ttft:
            from desk.evaluation.answers import evaluate_answers, time_to_first_token
            from desk.llm.model import describe_source
            from desk.rag.service import answering_service

            settings = answer_settings(args)
            if args.evidence_tokens:
                settings.llm.evidence_tokens = args.evidence_tokens
            model = load_model(settings)
            service = answering_service(matter, model, settings)
            report = (evaluate_answers(service, data, args.answers, args.negatives,
                                       verbose=args.verbose) if args.answers
                      else time_to_first_token(service, data, args.ttft))
            report["backend"] = describe_source(settings, model)
            if args.json:
                _emit(report)
            else:
                print(json.dumps({k: v for k, v in report.items() if k != "rows"}, indent=2))
            return 0
        results = {}
        for mode in args.mode.split(","):
            result = evaluate_retrieval(matter, data["tests"], ks, mode=mode)
            results[mode] = result
            if not args.json:
                print(f"## {mode}\n{result.table()}\n")
        if args.json:
            _emit({mode: r.to_json() for mode, r in results.items()})
        return 0
    finally:
        matter.close()


def cmd_bench(args: argparse.Namespace) -> int:
    from desk.evaluation import benchmark as bench

    report = bench.run(Path(args.pdfs), Path(args.set) if args.set else None,
                       scale_chunks=args.scale_chunks)
    if args.json:
        _emit(report)
    else:
        print(bench.format_report(report))
    return 0


def _cite_older_documents(matter: Matter) -> None:
    """Documents an older Desk imported get their citations first (from the stored text, a
    few ms a page), unless another process is writing the matter."""
    from desk.ingest.importer import cite_again

    waiting = len(matter.catalog.documents_to_cite())
    if not waiting:
        return
    try:
        matter.acquire()
    except MatterBusy as exc:
        print(f"warning: {waiting} document(s) imported by an older Desk have no citations yet: "
              f"{exc}", file=sys.stderr)
        return
    try:
        print(f"Finding the citations of {waiting} document(s) an older Desk imported…",
              file=sys.stderr)
        for _progress in cite_again(matter):
            pass
    finally:
        matter.release()


def cmd_authorities(args: argparse.Namespace) -> int:
    from desk.index.matter import open_matter
    from desk.review.authorities import (
        authority_label,
        cited_by,
        table_of_authorities,
        to_markdown,
        write_docx,
        write_markdown,
    )

    matter = open_matter(args.matter, create=False, check_fingerprint=False)
    try:
        catalog = matter.catalog
        _cite_older_documents(matter)
        if args.document is None:
            if args.md or args.docx:
                raise DeskError("--md and --docx write one document's table: add "
                                "--document FILE.")
            rows = cited_by(catalog)
            if args.json:
                _emit({"matter": matter.name, "authorities": rows})
            else:
                for row in rows:
                    label = authority_label(row["name"], row["citation"], row["parallel"])
                    where = ", ".join(f"{d['file']} ({d['references']})" for d in row["documents"])
                    print(f"{label}: cited {row['references']} times, by {where}")
            return 0
        docs = catalog.find_documents(args.document)
        if not docs:
            raise DeskError(f"No document named {args.document!r} in matter {matter.name!r}.")
        if len(docs) > 1:
            raise DeskError(f"{args.document!r} names {len(docs)} documents: "
                            + ", ".join(d.file_name for d in docs[:5]))
        table = table_of_authorities(catalog, docs[0])
        if args.md:
            write_markdown(table, Path(args.md))
        if args.docx:
            write_docx(table, Path(args.docx))
        if args.json:
            _emit(table.to_json())
        elif not (args.md or args.docx):
            sys.stdout.write(to_markdown(table))
        else:
            print(f"Wrote the table of {len(table.authorities)} authorities to "
                  f"{' and '.join(p for p in (args.md, args.docx) if p)}.", file=sys.stderr)
        return 0
    finally:
        matter.close()


def cmd_matters(args: argparse.Namespace) -> int:
    from desk.index.matter import list_matters, open_matter

    rows: list[dict[str, Any]] = []
    for name in list_matters():
        matter = open_matter(name, create=False, check_fingerprint=False)
        try:
            rows.append({"name": name, **matter.catalog.counts(),
                         "problems": [{"file": f, "error": e} for f, e in matter.catalog.problems()]})
        finally:
            matter.close()
    if args.json:
        _emit(rows)
    else:
        for row in rows:
            print(f"{row['name']}: {row['documents']} documents, {row['pages']} pages, "
                  f"{row['chunks']} passages ({row['pending']} awaiting semantic indexing)")
            for problem in row["problems"]:
                print(f"  FAILED {Path(problem['file']).name}: {problem['error']}")
    return 0


def cmd_watch(args: argparse.Namespace) -> int:
    from desk.index.matter import open_matter
    from desk.ingest.watch import add_folder, remove_folder, watch_once, watched_folders

    settings = load_settings()
    matter = open_matter(args.matter, settings, create=bool(args.add))
    try:
        for folder in args.add or []:
            add_folder(matter.catalog, folder)
        for folder in args.remove or []:
            remove_folder(matter.catalog, folder)
        folders = [str(f) for f in watched_folders(matter.catalog)]
        if not args.once:
            if args.json:
                _emit({"matter": matter.name, "folders": folders})
            elif folders:
                print("\n".join(folders))
            else:
                print(f"Matter {matter.name!r} watches no folders. Add one: desk watch "
                      f"--matter {json.dumps(matter.name)} --add FOLDER")
            return 0
        summary = drive(watch_once(matter, settings.chunking.size, settings.chunking.overlap),
                        ProgressPrinter(quiet=args.json))
        if args.json:
            _emit({"matter": matter.name, "folders": folders, **summary.to_json()})
        else:
            print(summary.text())
            for path in summary.removed:
                print(f"  REMOVED (flagged) {Path(path).name}: {path}")
            for path in sorted(set(summary.missing) - set(summary.removed)):
                print(f"  MISSING {Path(path).name}: {path}")
            for failure in summary.failed:
                print(f"  FAILED {failure['file']}: {failure['error']}")
            for path in summary.waiting:
                print(f"  WAITING {Path(path).name}: still being written; run again shortly")
        return 1 if summary.failed and not (summary.new or summary.changed) else 0
    finally:
        matter.close()


def cmd_feedback(args: argparse.Namespace) -> int:
    from desk.core.files import atomic_write_text
    from desk.index.matter import open_matter
    from desk.rag.feedback import export_case, export_feedback, rated_turns

    matter = open_matter(args.matter, create=False, check_fingerprint=False)
    try:
        catalog = matter.catalog
        rated = rated_turns(catalog)
        if args.action == "export":
            if not args.out:
                raise DeskError("Usage: desk feedback export [--matter M] --out FILE.json")
            data = export_feedback(catalog, matter.name)
            tests, negatives = len(data["tests"]), len(data["negatives"])
            left_out = len(rated) - tests - negatives
            if not tests and not negatives:
                raise DeskError(f"No feedback in matter {matter.name!r} can become a test "
                                f"({len(rated)} rated answers; see `desk feedback list`).")
            atomic_write_text(Path(args.out), json.dumps(data, ensure_ascii=False, indent=1)
                              + "\n")
            if args.json:
                _emit({"out": args.out, "tests": tests, "negatives": negatives,
                       "left_out": left_out})
            else:
                print(f"Wrote {tests} tests and {negatives} negatives to {args.out}"
                      + (f"; {left_out} rated answers left out (see `desk feedback list`)"
                         if left_out else "") + ".")
            return 0
        docs = {d.file_name: d for d in catalog.documents()}
        rows: list[dict[str, Any]] = []
        for turn in rated:
            case = export_case(catalog, turn, docs)
            rows.append({"conversation": turn.conversation_id, "question": turn.question,
                         "answer": turn.answer.get("answer", ""),
                         "found": bool(turn.answer.get("found")), **turn.feedback.to_json(),
                         "exports_as": case.kind, "reason": case.reason})
        if args.json:
            _emit(rows)
            return 0
        if not rows:
            print(f"No rated answers in matter {matter.name!r}.")
        for row in rows:
            print(f"turn {row['turn']} ({'thumbs up' if row['rating'] == 1 else 'thumbs down'})"
                  f": {row['question'][:100]}")
            if row["not_in_documents"]:
                print("    correct: not in the documents"
                      + (f" ({row['file']})" if row["file"] else ""))
            elif row["correct_answer"] or row["file"]:
                where = f" ({row['file']}, p. {row['page']})" if row["file"] else ""
                print(f"    correct: {row['correct_answer'] or '(the page)'}{where}")
            print(f"    exports as a {row['exports_as']}" if row["exports_as"] != "skipped"
                  else f"    left out: {row['reason']}")
        return 0
    finally:
        matter.close()


def answer_settings(args: argparse.Namespace, settings: Settings | None = None) -> Settings:
    """The settings with this command's --model, or --server URL --server-model NAME, applied
    (for this run only: nothing is saved)."""
    settings = settings or load_settings()
    if getattr(args, "model", None):
        settings.llm.model = args.model
        settings.answers_from = "local"
    if getattr(args, "server", None):
        if not args.server_model:
            raise DeskError("--server needs --server-model NAME (the server's name for the "
                            "model; `curl URL/models` lists them).")
        settings.server.url, settings.server.model = args.server, args.server_model
        if args.server_timeout:
            settings.server.timeout_s = args.server_timeout
        settings.answers_from = "server"
    return settings


def load_model(settings: Settings, quiet: bool = False) -> AnswerModel:
    """The answering model the settings name: a local one materialised into the store on
    first use (progress on stderr), or a server, connected."""
    from desk.llm.model import prepare_model

    if settings.answers_from == "server":
        from desk.config.settings import server_host

        print(f"desk: answers come from the server at {server_host(settings.server.url)}: the "
              "question, the earlier turns that fit and the evidence passages are sent there.",
              file=sys.stderr)
    return drive(prepare_model(settings), ProgressPrinter(quiet))


def _server_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--server", metavar="URL", help="answer through this OpenAI-compatible "
                   "server (e.g. http://gpu-box:8080/v1); the API key comes from the keyring "
                   "or DESK_API_KEY")
    p.add_argument("--server-model", metavar="NAME", help="with --server: the model's name there")
    p.add_argument("--server-timeout", type=int, default=0, metavar="S",
                   help="with --server: seconds to wait for the server (default: the settings')")


def cmd_ask(args: argparse.Namespace) -> int:
    from desk.index.matter import open_matter
    from desk.llm.model import describe_source
    from desk.rag.service import AnswerJob, answering_service
    from desk.review.questions import answer_question

    settings = answer_settings(args)
    matter = open_matter(args.matter, settings, create=False)
    try:
        model = load_model(settings, args.json)
        service = answering_service(matter, model, settings)
        conversation = args.conversation
        if conversation is None and args.new_conversation:
            conversation = matter.catalog.new_conversation(args.question[0][:80])

        printer = ProgressPrinter(quiet=args.json)

        def show(piece: AnswerJob | str | Progress) -> None:
            if isinstance(piece, Progress):
                printer(piece)  # review cells filled for a whole-matter question
            elif isinstance(piece, str) and not args.json:
                sys.stdout.write(piece)
                sys.stdout.flush()

        answer = drive(answer_question(service, " ".join(args.question), conversation,
                                       args.document), show)
        if args.json:
            data = answer.to_json()
            if conversation is not None:
                data["conversation"] = conversation
            data["backend"] = describe_source(settings, model)
            _emit(data)
            return 0
        if answer.draft is not None:
            print(f"\n\n{answer.text} None of the statements above could be verified in the "
                  "sources (an unverified draft).")
        print("\n")
        for c in answer.citations:
            mark = "verified" if c.verified else f"UNVERIFIED: {c.reason}"
            print(f"[{c.n}] {c.file}, p. {c.page} ({mark})\n    \"{c.quote[:200]}\"")
        for sentence in answer.unsupported_sentences:
            print(f"UNCITED: {sentence}")
        t = answer.timings
        print(f"(retrieval {t.get('retrieval_ms')} ms, {t.get('prompt_tokens')} prompt tokens, "
              f"first token {t.get('ttft_ms')} ms, {t.get('gen_tokens_per_s')} tokens/s"
              + (f", conversation {conversation}" if conversation is not None else "") + ")")
        return 0
    finally:
        matter.close()


def cmd_review(args: argparse.Namespace) -> int:
    from desk.index.matter import open_matter
    from desk.review.cells import table_to_json
    from desk.review.job import review_documents, run_review
    from desk.review.store import ReviewStore
    from desk.review.terms import resolve_terms

    settings = load_settings()
    matter = open_matter(args.matter, settings, create=False)
    try:
        store = ReviewStore(matter.catalog)
        terms = resolve_terms(_term_list(args.terms) or store.columns() or None)
        if args.action == "eval":
            return _review_eval(args, matter, settings, store, terms)
        if args.action == "corrections":
            from desk.core.files import atomic_write_text
            from desk.review.store import corrections_set

            if not args.out:
                raise DeskError("desk review corrections needs --out FILE.json.")
            data = corrections_set(store, matter.name)
            atomic_write_text(Path(args.out), json.dumps(data, indent=1, ensure_ascii=False))
            count = sum(len(d["terms"]) for d in data["documents"])
            print(f"Wrote {count} corrected cells to {args.out}.", file=sys.stderr)
            return 0
        docs = review_documents(matter, args.documents)
        if args.rerun:
            store.forget([d.id for d in docs], [t.name for t in terms])
        model = None if args.route == "code" else load_model(answer_settings(args, settings),
                                                                 args.json)
        rows = drive(run_review(matter, model, settings, terms, docs, route=args.route),
                     ProgressPrinter(quiet=args.json and not sys.stderr.isatty()))
        if args.brief:
            from desk.review.brief import make_briefs

            rows = drive(make_briefs(matter, model, settings, rows), ProgressPrinter(
                quiet=args.json and not sys.stderr.isatty()))
        names = [t.name for t in terms]
        if args.csv or args.xlsx:
            from desk.review.export import write_csv, write_xlsx

            if args.csv:
                write_csv(Path(args.csv), rows, names)
            if args.xlsx:
                write_xlsx(Path(args.xlsx), rows, names)
            print(f"Wrote {len(rows)} documents x {len(names)} terms to "
                  f"{' and '.join(p for p in (args.csv, args.xlsx) if p)}.", file=sys.stderr)
        if args.json:
            _emit(table_to_json(rows, names))
        elif not (args.csv or args.xlsx):
            for row in rows:
                print(f"## {row.file}")
                if row.brief is not None:
                    print(row.brief_text())
                for name in names:
                    cell = row.cells.get(name)
                    if cell is None:
                        continue
                    mark = "" if cell.verified else f"  (UNVERIFIED: {cell.reason or 'see citations'})"
                    pages = ", ".join(f"p. {c.page}" for c in cell.citations)
                    print(f"- {name}: {cell.value}" + (f" [{pages}]" if pages else "") + mark)
        return 0
    finally:
        matter.close()


def _term_list(text: str | None) -> list[str]:
    """Terms from --terms: comma-separated; a custom question may hold commas if quoted
    with semicolons instead ("A; B, with a comma; C")."""
    if not text:
        return []
    separator = ";" if ";" in text else ","
    return [t.strip() for t in text.split(separator) if t.strip()]


def _review_eval(args: argparse.Namespace, matter: Any, settings: Any, store: Any,
                 terms: list[Any]) -> int:
    from desk.evaluation.review import (
        format_report,
        keyword_baseline,
        load_review_set,
        score_review,
    )
    from desk.review.job import run_review

    if not args.set:
        raise DeskError("desk review eval needs --set FILE.json (a review set).")
    review_set = load_review_set(Path(args.set))
    by_name = {d.file_name: d for d in matter.catalog.documents() if d.status == "indexed"}
    files = [d["file"] for d in review_set["documents"] if d["file"] in by_name]
    if not files:
        raise DeskError(f"None of the set's documents is in matter {matter.name!r}.")
    limit = 0
    if args.documents and len(args.documents) == 1 and args.documents[0].isdigit():
        limit = int(args.documents[0])  # `review eval --documents N`: the first N of the set
    elif args.documents:
        wanted = {f.casefold() for f in args.documents}
        files = [f for f in files if f.casefold() in wanted]
    if limit:
        files = files[:limit]
    docs = [by_name[f] for f in files]
    if not args.keep:  # measure fresh extraction (a lawyer's corrections stay untouched)
        store.forget([d.id for d in docs], [t.name for t in terms])
    model = None if args.route == "code" else load_model(answer_settings(args, settings),
                                                                 args.json)
    started = time.perf_counter()
    rows = drive(run_review(matter, model, settings, terms, docs, route=args.route,
                            shared_evidence=args.evidence == "shared"),
                 ProgressPrinter(quiet=args.json and not sys.stderr.isatty()))
    seconds = time.perf_counter() - started
    names = [t.name for t in terms]
    cells = {row.file: row.cells for row in rows}
    report = score_review(review_set, cells, names)
    texts = {f: matter.catalog.page_texts(by_name[f].id) for f in files}
    baseline = keyword_baseline(review_set, texts, names)
    report["seconds"] = round(seconds, 1)
    report["documents"] = len(docs)
    report["route"] = args.route
    report["evidence"] = args.evidence
    report["seconds_per_document"] = round(seconds / len(docs), 1)
    if args.json:
        _emit({"desk": report, "baseline": baseline})
    else:
        print(format_report(report, baseline))
        print(f"{len(docs)} documents x {len(names)} terms in {seconds:.0f} s "
              f"({seconds / len(docs):.1f} s per document, route {args.route})")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from desk.llm.store import ModelStore

    store = ModelStore()
    if args.action == "list":
        rows: list[dict[str, Any]] = [e.to_json() | {"available": e.available, "origin": e.origin}
                for e in store.entries()]
        if args.json:
            _emit([{k: r[k] for k in ("name", "family", "precision", "size_bytes", "path")}
                   for r in rows])
        else:
            for r in rows:
                state = "ready" if r["available"] else "prepared on first use"
                print(f"{r['name']:40s} {r['family']:32s} {r['precision']:8s} "
                      f"{r['size_bytes'] / 2**20:8.1f} MB  {r['origin']}, {state}")
        return 0
    if args.action == "add":
        if not args.names:
            raise DeskError("Give the GGUF file to add.")
        entry = store.add(Path(args.names[0]))
        _emit(entry.to_json()) if args.json else print(f"Added {entry.name} ({entry.precision}).")
        return 0
    if args.action == "quantize":
        from desk.llm.quantize import quantize

        if len(args.names) != 1 or not args.to:
            raise DeskError("Usage: desk models quantize NAME --to TYPE")
        family = store.get(args.names[0]).family
        entry = drive(quantize(store, family, args.to), ProgressPrinter(args.json))
        _emit(entry.to_json()) if args.json else print(
            f"Created {entry.name} ({entry.precision}, {entry.size_bytes / 2**20:.1f} MB)"
            + (f"; re-quantized from {entry.parent}: its quality is bounded by that file"
               if entry.requantized else ""))
        return 0
    if args.action == "bench":
        from desk.llm.bench import bench_models, sample_text

        if not args.names:
            raise DeskError("Usage: desk models bench NAME... [--matter M]")
        texts = _bench_texts(args.matter)
        results = drive(bench_models(store, args.names, sample_text(texts), load_settings().llm),
                        ProgressPrinter(args.json))
        keys = ("name", "precision", "size_bytes", "load_s", "rss_mb", "prompt_tokens_per_s",
                "gen_tokens_per_s", "kl_vs_reference", "top1_agreement", "perplexity")
        if args.json:
            _emit([{k: r[k] for k in keys} | {"kv_cache_mb": r["kv_cache_mb"]} for r in results])
        else:
            print("| variant | size MB | bits/w | load s | RSS MB | KV MB | prompt tok/s | gen tok/s "
                  "| KL vs ref | top-1 | perplexity |")
            print("|---|---|---|---|---|---|---|---|---|---|---|")
            for r in results:
                print(f"| {r['name']} | {r['size_bytes'] / 2**20:.1f} | {r['bits_per_weight']} | "
                      f"{r['load_s']} | {r['rss_mb']} | {r['kv_cache_mb']} | "
                      f"{r['prompt_tokens_per_s']} | {r['gen_tokens_per_s']} | "
                      f"{r['kl_vs_reference']} | {r['top1_agreement']} | {r['perplexity']} |")
        return 0
    if args.action == "prepare":
        for name in args.names or [load_settings().llm.model]:
            ProgressPrinter(args.json).run(store.ensure(name))
            _emit(store.get(name).to_json()) if args.json else print(f"{name}: ready")
        return 0
    raise DeskError(f"Unknown models action {args.action!r}.")


def _bench_texts(matter_name: str | None) -> list[str]:
    """The matter's own text, or the bundled sample contracts when no matter is given."""
    from desk.ingest.importer import opening_texts

    if not matter_name:
        return opening_texts(None)
    from desk.index.matter import open_matter

    matter = open_matter(matter_name, create=False)
    try:
        return opening_texts(matter)
    finally:
        matter.close()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="desk", description="Offline research assistant for "
                                     "lawyers: index PDFs, search, ask with cited pages.")
    parser.add_argument("--self-test", action="store_true",
                        help="check offline that import, answer and citation work, then exit")
    sub = parser.add_subparsers(dest="command")

    p = sub.add_parser("index", help="import PDFs or folders into a matter")
    p.add_argument("--matter", default=DEFAULT_MATTER)
    p.add_argument("--json", action="store_true")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.add_argument("--remove", action="store_true", help="remove the named documents instead")
    p.add_argument("--no-ocr", action="store_true",
                   help="do not OCR scanned pages (they are listed as needing OCR)")
    p.add_argument("--rebuild", action="store_true",
                   help="re-chunk and re-embed everything with the current settings")
    p.add_argument("paths", nargs="*")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("search", help="hybrid search in a matter")
    p.add_argument("--matter", default=DEFAULT_MATTER)
    p.add_argument("--document", help="search only this document (file name)")
    p.add_argument("--k", type=int, default=8)
    p.add_argument("--json", action="store_true")
    p.add_argument("--batch", help="file with one query per line ('-' for stdin)")
    p.add_argument("--mode", default="hybrid", choices=["hybrid", "dense", "lexical"])
    p.add_argument("query", nargs="*")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("eval", help="retrieval metrics on an evaluation set")
    p.add_argument("--matter", default=DEFAULT_MATTER)
    p.add_argument("--set", required=True)
    p.add_argument("--k", default="1,4,8,16,64")
    p.add_argument("--mode", default="hybrid", help="comma list of hybrid, dense, lexical")
    p.add_argument("--answers", type=int, default=0,
                   help="evaluate answers instead: this many answerable questions")
    p.add_argument("--negatives", type=int, default=0,
                   help="with --answers: this many absent-clause questions")
    p.add_argument("--ttft", type=int, default=0,
                   help="time to first token instead: over this many questions, with and "
                        "without the cached prompt prefix")
    p.add_argument("--evidence-tokens", type=int, default=0,
                   help="--answers/--ttft: evidence budget instead of the settings' value")
    p.add_argument("--model", help="model for --answers (default: the settings' model)")
    _server_arguments(p)
    p.add_argument("--verbose", action="store_true", help="print each answer on stderr")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("bench", help="indexing throughput, memory and search latency")
    p.add_argument("--pdfs", default="../shared/data/cuad-dev/pdf")
    p.add_argument("--set", help="evaluation set whose questions time the search")
    p.add_argument("--scale-chunks", type=int, default=0,
                   help="also time search on a synthetic matter of this many passages")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("ask", help="answer a question with cited pages")
    p.add_argument("--matter", default=DEFAULT_MATTER)
    p.add_argument("--model", help="model name (see `desk models list`)")
    _server_arguments(p)
    p.add_argument("--document", help="answer from this document only")
    p.add_argument("--conversation", type=int, help="continue this conversation (its id)")
    p.add_argument("--new-conversation", action="store_true",
                   help="start a conversation and remember this turn")
    p.add_argument("--json", action="store_true")
    p.add_argument("question", nargs="+")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("models", help="list, add, prepare, quantize or benchmark local models")
    p.add_argument("action", choices=["list", "add", "prepare", "quantize", "bench"])
    p.add_argument("names", nargs="*")
    p.add_argument("--to", help="precision for quantize (e.g. Q5_K_M)")
    p.add_argument("--matter", help="bench: measure quality on this matter's text")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("review", help="review table: every document against the terms a "
                       "lawyer checks, each cell cited and verified")
    p.add_argument("action", nargs="?", default="run", choices=["run", "eval", "corrections"],
                   help="run (default) fills and prints the table; eval scores it against "
                        "a review set; corrections writes the lawyer's corrections as one")
    p.add_argument("--out", help="corrections: the review set file to write")
    p.add_argument("--matter", default=DEFAULT_MATTER)
    p.add_argument("--terms", help="comma-separated CUAD categories or your own questions "
                   "(default: the matter's columns, else the default set)")
    p.add_argument("--documents", nargs="+", help="review only these documents (file names); "
                   "eval: these, or N for the set's first N")
    p.add_argument("--route", default="auto", choices=["auto", "code", "model"],
                   help="auto: code where a pattern is reliable, else the model")
    p.add_argument("--model", help="model name (default: the settings' model)")
    _server_arguments(p)
    p.add_argument("--rerun", action="store_true",
                   help="extract again (the lawyer's corrections are kept)")
    p.add_argument("--brief", action="store_true", help="also write each document's brief")
    p.add_argument("--json", action="store_true")
    p.add_argument("--csv", help="export the table as CSV to this file")
    p.add_argument("--xlsx", help="export the table as XLSX to this file")
    p.add_argument("--set", help="eval: the review set (e.g. cuad-dev-review.json)")
    p.add_argument("--keep", action="store_true",
                   help="eval: score the stored cells instead of extracting afresh")
    p.add_argument("--evidence", default="shared", choices=["shared", "per-term"],
                   help="eval: one evidence block per document for its yes-no terms "
                        "(default), or each term its own")
    p.set_defaults(func=cmd_review)

    p = sub.add_parser("authorities", help="a document's table of authorities, or which "
                       "documents of the matter cite each authority")
    p.add_argument("--matter", default=DEFAULT_MATTER)
    p.add_argument("--document", help="this document's table of authorities")
    p.add_argument("--json", action="store_true")
    p.add_argument("--md", metavar="FILE", help="write the table as Markdown")
    p.add_argument("--docx", metavar="FILE", help="write the table as a Word document")
    p.set_defaults(func=cmd_authorities)

    p = sub.add_parser("matters", help="list matters with their documents and problems")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_matters)

    p = sub.add_parser("watch", help="watched folders: new and changed PDFs in them are "
                       "imported, files removed from disk are flagged")
    p.add_argument("--matter", default=DEFAULT_MATTER)
    p.add_argument("--add", action="append", metavar="DIR", help="watch this folder")
    p.add_argument("--remove", action="append", metavar="DIR", help="stop watching it")
    p.add_argument("--list", action="store_true", help="list the watched folders (the default)")
    p.add_argument("--once", action="store_true",
                   help="scan the watched folders now and import what is new or changed")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_watch)

    p = sub.add_parser("feedback", help="the lawyer's ratings and corrections of answers: "
                       "list them, or export them as an evaluation set for `desk eval`")
    p.add_argument("action", choices=["list", "export"])
    p.add_argument("--matter", default=DEFAULT_MATTER)
    p.add_argument("--out", help="export: the evaluation set to write (JSON)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_feedback)
    return parser


def main(argv: list[str] | None = None) -> int:
    from desk.config.paths import secure_data_dir

    secure_data_dir()  # client files private: umask 077, an older 0755/0644 data folder tightened
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.self_test:
        from desk.ui.selftest import run_self_test

        return run_self_test()
    if not args.command:
        from desk.ui.app import main as run_app

        return run_app()
    # a bad settings.json is repaired on load (backup beside it); say so once, then carry on
    if problem := load_settings().load_problem:
        import logging

        if logging.getLogger("desk").hasHandlers():  # else logging's last resort printed it
            print(f"desk: {problem}", file=sys.stderr)
    from pydantic import ValidationError

    try:
        return int(args.func(args))
    except DeskError as exc:
        print(f"desk: {exc}", file=sys.stderr)
        return 2
    except ValidationError as exc:  # a value out of its bounds, e.g. --evidence-tokens 50
        problems = []
        for error in exc.errors():
            where = ".".join([exc.title, *(str(p) for p in error["loc"])])
            got = error.get("input")
            shown = f" (got {got!r})" if error["loc"] and not isinstance(got, dict) else ""
            problems.append(f"{where}: {error['msg'].removeprefix('Value error, ')}{shown}")
        print(f"desk: invalid setting {'; '.join(problems)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("desk: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
