"""The ``policyqa`` command: build the index, search it, serve it over HTTP."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from corpus import CorpusError
from index import Index, IndexBuildError, IndexMismatchError, IndexReport
from index.factory import open_index
from retrieval import MODES, Retriever, make_reranker
from service.log import configure_logging
from service.schemas import MAX_TOP_K, SearchFilters, SearchRequest
from service.search import answer
from service.settings import Settings

# The widget's sentence for the same case, so the console does not present a guess as an answer either.
UNANSWERABLE_NOTE = (
    "The indexed notices may not answer this question directly. The closest clauses follow, for reference only:"
)


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

    serve = commands.add_parser("serve", parents=[common], help="serve the HTTP API")
    serve.add_argument("--host", help="address to listen on (default: POLICYQA_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default: POLICYQA_PORT or 8000)")
    serve.set_defaults(run=_serve)
    return parser


def _report(index: Index, report: IndexReport) -> None:
    for error in report.errors:
        print(f"not indexed: {error}", file=sys.stderr)
    what = {"loaded": "index is up to date", "built": "built index", "kept": "kept the earlier index"}[report.action]
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
    index, report = open_index(config, force=args.force, progress=sys.stderr.isatty(), build=True, prune=args.prune)
    _report(index, report)
    return 1 if report.errors else 0


def _retriever(settings: Settings, index: Index) -> Retriever:
    """The Retriever the service would rank ``index`` with, by ``settings``."""
    return Retriever(index, settings.ranking_config(), make_reranker(settings.reranker, settings.reranker_device))


def _search(args: argparse.Namespace, settings: Settings) -> int:
    filters = SearchFilters(**{name: value for name in _FILTERS if (value := getattr(args, name)) is not None})
    request = SearchRequest(query=args.query, top_k=args.top_k, mode=args.mode, filters=filters)
    index, report = open_index(settings.index_config(), progress=sys.stderr.isatty())
    if report.action != "loaded":
        _report(index, report)
    response = answer(_retriever(settings, index), request)
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
        retriever = _retriever(settings, index)
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
        retriever = _retriever(settings, index)
        searcher, setup = library_searcher(retriever), library_setup(retriever)
    report = evaluate_dataset(args.dataset, searcher, modes)
    print("\n".join(report.table()))
    print(f"report: {write_dataset_report(report, args.out, setup)}", file=sys.stderr)
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from service.app import create_app
    from service.server import server_config

    host, port = args.host or settings.host, args.port or settings.port
    app = create_app(settings.model_copy(update={"host": host, "port": port}))
    # The app logs each request with its id; uvicorn's own access log would repeat it without.
    uvicorn.Server(server_config(app, settings, host, port, access_log=False, log_config=None)).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
