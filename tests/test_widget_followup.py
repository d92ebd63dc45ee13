"""The chat widget keeps its conversation: in real Chromium, a follow-up goes out with the earlier question as
``history`` and is answered from the clause it asks about, until "新对话" starts over."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("selenium")

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.conftest import DOC_ID, LiveServer
from tests.test_widget import (  # noqa: F401  # the browser fixture, the marks and the helpers
    ask,
    by_testid,
    driver,
    message_text,
    open_widget,
    pytestmark,
    results,
    wait_answered,
)

# Records what the widget sends: it calls the page's fetch when it asks.
SPY_ON_FETCH = """
window.sentBodies = [];
const fetchAsUsual = window.fetch;
window.fetch = function (url, options) {
  if (String(url).endsWith("/v1/search")) window.sentBodies.push(options.body);
  return fetchAsUsual.apply(this, arguments);
};
"""


def sent(browser: WebDriver) -> list[dict]:
    return [json.loads(body) for body in browser.execute_script("return window.sentBodies")]


def first_passage(root: object) -> str:
    return results(root)[0].get_attribute("data-passage-id")


def test_the_widget_sends_the_earlier_question_with_a_follow_up(
    driver: WebDriver,  # noqa: F811  # the browser fixture of tests/test_widget.py
    server: LiveServer,
) -> None:
    root = open_widget(driver, server.url + "/")
    driver.execute_script(SPY_ON_FETCH)
    restart = root.find_element(By.CSS_SELECTOR, by_testid("policyqa-new-conversation"))
    assert not restart.is_displayed()  # nothing to start over from yet

    ask(root, "南宁片区重点发展什么产业？")
    assert wait_answered(driver, root) == "found"
    ask(root, "那钦州港片区呢？")
    assert wait_answered(driver, root) == "found"
    assert [body["history"] for body in sent(driver)] == [[], ["南宁片区重点发展什么产业？"]]
    # Read against the earlier question: the clause on what each zone develops, and the question it searched.
    assert first_passage(root) == f"{DOC_ID}:2.p2"
    assert "按“钦州港片区重点发展什么产业？”检索" in message_text(root)

    # "新对话" forgets the conversation: the same words are now a question of their own.
    assert restart.is_displayed()
    restart.click()
    assert results(root) == []
    assert not restart.is_displayed()
    ask(root, "那钦州港片区呢？")
    assert wait_answered(driver, root) == "found"
    assert sent(driver)[-1]["history"] == []
    assert first_passage(root) == f"{DOC_ID}:2.p1"
    assert "检索）" not in message_text(root)
