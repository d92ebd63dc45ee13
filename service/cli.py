"""The ``policyqa`` command: build the index, search it, serve it over HTTP."""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import uuid
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from corpus import CorpusError
from index import Index, IndexBuildError, IndexMismatchError, IndexReport
from index.factory import open_index
from retrieval import MODES
from service.editors_report import build_report
from service.log import configure_logging
from service.question_log import log_files, read_records, utc_now
from service.schemas import MAX_TOP_K, SearchFilters, SearchRequest
from service.search import answer
from service.settings import Settings

# The widget's sentence for the same case, so the console does not present a guess as an answer either.
UNANSWERABLE_NOTE = (
    "The indexed notices may not answer this question directly. The closest clauses follow, for reference only:"
)


# `policyqa index` indexed every usable notice but left out files it names (1 is an error: nothing was done).
EXIT_DONE_WITH_REJECTS = 2
WORKER_APP = "service.app:worker_app"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``policyqa`` console script."""
    args = _parser().parse_args(argv)
    overrides: dict[str, Any] = {
        key: value for key, value in (("corpus_dir", args.corpus), ("index_dir", args.index_dir)) if value is not None
    }
    try:
        settings = Settings(**overrides)
        configure_logging(settings.log_level)
        return args.run(args, settings)
    except ValidationError as exc:  # settings or a question that do not validate: name each problem
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors())
        print(f"policyqa: error: {problems}", file=sys.stderr)
        return 1
    except (CorpusError, IndexBuildError, IndexMismatchError, ValueError, ConnectionError) as exc:
        print(f"policyqa: error: {exc}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="policyqa", description=__doc__)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--corpus", type=Path, help="directory of notice files (default: POLICYQA_CORPUS_DIR)")
    common.add_argument("--index-dir", type=Path, help="where the index is kept (default: POLICYQA_INDEX_DIR)")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    index = commands.add_parser("index", parents=[common], help="build or refresh the index")
    index.add_argument("--force", action="store_true", help="rebuild even if the corpus is unchanged")
    index.add_argument(
        "--prune",
        action="store_true",
        help="PostgreSQL backend: also remove the notices whose files are no longer in the corpus "
        "(a local index always holds exactly the corpus)",
    )
    index.add_argument(
        "--strict",
        action="store_true",
        help="write nothing if any file is left out (not a usable notice, or not a format policyqa reads)",
    )
    index.set_defaults(run=_index)

    search = commands.add_parser("search", parents=[common], help="rank the clauses that answer a question")
    search.add_argument("query")
    search.add_argument("--top-k", type=int, default=5, help=f"how many clauses (1-{MAX_TOP_K}, default 5)")
    search.add_argument("--mode", default="hybrid", choices=MODES)
    search.add_argument("--json", action="store_true", help="print the API's JSON response")
    for name, help_text in _FILTERS.items():
        search.add_argument(f"--{name.replace('_', '-')}", dest=name, metavar=name.upper(), help=help_text)
    search.set_defaults(run=_search)

    evaluate = commands.add_parser("eval", parents=[common], help="measure retrieval accuracy on the gold set")
    evaluate.add_argument(
        "--dataset",
        type=Path,
        help="a dataset directory (notices/, queries.jsonl, answers.jsonl or qrels/test.tsv) instead of the gold set; "
        "its notices are indexed under --index-dir (default: beside POLICYQA_INDEX_DIR)",
    )
    evaluate.add_argument("--split", default="tuning", choices=("tuning", "heldout", "both"))
    evaluate.add_argument("--modes", default="bm25,dense,hybrid", help="comma-separated modes (default: all)")
    evaluate.add_argument("--url", help="evaluate a running server at this URL instead of the library")
    evaluate.add_argument("--api-key", help="X-API-Key for --url")
    evaluate.add_argument("--out", type=Path, default=Path("eval/results"), help="where to write the report")
    evaluate.set_defaults(run=_eval)

    report = commands.add_parser(
        "report", help="the questions asked most often that went unanswered, or whose answer did not help"
    )
    report.add_argument("--days", type=_positive, default=7, help="over the last N days (default 7)")
    report.add_argument("--top", type=_positive, default=20, help="at most K questions a list (default 20)")
    report.set_defaults(run=_editors_report, corpus=None, index_dir=None)

    serve = commands.add_parser("serve", parents=[common], help="serve the HTTP API")
    serve.add_argument("--host", help="address to listen on (default: POLICYQA_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default: POLICYQA_PORT or 8000)")
    serve.set_defaults(run=_serve)
    return parser


def _report(index: Index, report: IndexReport) -> None:
    for error in report.errors:
        print(f"not indexed: {error}", file=sys.stderr)
    what = {"loaded": "index is up to date", "built": "built index", "kept": "kept the earlier index"}[report.action]
    if report.errors:
        what += f" ({len(report.errors)} file(s) left out)"
    counts = index.document_counts()
    print(
        f"{what}: {len(counts)} notice(s), {sum(count for _, count in counts)} passages, "
        f"embedder {index.embedder.id}, in {report.seconds:.1f}s -> {report.location}",
        file=sys.stderr,
    )


_FILTERS = {
    "doc_id": "only this notice's clauses",
    "section": "only clauses under a heading containing this phrase",
    "issuer": "only notices whose issuer's name contains this",
    "region": "only notices that apply in this region or a place within it (三明, 福建省, 全国)",
    "kind": "only notices of this kind (通知, 公告, 意见, 办法, 措施, 解读, 新闻)",
    "date_from": "only notices issued on or after this date (YYYY-MM-DD)",
    "date_to": "only notices issued on or before this date (YYYY-MM-DD)",
}


def _index(args: argparse.Namespace, settings: Settings) -> int:
    config = settings.index_config()
    index, report = open_index(
        config, force=args.force, progress=sys.stderr.isatty(), build=True, prune=args.prune, strict=args.strict
    )
    _report(index, report)
    if not report.errors:
        return 0
    return 1 if args.strict else EXIT_DONE_WITH_REJECTS


def _search(args: argparse.Namespace, settings: Settings) -> int:
    filters = SearchFilters(**{name: value for name in _FILTERS if (value := getattr(args, name)) is not None})
    request = SearchRequest(query=args.query, top_k=args.top_k, mode=args.mode, filters=filters)
    index, report = open_index(settings.index_config(), progress=sys.stderr.isatty())
    if report.action != "loaded":
        _report(index, report)
    response, _ = answer(settings.retriever(index), request, uuid.uuid4().hex)
    if args.json:
        print(response.model_dump_json(indent=2))
        return 0
    if not response.results:
        print("no clause matches this question")
    elif not response.answerable:
        print(UNANSWERABLE_NOTE)
    for result in response.results:
        print(f"{result.rank}. {result.citation}  (score {result.score:.4f})")
        notice = [part for part in (result.region, result.date, result.kind) if part]
        if not result.in_force:
            notice.append(f"expired {result.valid_until}")
        if notice:
            print(f"   {' · '.join(notice)}")
        print(f"   {result.highlight}")
        if result.also_in:
            print(f"   also in: {'; '.join(copy.citation for copy in result.also_in)}")
    return 0


def _eval(args: argparse.Namespace, settings: Settings) -> int:
    try:
        from eval.harness import http_searcher, library_searcher, library_setup, server_setup
        from eval.report import evaluate_split, overall_table, write_report
    except ImportError as exc:
        raise ValueError(
            f"policyqa eval needs the eval extra ({exc.name} is missing): pip install 'policyqa[eval]'"
        ) from exc

    modes = [mode.strip() for mode in args.modes.split(",") if mode.strip()]
    unknown = sorted(set(modes) - set(MODES))
    if unknown:
        raise ValueError(f"unknown mode(s) {', '.join(unknown)}; choose from {', '.join(MODES)}")
    if args.dataset:
        return _eval_dataset(args, settings, modes)
    if args.url:
        searcher, setup = http_searcher(args.url, args.api_key), server_setup(args.url, args.api_key)
    else:
        index, _ = open_index(settings.index_config(), progress=sys.stderr.isatty())
        retriever = settings.retriever(index)
        searcher, setup = library_searcher(retriever), library_setup(retriever)
    splits = ["tuning", "heldout"] if args.split == "both" else [args.split]
    reports = [evaluate_split(split, searcher, modes) for split in splits]
    for report in reports:
        print(f"{report.split}:")
        print("\n".join(overall_table(report)))
        for result in report.results:
            f = report.flagging(result)
            print(
                f"{result.mode}: flagged {f.unanswerable_flagged}/{f.unanswerable} unanswerable, "
                f"{f.answerable_flagged}/{f.answerable} answerable wrongly"
            )
    print(f"report: {write_report(reports, args.out, setup)}", file=sys.stderr)
    return 0


def _eval_dataset(args: argparse.Namespace, settings: Settings, modes: list[str]) -> int:
    from eval.dataset_report import evaluate_dataset, write_dataset_report
    from eval.harness import http_searcher, library_searcher, library_setup, server_setup

    if args.url:
        searcher, setup = http_searcher(args.url, args.api_key), server_setup(args.url, args.api_key)
    else:
        dataset_dir = args.dataset.resolve()
        index_dir = args.index_dir or settings.index_dir.parent / "datasets" / dataset_dir.name
        settings = settings.model_copy(update={"corpus_dir": dataset_dir / "notices", "index_dir": index_dir})
        index, report = open_index(settings.index_config(), progress=sys.stderr.isatty())
        if report.action != "loaded":
            _report(index, report)
        retriever = settings.retriever(index)
        searcher, setup = library_searcher(retriever), library_setup(retriever)
    report = evaluate_dataset(args.dataset, searcher, modes)
    print("\n".join(report.table()))
    print(f"report: {write_dataset_report(report, args.out, setup)}", file=sys.stderr)
    return 0


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of at least 1")
    return int(value)


def _editors_report(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.log_questions:
        print("policyqa: question logging is off (POLICYQA_LOG_QUESTIONS=false)", file=sys.stderr)
    files = log_files(settings.question_log_dir) if settings.question_log_dir.is_dir() else []
    if not files:
        print(
            f"policyqa: no question log in {settings.question_log_dir} (POLICYQA_QUESTION_LOG_DIR): "
            "the service has logged no question there",
            file=sys.stderr,
        )
        return 1
    since = utc_now() - datetime.timedelta(days=args.days)
    print("\n".join(build_report(read_records(files), since, args.top).lines()))
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from service.app import create_app
    from service.server import server_config

    host, port = args.host or settings.host, args.port or settings.port
    settings = settings.model_copy(update={"host": host, "port": port})
    # The app logs each request with its id; uvicorn's own access log would repeat it without.
    options: dict[str, Any] = {"access_log": False, "log_config": None}
    if settings.workers == 1:
        uvicorn.Server(server_config(create_app(settings), settings, host, port, **options)).run()
        return 0
    if settings.auto_build:  # once, here, rather than by every worker at once
        index, report = open_index(settings.index_config())
        _report(index, report)
        index.close()
    # Each worker makes its app from the environment's settings: the command line's go there too.
    os.environ.update(POLICYQA_CORPUS_DIR=str(settings.corpus_dir), POLICYQA_INDEX_DIR=str(settings.index_dir))
    config = server_config(WORKER_APP, settings, host, port, factory=True, workers=settings.workers, **options)
    Multiprocess(config, sockets=[config.bind_socket()]).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
