"""The ``policyqa`` command: build the index, search it, serve it over HTTP."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from corpus import CorpusError
from index import IndexBuildError, IndexMismatchError, IndexReport, ensure_index, make_embedder
from service.log import configure_logging
from service.schemas import MAX_TOP_K, SearchRequest
from service.search import answer
from service.settings import Settings


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
    except (CorpusError, IndexBuildError, IndexMismatchError, ValueError) as exc:
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
    index.set_defaults(run=_index)

    search = commands.add_parser("search", parents=[common], help="rank the clauses that answer a question")
    search.add_argument("query")
    search.add_argument("--top-k", type=int, default=5, help=f"how many clauses (1-{MAX_TOP_K}, default 5)")
    search.add_argument("--mode", default="hybrid", choices=("hybrid", "bm25", "dense"))
    search.add_argument("--json", action="store_true", help="print the API's JSON response")
    search.set_defaults(run=_search)

    serve = commands.add_parser("serve", parents=[common], help="serve the HTTP API")
    serve.add_argument("--host", help="address to listen on (default: POLICYQA_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default: POLICYQA_PORT or 8000)")
    serve.set_defaults(run=_serve)
    return parser


def _load(settings: Settings, force: bool = False) -> tuple[Any, IndexReport]:
    embedder = make_embedder(
        settings.embedder, settings.model, settings.device, settings.query_prefix, settings.passage_prefix
    )
    return ensure_index(settings.corpus_dir, settings.index_dir, embedder, force=force, progress=sys.stderr.isatty())


def _report(index: Any, report: IndexReport) -> None:
    for error in report.errors:
        print(f"not indexed: {error}", file=sys.stderr)
    what = {"loaded": "index is up to date", "built": "built index", "kept": "kept the earlier index"}[report.action]
    print(
        f"{what}: {len(index.documents)} notice(s), {len(index.passages)} passages, "
        f"embedder {index.manifest['embedder']['id']}, in {report.seconds:.1f}s -> {report.index_dir}",
        file=sys.stderr,
    )


def _index(args: argparse.Namespace, settings: Settings) -> int:
    index, report = _load(settings, force=args.force)
    _report(index, report)
    return 1 if report.errors else 0


def _search(args: argparse.Namespace, settings: Settings) -> int:
    request = SearchRequest(query=args.query, top_k=args.top_k, mode=args.mode)
    index, report = _load(settings)
    if report.action != "loaded":
        _report(index, report)
    response = answer(index, request)
    if args.json:
        print(response.model_dump_json(indent=2))
        return 0
    if not response.results:
        print("no clause matches this question")
    for result in response.results:
        print(f"{result.rank}. {result.citation}  (score {result.score:.4f})")
        print(f"   {result.highlight}")
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from service.app import create_app

    host, port = args.host or settings.host, args.port or settings.port
    app = create_app(settings.model_copy(update={"host": host, "port": port}))
    # The app logs each request with its id; uvicorn's own access log would repeat it without.
    uvicorn.run(app, host=host, port=port, access_log=False, log_config=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
