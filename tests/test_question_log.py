"""The question log, feedback, the unanswerable and feedback counts, and the editors' report, over a real server."""

from __future__ import annotations

import datetime
import json
import multiprocessing
import os
import re
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from service.editors_report import build_report, grouping_key
from service.question_log import QuestionLog, log_files, read_records
from service.schemas import FeedbackRequest
from service.settings import Settings
from tests.commands import POLICYQA
from tests.conftest import LiveServer, preflight

OFF_TOPIC = "北京小客车指标摇号怎么报名？"
ON_TOPIC = "钦州港片区能做汽车平行进口吗？"
KEY = "portal-key"
PORTAL = "https://portal.example.gov.cn"

StartServer = Callable[..., LiveServer]


@pytest.fixture
def start_server(default_index_dir: Path, tmp_path: Path) -> Iterator[StartServer]:
    """Starts the service on the default index, logging questions to ``tmp_path/log`` unless told otherwise."""
    started: list[LiveServer] = []

    def start(**settings: Any) -> LiveServer:
        settings = {"question_log_dir": tmp_path / "log", "rate_limit": None, **settings}
        live = LiveServer(Settings(index_dir=default_index_dir, **settings)).start()
        started.append(live)
        return live

    yield start
    for live in started:
        live.stop()


def ask(server: LiveServer, query: str, mode: str = "hybrid", **headers: str) -> dict[str, Any]:
    response = httpx.post(f"{server.url}/v1/search", json={"query": query, "mode": mode, "top_k": 3}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["request_id"] == response.headers["x-request-id"]
    return body


def send_feedback(server: LiveServer, body: dict[str, Any], **headers: str) -> httpx.Response:
    return httpx.post(f"{server.url}/v1/feedback", json=body, headers=headers)


def metric(server: LiveServer, name: str, **labels: str) -> float:
    """A sample's value in the server's /metrics, as Prometheus parses it."""
    for family in text_string_to_metric_families(httpx.get(f"{server.url}/metrics").text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    raise AssertionError(f"no sample {name}{labels} in /metrics")


def records(directory: Path) -> list[dict[str, Any]]:
    return list(read_records(log_files(directory)))


def test_a_search_is_logged_under_the_request_id_it_answered_with(start_server: StartServer, tmp_path: Path) -> None:
    server = start_server()
    posted = ask(server, ON_TOPIC, **{"X-Request-ID": "portal-trace-1"})
    assert posted["request_id"] == "portal-trace-1"  # the caller's id, as the header says
    got = httpx.get(f"{server.url}/v1/search", params={"q": OFF_TOPIC, "top_k": 2, "region": "广西"})
    assert got.status_code == 200

    first, second = records(tmp_path / "log")
    assert set(first) == {
        "time", "kind", "request_id", "question", "resolved_query", "mode", "filters", "answerable", "top"
    }  # fmt: skip
    assert first["kind"] == "search"
    assert first["request_id"] == "portal-trace-1"
    assert first["question"] == ON_TOPIC
    assert (first["mode"], first["filters"], first["answerable"]) == ("hybrid", {}, posted["answerable"])
    top = posted["results"][0]
    assert first["top"] == {key: top[key] for key in ("doc_id", "passage_id", "citation")}
    when = datetime.datetime.fromisoformat(first["time"])
    assert when.utcoffset() == datetime.timedelta(0)
    assert abs(datetime.datetime.now(datetime.UTC) - when) < datetime.timedelta(minutes=1)
    assert second["request_id"] == got.headers["x-request-id"] == got.json()["request_id"]
    assert (second["question"], second["filters"]) == (OFF_TOPIC, {"region": "广西"})
    assert second["answerable"] is got.json()["answerable"]
    assert first["resolved_query"] is second["resolved_query"] is None  # asked alone: searched as asked


def test_a_follow_up_is_logged_with_the_question_it_was_completed_to(start_server: StartServer, tmp_path: Path) -> None:
    server = start_server()
    body = {"query": "那个体工商户呢？", "history": ["疫情期间中小微企业的社保单位缴费部分能免多久？"], "top_k": 1}
    answered = httpx.post(f"{server.url}/v1/search", json=body).json()
    assert answered["resolved_query"], "the follow-up was not completed: nothing to log"
    (record,) = records(tmp_path / "log")
    assert (record["question"], record["resolved_query"]) == ("那个体工商户呢？", answered["resolved_query"])
    assert "history" not in record  # the earlier questions are logged as their own searches


def test_feedback_needs_the_key_is_recorded_and_counted(start_server: StartServer, tmp_path: Path) -> None:
    server = start_server(api_key=KEY, cors_origins=[PORTAL])
    answered = ask(server, ON_TOPIC, **{"X-API-Key": KEY})
    body = {"request_id": answered["request_id"], "helpful": False, "comment": "没说要什么材料"}

    assert send_feedback(server, body).status_code == 401
    recorded = send_feedback(server, body, **{"X-API-Key": KEY})
    assert (recorded.status_code, recorded.content) == (204, b"")
    assert send_feedback(server, {**body, "helpful": True, "comment": None}, **{"X-API-Key": KEY}).status_code == 204

    feedback = [record for record in records(tmp_path / "log") if record["kind"] == "feedback"]
    assert [(r["request_id"], r["helpful"], r["comment"]) for r in feedback] == [
        (answered["request_id"], False, "没说要什么材料"),
        (answered["request_id"], True, None),
    ]
    assert metric(server, "policyqa_feedback_total", helpful="false") == 1
    assert metric(server, "policyqa_feedback_total", helpful="true") == 1

    # A portal's page may send it: the browser's preflight is answered.
    asked = preflight(f"{server.url}/v1/feedback", PORTAL, headers="content-type,x-api-key")
    assert asked.status_code == 200
    assert asked.headers["access-control-allow-origin"] == PORTAL
    assert "POST" in asked.headers["access-control-allow-methods"]


def test_searches_flagged_answerable_false_are_counted(start_server: StartServer) -> None:
    server = start_server()
    assert metric(server, "policyqa_unanswerable_total") == 0
    answers = [ask(server, query) for query in (OFF_TOPIC, ON_TOPIC, "明天天气怎么样", OFF_TOPIC)]
    flagged = sum(not answer["answerable"] for answer in answers)
    assert flagged >= 1, "none of the off-topic questions was flagged: the count is not exercised"
    assert metric(server, "policyqa_unanswerable_total") == flagged
    assert metric(server, "policyqa_requests_total", endpoint="/v1/search", mode="hybrid", status="200") == 4


def test_with_log_questions_false_no_question_is_stored(
    start_server: StartServer, tmp_path: Path, question_log_dir: Path
) -> None:
    server = start_server(log_questions=False)
    question = "个体工商户的社保缴费能减免几个月？"
    answered = ask(server, question)
    assert (
        send_feedback(server, {"request_id": answered["request_id"], "helpful": False, "comment": question}).status_code
        == 204
    )
    assert metric(server, "policyqa_feedback_total", helpful="false") == 1  # counted all the same
    assert metric(server, "policyqa_unanswerable_total") == (0 if answered["answerable"] else 1)
    server.stop()

    assert not (tmp_path / "log").exists()
    for root in (tmp_path, question_log_dir):
        for path in root.rglob("*"):
            if path.is_file():
                assert question.encode() not in path.read_bytes(), path


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"helpful": True}, "request_id: Field required"),
        ({"request_id": "a b", "helpful": True}, "request_id: String should match pattern"),
        ({"request_id": "x" * 65, "helpful": True}, "request_id: String should match pattern"),
        ({"request_id": "abc"}, "helpful: Field required"),
        ({"request_id": "abc", "helpful": "false"}, "helpful: Input should be a valid boolean"),
        ({"request_id": "abc", "helpful": 0}, "helpful: Input should be a valid boolean"),
        ({"request_id": "abc", "helpful": True, "comment": "长" * 1001}, "comment: String should have at most 1000"),
        ({"request_id": "abc", "helpful": True, "comment": 5}, "comment: Input should be a valid string"),
        ({"request_id": "abc", "helpful": True, "rating": 5}, "rating: Extra inputs are not permitted"),
        (["abc", True], "body: Input should be a valid dictionary"),
    ],
)
def test_bad_feedback_is_a_422_naming_what_is_wrong(server: LiveServer, body: Any, named: str) -> None:
    response = send_feedback(server, body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["message"].startswith(named)


def test_openapi_documents_feedback(server: LiveServer) -> None:
    document = httpx.get(f"{server.url}/openapi.json").json()
    operation = document["paths"]["/v1/feedback"]["post"]
    assert {"204", "401", "422", "429"} <= set(operation["responses"])
    assert "503" not in operation["responses"]  # feedback does not wait for the index
    schema = document["components"]["schemas"]["FeedbackRequest"]
    assert schema["required"] == ["request_id", "helpful"]
    assert schema["properties"]["request_id"]["pattern"] == "^[A-Za-z0-9._-]{1,64}$"
    assert "request_id" in document["components"]["schemas"]["SearchResponse"]["required"]


def report(log_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "POLICYQA_QUESTION_LOG_DIR": str(log_dir)}
    return subprocess.run([*POLICYQA, "report", *args], env=env, capture_output=True, text=True, timeout=120)


def listed(output: str, heading: str) -> list[tuple[int, str]]:
    """The (count, question) lines of the report's section that starts with ``heading``."""
    (section,) = [part for part in output.split("\n\n") if part.startswith(heading)]
    rows = [re.fullmatch(r" *(\d+)  (.+)", line) for line in section.splitlines()[1:]]
    return [(int(row[1]), row[2]) for row in rows if row]


def test_the_report_lists_the_most_frequent_unanswered_and_unhelpful_questions(
    start_server: StartServer, tmp_path: Path
) -> None:
    server = start_server()
    asked = {  # a question in the forms people type it
        OFF_TOPIC: [OFF_TOPIC, " 北京小客车指标摇号怎么报名?", "北京 小客车指标摇号，怎么报名"],
        "明天天气怎么样": ["明天天气怎么样"],
        "个人所得税怎么申报": ["个人所得税怎么申报？"],
    }
    flagged = {
        question: sum(not ask(server, form)["answerable"] for form in forms) for question, forms in asked.items()
    }
    assert flagged[OFF_TOPIC] == 3, "the test needs all forms of its off-topic question flagged"
    assert max(count for question, count in flagged.items() if question != OFF_TOPIC) < 3
    # Answers marked unhelpful: the car-import question twice, a finance question once.
    for query in (ON_TOPIC, "钦州港片区 能做汽车平行进口吗", "融资租赁公司能收外币租金吗"):
        assert (
            send_feedback(server, {"request_id": ask(server, query)["request_id"], "helpful": False}).status_code == 204
        )
    server.stop()

    # A question asked often, long ago, is not on this week's list.
    old = (datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=10)).isoformat(timespec="milliseconds")
    stale = {"time": old, "kind": "search", "question": "老问题", "mode": "hybrid", "filters": {}, "top": None}
    with (tmp_path / "log" / "questions.jsonl").open("a", encoding="utf-8") as log:
        for n in range(5):
            log.write(json.dumps({**stale, "request_id": f"old-{n}", "answerable": False}, ensure_ascii=False) + "\n")

    week = report(tmp_path / "log", "--days", "7", "--top", "2")
    assert week.returncode == 0, week.stderr
    unanswered = listed(week.stdout, "Not answered")
    assert unanswered[0] == (3, OFF_TOPIC)  # the form asked most often (the first, on a tie) names the group
    assert len(unanswered) == min(2, sum(1 for count in flagged.values() if count))
    assert "老问题" not in week.stdout
    assert listed(week.stdout, "Marked unhelpful") == [(2, ON_TOPIC), (1, "融资租赁公司能收外币租金吗")]

    month = report(tmp_path / "log", "--days", "30")
    assert listed(month.stdout, "Not answered")[0] == (5, "老问题")


def test_a_log_directory_that_cannot_be_made_is_named_at_start(tmp_path: Path) -> None:
    taken = tmp_path / "a-file"
    taken.write_text("not a directory")
    serve = subprocess.run(
        [*POLICYQA, "serve", "--port", "1"],
        env={**os.environ, "POLICYQA_QUESTION_LOG_DIR": str(taken / "log")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert serve.returncode == 1
    assert f"cannot keep the question log in {taken / 'log'} (POLICYQA_QUESTION_LOG_DIR)" in serve.stderr


def test_the_report_says_when_there_is_no_log(tmp_path: Path) -> None:
    result = report(tmp_path / "nothing")
    assert result.returncode == 1
    assert f"no question log in {tmp_path / 'nothing'}" in result.stderr
    off = subprocess.run(
        [*POLICYQA, "report"],
        env={**os.environ, "POLICYQA_QUESTION_LOG_DIR": str(tmp_path), "POLICYQA_LOG_QUESTIONS": "false"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert off.returncode == 1
    assert "question logging is off (POLICYQA_LOG_QUESTIONS=false)" in off.stderr


def test_the_report_names_a_follow_up_by_the_question_it_was_completed_to() -> None:
    now = datetime.datetime.now(datetime.UTC).isoformat()
    completed = "个体工商户的社保单位缴费部分能免多久？"
    logged = [
        {"time": now, "kind": "search", "request_id": f"r{n}", "question": "那个体工商户呢？",
         "resolved_query": completed, "answerable": False}
        for n in range(2)
    ] + [{"time": now, "kind": "search", "request_id": "r9", "question": "那个体工商户呢？", "answerable": False}]  # fmt: skip
    since = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=1)
    listed = build_report(logged, since, top=5).unanswerable
    assert [(q.question, q.count) for q in listed] == [(completed, 2), ("那个体工商户呢？", 1)]


def test_grouping_ignores_width_case_whitespace_and_punctuation() -> None:
    assert grouping_key("Ｗhat is  VAT？") == grouping_key("what is vat?") == "whatisvat"
    assert grouping_key("摇号，怎么报名？") == grouping_key("摇号 怎么报名") != grouping_key("摇号怎么缴费")


def test_the_log_rotates_at_the_configured_size(start_server: StartServer, tmp_path: Path) -> None:
    max_bytes = 2048
    server = start_server(question_log_max_bytes=max_bytes, question_log_backups=2)
    log_dir = tmp_path / "log"
    sent: list[str] = []
    while not (log_dir / "questions.jsonl.1").exists():
        assert len(sent) < 20, "20 searches of some 500 bytes each and the log has not rotated at 2048"
        sent.append(ask(server, f"第{len(sent)}个问题：钦州港片区能做汽车平行进口吗", mode="bm25")["request_id"])
    assert len(sent) > 1
    assert [path.name for path in log_files(log_dir)] == ["questions.jsonl.1", "questions.jsonl"]
    assert [record["request_id"] for record in records(log_dir)] == sent  # none lost, in order

    sent += [ask(server, f"第{n}个问题：融资租赁公司能收外币租金吗", mode="bm25")["request_id"] for n in range(20)]
    names = [path.name for path in log_files(log_dir)]
    assert names == ["questions.jsonl.2", "questions.jsonl.1", "questions.jsonl"]  # two backups kept, no more
    kept = [record["request_id"] for record in records(log_dir)]
    assert len(kept) < len(sent)
    assert kept == sent[-len(kept) :]  # the newest, whole
    assert all(path.stat().st_size <= max_bytes for path in log_files(log_dir))


def test_concurrent_searches_each_write_one_whole_line(start_server: StartServer, tmp_path: Path) -> None:
    server = start_server(question_log_max_bytes=4096, question_log_backups=20)
    sent: list[str] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        for i in range(6):
            request_id = ask(server, f"客户{n}第{i}问：融资租赁公司能收外币租金吗", mode="bm25")["request_id"]
            with lock:
                sent.append(request_id)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    log_dir = tmp_path / "log"
    assert len(log_files(log_dir)) > 1  # rotated while the clients wrote
    lines = [line for path in log_files(log_dir) for line in path.read_text(encoding="utf-8").splitlines()]
    assert sorted(json.loads(line)["request_id"] for line in lines) == sorted(sent)


def _write_feedback(directory: str, writer: int, count: int) -> None:
    """One process's share of the multi-process test (module level, so that a spawned process can import it)."""
    log = QuestionLog(Path(directory), max_bytes=8192, backups=100)
    for n in range(count):
        log.feedback(FeedbackRequest(request_id=f"w{writer}-{n}", helpful=n % 2 == 0, comment="材料" * 20))
    log.close()


def test_processes_sharing_the_log_lose_no_line_across_rotations(tmp_path: Path) -> None:
    spawn = multiprocessing.get_context("spawn")
    writers = [spawn.Process(target=_write_feedback, args=(str(tmp_path), writer, 300)) for writer in range(3)]
    for process in writers:
        process.start()
    for process in writers:
        process.join(timeout=120)
        assert process.exitcode == 0
    files = log_files(tmp_path)
    assert len(files) > 10
    assert all(path.stat().st_size <= 8192 for path in files)
    ids = [record["request_id"] for record in records(tmp_path)]
    assert sorted(ids) == sorted(f"w{writer}-{n}" for writer in range(3) for n in range(300))
    for writer in range(3):  # each process's lines in the order it wrote them
        mine = [int(i.split("-")[1]) for i in ids if i.startswith(f"w{writer}-")]
        assert mine == sorted(mine)
