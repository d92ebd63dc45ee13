"""Follow-up questions over HTTP: ``history`` in POST and GET /v1/search, and ``resolved_query`` in the answer."""

from __future__ import annotations

import httpx

from service.schemas import MAX_HISTORY
from tests.conftest import DOC_ID, LiveServer

EARLIER = "南宁片区重点发展什么产业？"
FOLLOW_UP = "那钦州港片区呢？"


def test_a_follow_up_with_history_is_answered_from_the_clause_it_asks_about(server: LiveServer) -> None:
    body = {"query": FOLLOW_UP, "top_k": 1, "history": [EARLIER]}
    answered = httpx.post(f"{server.url}/v1/search", json=body).json()
    assert answered["query"] == FOLLOW_UP
    assert answered["resolved_query"] == "钦州港片区重点发展什么产业？"
    # The layout's second paragraph says what each zone develops; asked alone, the one on the zones' areas comes first.
    assert answered["results"][0]["passage_id"] == f"{DOC_ID}:2.p2"
    alone = httpx.post(f"{server.url}/v1/search", json={"query": FOLLOW_UP, "top_k": 1}).json()
    assert alone["resolved_query"] is None
    assert alone["results"][0]["passage_id"] == f"{DOC_ID}:2.p1"


def test_a_self_contained_question_is_searched_as_asked_whatever_came_before(server: LiveServer) -> None:
    body = {"query": "钦州港片区能做汽车平行进口吗？", "top_k": 1, "history": [EARLIER]}
    answered = httpx.post(f"{server.url}/v1/search", json=body).json()
    assert answered["resolved_query"] is None
    assert answered["results"][0]["passage_id"] == f"{DOC_ID}:3.2.14"


def test_get_takes_the_history_as_repeated_parameters(server: LiveServer) -> None:
    params = [("q", FOLLOW_UP), ("top_k", "1"), ("history", "领导小组的组长是谁？"), ("history", EARLIER)]
    answered = httpx.get(f"{server.url}/v1/search", params=params).json()
    # The most recent earlier question is the context.
    assert answered["resolved_query"] == "钦州港片区重点发展什么产业？"
    assert answered["results"][0]["passage_id"] == f"{DOC_ID}:2.p2"


def test_too_long_a_history_or_a_blank_question_in_it_is_a_named_422(server: LiveServer) -> None:
    too_long = {"query": FOLLOW_UP, "history": [EARLIER] * (MAX_HISTORY + 1)}
    response = httpx.post(f"{server.url}/v1/search", json=too_long)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["message"].startswith("history: ")
    assert str(MAX_HISTORY) in error["message"]

    blank = httpx.post(f"{server.url}/v1/search", json={"query": FOLLOW_UP, "history": [EARLIER, " \t"]})
    assert blank.status_code == 422
    assert blank.json()["error"]["message"].startswith("history.1: ")

    params = [("q", FOLLOW_UP)] + [("history", EARLIER)] * (MAX_HISTORY + 1)
    response = httpx.get(f"{server.url}/v1/search", params=params)
    assert response.status_code == 422
    assert response.json()["error"]["message"].startswith("history: ")


def test_openapi_documents_the_history_and_the_question_searched(server: LiveServer) -> None:
    spec = httpx.get(f"{server.url}/openapi.json").json()
    schemas = spec["components"]["schemas"]
    history = schemas["SearchRequest"]["properties"]["history"]
    assert history["type"] == "array"
    assert history["maxItems"] == MAX_HISTORY
    assert history["items"]["maxLength"] == 500
    resolved = schemas["SearchResponse"]["properties"]["resolved_query"]
    assert "history" in resolved["description"]
    parameters = {p["name"]: p for p in spec["paths"]["/v1/search"]["get"]["parameters"]}
    assert parameters["history"]["schema"]["type"] == "array"
