"""The chat widget in a real headless Chromium (Debian's chromium + chromium-driver), driven by Selenium.

The widget renders into an open shadow root; the tests reach in through it. Pages on another origin are served
by a tiny http.server in a thread, which can also play a fake search API to provoke answers the real one won't give.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from time import sleep

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.shadowroot import ShadowRoot
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from service.settings import Settings
from tests.conftest import LiveServer, free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WAIT = 20  # seconds: the upper bound on any wait in the browser
SCREENSHOT = Path("/tmp/widget.png")

# Outside CI a machine without the browser skips these tests; in CI, where .ci/run installs it, they must run.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()) and not os.environ.get("CI"),
        reason="needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)",
    ),
]


def by_testid(name: str) -> str:
    return f'[data-testid="{name}"]'


@pytest.fixture(scope="module")
def driver() -> Iterator[WebDriver]:
    """One headless Chromium for the module, on a fresh profile, that never reaches out to the network itself."""
    with tempfile.TemporaryDirectory(prefix="policyqa-chromium-") as profile:
        options = webdriver.ChromeOptions()
        for arg in (
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--window-size=1200,1400",
            f"--user-data-dir={profile}",
        ):
            options.add_argument(arg)
        options.binary_location = str(CHROMIUM)
        browser = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
        try:
            yield browser
        finally:
            browser.quit()


class FakeAPI(SimpleHTTPRequestHandler):
    """Serves the page directory, and answers POST /v1/search with a canned reply chosen by the query."""

    queries: list[str]

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        query = body["query"]
        self.queries.append(query)
        if query == "slow":
            sleep(1.0)
            status, reply = 200, {"query": query, "mode": body["mode"], "results": [], "took_ms": 1000}
        elif query == "not ready":
            status, reply = (
                503,
                {"error": {"code": "not_ready", "message": "the index is still loading; retry shortly"}},
            )
        elif query == "personal income tax":
            status, reply = (
                200,
                {"query": query, "mode": body["mode"], "answerable": False, "results": [HOSTILE_RESULT], "took_ms": 1},
            )
        elif query == "linked":
            linked = {**HOSTILE_RESULT, "source_url": "https://www.gov.cn/zhengce/content/notice.htm"}
            status, reply = (
                200,
                {"query": query, "mode": body["mode"], "answerable": True, "results": [linked], "took_ms": 1},
            )
        elif query == "invalid":
            status, reply = 422, {"error": {"code": "invalid_request", "message": "top_k: must be at most 50"}}
        else:
            status, reply = 200, {"query": query, "mode": body["mode"], "results": [HOSTILE_RESULT], "took_ms": 1}
        data = json.dumps(reply).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


HOSTILE_RESULT = {
    "rank": 1,
    "passage_id": "x:1",
    "doc_id": "x",
    "article": "1",
    "title": "标题",
    "section_path": ["一、总则"],
    "citation": '《示例》<img src="x" onerror="window.pwned=1">第1条',
    "text": "前文。<b>这句</b>要标出。后文<script>window.pwned=2</script>",
    "highlight": "<b>这句</b>要标出。",
    "score": 1.0,
    "scores": {"bm25": 1.0, "dense": 1.0},
    "region": '某省<img src="z" onerror="window.pwned=4">',
    "date": "2020-02-10",
    "kind": "通知",
    "valid_until": "2020-06-30",
    "in_force": False,
    "source_url": "javascript:window.pwned=5",
    "also_in": [
        {"passage_id": "y:1", "doc_id": "y", "citation": '《转载》<img src="y" onerror="window.pwned=3">第1条'}
    ],
}


class OtherOrigin:
    """A static site on another port (so another origin than the service), which is also a fake API."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.queries: list[str] = []
        handler = type("Handler", (FakeAPI,), {"queries": self.queries})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), partial(handler, directory=str(root)))
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def page(self, name: str, script_src: str, **attrs: str) -> str:
        """Write a page holding only the widget's script tag; return its URL."""
        extra = "".join(f' data-policyqa-{key.replace("_", "-")}="{value}"' for key, value in attrs.items())
        html = (
            '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>portal</title>'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<link rel="icon" href="data:,"></head><body><h1>Portal</h1>'
            f'<script src="{script_src}"{extra}></script></body></html>'
        )
        (self.root / name).write_text(html, encoding="utf-8")
        return f"{self.url}/{name}"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture(scope="module")
def other_origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OtherOrigin]:
    site = OtherOrigin(tmp_path_factory.mktemp("portal"))
    yield site
    site.stop()


@pytest.fixture(scope="module")
def cors_server(default_index_dir: Path, other_origin: OtherOrigin) -> Iterator[LiveServer]:
    """The service again, this time letting the other origin's pages call it."""
    live = LiveServer(Settings(index_dir=default_index_dir, cors_origins=[other_origin.url])).start()
    yield live
    live.stop()


def open_widget(driver: WebDriver, url: str) -> ShadowRoot:
    """Load a page and return the widget's shadow root once its input is on screen (its styles are in)."""
    driver.get(url)

    def ready(d: WebDriver) -> ShadowRoot | None:
        hosts = d.find_elements(By.CSS_SELECTOR, "[data-policyqa-mounted]")
        if not hosts or d.execute_script("return arguments[0].shadowRoot", hosts[0]) is None:
            return None
        root = hosts[0].shadow_root
        inputs = root.find_elements(By.CSS_SELECTOR, by_testid("policyqa-input"))
        return root if inputs and inputs[0].is_displayed() else None

    return WebDriverWait(driver, WAIT).until(ready)


def ask(root: ShadowRoot, question: str, submit: Callable[[ShadowRoot], None] | None = None) -> None:
    box = root.find_element(By.CSS_SELECTOR, by_testid("policyqa-input"))
    box.clear()
    if submit is None:
        box.send_keys(question + Keys.ENTER)
    else:
        box.send_keys(question)
        submit(root)


def click_submit(root: ShadowRoot) -> None:
    root.find_element(By.CSS_SELECTOR, by_testid("policyqa-submit")).click()


def wait_answered(driver: WebDriver, root: ShadowRoot) -> str:
    """Wait until the widget is done with the question; return the kind of message it shows."""
    wrapper = root.find_element(By.CSS_SELECTOR, by_testid("policyqa-widget"))
    message = root.find_element(By.CSS_SELECTOR, by_testid("policyqa-message"))
    WebDriverWait(driver, WAIT).until(
        lambda d: wrapper.get_attribute("data-state") == "idle" and message.get_attribute("data-kind") != "loading"
    )
    return message.get_attribute("data-kind")


def message_text(root: ShadowRoot) -> str:
    return root.find_element(By.CSS_SELECTOR, by_testid("policyqa-message")).text


def results(root: ShadowRoot) -> list:
    return root.find_elements(By.CSS_SELECTOR, by_testid("policyqa-result"))


def test_demo_page_answers_with_the_cited_clause(driver: WebDriver, server: LiveServer) -> None:
    root = open_widget(driver, server.url + "/")
    assert driver.find_element(By.TAG_NAME, "h1").text == "政策条款问答"
    ask(root, "钦州港片区能做汽车平行进口吗？")
    assert wait_answered(driver, root) == "found"

    first = results(root)[0]
    citation = first.find_element(By.CSS_SELECTOR, by_testid("policyqa-citation")).text
    assert "第14条" in citation
    assert "培育国际贸易新业态新模式" in citation
    assert "汽车平行进口" in first.find_element(By.CSS_SELECTOR, by_testid("policyqa-highlight")).text

    # The full clause is collapsed behind a toggle that says whether it is open.
    toggle = first.find_element(By.CSS_SELECTOR, by_testid("policyqa-toggle"))
    text = first.find_element(By.CSS_SELECTOR, by_testid("policyqa-text"))
    assert not text.is_displayed()
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.send_keys(Keys.ENTER)  # keyboard usable
    assert text.is_displayed()
    assert toggle.get_attribute("aria-expanded") == "true"
    assert "积极争取国家同意" in text.text
    assert root.find_element(By.CSS_SELECTOR, by_testid("policyqa-submit")).is_enabled()
    driver.save_screenshot(str(SCREENSHOT))

    # An example chip on the demo page asks its question through the widget.
    chip = driver.find_elements(By.CSS_SELECTOR, by_testid("example-chip"))[1]
    assert chip.text == "融资租赁公司能收外币租金吗"
    chip.click()
    assert wait_answered(driver, root) == "found"
    assert root.find_element(By.CSS_SELECTOR, by_testid("policyqa-input")).get_attribute("value") == chip.text
    assert "第17条" in results(root)[0].find_element(By.CSS_SELECTOR, by_testid("policyqa-citation")).text


def test_widget_embedded_on_another_origin(
    driver: WebDriver, cors_server: LiveServer, other_origin: OtherOrigin
) -> None:
    url = other_origin.page("portal.html", f"{cors_server.url}/static/widget.js", api=cors_server.url)
    root = open_widget(driver, url)
    # The script made its own container right after itself, and styled it from widget.css next to it.
    host = driver.find_element(By.CSS_SELECTOR, "[data-policyqa-mounted]")
    assert driver.execute_script("return arguments[0].previousElementSibling.tagName", host) == "SCRIPT"
    assert root.find_element(By.CSS_SELECTOR, "link").get_attribute("href") == f"{cors_server.url}/static/widget.css"
    ask(root, "越南籍人员在崇左片区务工能停留多久", submit=click_submit)
    assert wait_answered(driver, root) == "found"
    assert results(root)
    assert other_origin.queries == []  # the questions went to the service, not to the page's origin


def test_the_page_s_filter_attributes_restrict_what_it_searches(
    driver: WebDriver, cors_server: LiveServer, other_origin: OtherOrigin
) -> None:
    script = f"{cors_server.url}/static/widget.js"
    fujian = open_widget(driver, other_origin.page("fujian.html", script, api=cors_server.url, region="福建"))
    ask(fujian, "钦州港片区能做汽车平行进口吗？")
    assert wait_answered(driver, fujian) == "empty"  # the one notice applies in 广西, not 福建
    guangxi = other_origin.page("guangxi.html", script, api=cors_server.url, region="广西", kind="通知")
    root = open_widget(driver, guangxi)
    ask(root, "钦州港片区能做汽车平行进口吗？")
    assert wait_answered(driver, root) == "found"
    notice = results(root)[0].find_element(By.CSS_SELECTOR, by_testid("policyqa-notice")).text
    assert notice == "广西壮族自治区 · 2020-01-22 · 通知"


@pytest.mark.parametrize("where", ["nothing listens", "no CORS for this origin"])
def test_a_service_that_cannot_be_reached_says_so(
    driver: WebDriver, server: LiveServer, other_origin: OtherOrigin, where: str
) -> None:
    api = f"http://127.0.0.1:{free_port()}" if where == "nothing listens" else server.url
    root = open_widget(driver, other_origin.page("down.html", f"{server.url}/static/widget.js", api=api))
    ask(root, "外币租金")
    assert wait_answered(driver, root) == "unavailable"
    assert "服务暂时不可用" in message_text(root)
    assert results(root) == []


def test_a_question_nothing_matches_says_so(
    driver: WebDriver, cors_server: LiveServer, other_origin: OtherOrigin
) -> None:
    url = other_origin.page("bm25.html", f"{cors_server.url}/static/widget.js", api=cors_server.url, mode="bm25")
    root = open_widget(driver, url)
    ask(root, "zzzzqqqq xxyy")
    assert wait_answered(driver, root) == "empty"
    assert "没有找到相关条款" in message_text(root)
    assert results(root) == []


def test_service_errors_escaping_and_double_submits(
    driver: WebDriver, server: LiveServer, other_origin: OtherOrigin
) -> None:
    # The page and the fake API share the other origin; the script still comes from the real service.
    url = other_origin.page("fake.html", f"{server.url}/static/widget.js", api=other_origin.url, top_k="3")
    root = open_widget(driver, url)
    other_origin.queries.clear()

    ask(root, "not ready")
    assert wait_answered(driver, root) == "not-ready"
    assert "尚未就绪" in message_text(root)
    assert root.find_elements(By.CSS_SELECTOR, by_testid("policyqa-retry"))

    ask(root, "invalid")
    assert wait_answered(driver, root) == "error"
    assert "top_k: must be at most 50" in message_text(root)

    # API strings are shown as text, never parsed as HTML.
    ask(root, "hostile")
    assert wait_answered(driver, root) == "found"
    first = results(root)[0]
    assert first.find_element(By.CSS_SELECTOR, by_testid("policyqa-citation")).text == HOSTILE_RESULT["citation"]
    assert first.find_element(By.CSS_SELECTOR, by_testid("policyqa-highlight")).text == HOSTILE_RESULT["highlight"]
    also_in = first.find_element(By.CSS_SELECTOR, by_testid("policyqa-also-in")).text
    assert also_in == "同一条款也见于：" + HOSTILE_RESULT["also_in"][0]["citation"]  # copies named, as text
    notice = first.find_element(By.CSS_SELECTOR, by_testid("policyqa-notice")).text
    # Where and when its notice applies, and that it has expired.
    assert notice == f"{HOSTILE_RESULT['region']} · 2020-02-10 · 通知 · 已失效（2020-06-30）"
    assert root.find_elements(By.CSS_SELECTOR, "img, b, script") == []
    assert first.find_elements(By.CSS_SELECTOR, by_testid("policyqa-source")) == []  # a javascript: URL is no link
    assert driver.execute_script("return window.pwned") is None

    # A notice the corpus gives a source page for: its citation links there, in a new tab.
    ask(root, "linked")
    assert wait_answered(driver, root) == "found"
    link = results(root)[0].find_element(By.CSS_SELECTOR, by_testid("policyqa-source"))
    assert link.get_attribute("href") == "https://www.gov.cn/zhengce/content/notice.htm"
    assert (link.get_attribute("target"), link.get_attribute("rel")) == ("_blank", "noopener noreferrer")
    assert link.text == HOSTILE_RESULT["citation"]

    # A question the notices may not answer: the closest clauses, said to be only that.
    ask(root, "personal income tax")
    assert wait_answered(driver, root) == "unanswerable"
    assert "可能没有直接回答这个问题" in message_text(root)
    assert len(results(root)) == 1

    # While a question is out, the button is disabled and a second Enter sends nothing.
    ask(root, "slow")
    assert not root.find_element(By.CSS_SELECTOR, by_testid("policyqa-submit")).is_enabled()
    assert root.find_element(By.CSS_SELECTOR, by_testid("policyqa-output")).get_attribute("aria-busy") == "true"
    root.find_element(By.CSS_SELECTOR, by_testid("policyqa-input")).send_keys(Keys.ENTER)
    assert wait_answered(driver, root) == "empty"
    assert other_origin.queries == ["not ready", "invalid", "hostile", "linked", "personal income tax", "slow"]


def test_pressing_unhelpful_sends_feedback_once_and_the_server_records_it(
    driver: WebDriver, cors_server: LiveServer, other_origin: OtherOrigin, question_log_dir: Path
) -> None:
    def unhelpful_count() -> float:
        text = httpx.get(f"{cors_server.url}/metrics").text
        return float(re.search(r'^policyqa_feedback_total\{helpful="false"\} (\S+)$', text, re.MULTILINE).group(1))

    before = unhelpful_count()
    url = other_origin.page("feedback.html", f"{cors_server.url}/static/widget.js", api=cors_server.url)
    root = open_widget(driver, url)
    ask(root, "融资租赁公司能收外币租金吗")
    assert wait_answered(driver, root) == "found"
    group = root.find_element(By.CSS_SELECTOR, by_testid("policyqa-feedback"))
    assert group.is_displayed()
    assert group.get_attribute("role") == "group"
    prompt = root.find_element(By.ID, group.get_attribute("aria-labelledby"))
    assert prompt.text == "这个回答有帮助吗？"  # the buttons' group is named for screen readers
    assert root.find_element(By.CSS_SELECTOR, by_testid("policyqa-helpful")).text == "有帮助"
    root.find_element(By.CSS_SELECTOR, by_testid("policyqa-unhelpful")).click()

    thanks = WebDriverWait(driver, WAIT).until(
        lambda d: root.find_elements(By.CSS_SELECTOR, by_testid("policyqa-feedback-thanks"))
    )
    assert thanks[0].text == "感谢您的反馈！"
    assert group.find_elements(By.TAG_NAME, "button") == []  # sent once: nothing left to press
    assert unhelpful_count() == before + 1

    logged = [json.loads(line) for line in (question_log_dir / "questions.jsonl").read_text("utf-8").splitlines()]
    search = [r for r in logged if r["kind"] == "search" and r["question"] == "融资租赁公司能收外币租金吗"][-1]
    assert {"kind": "feedback", "request_id": search["request_id"], "helpful": False, "comment": None}.items() <= (
        logged[-1].items()
    )


def test_the_page_names_the_widget_and_its_example_question(
    driver: WebDriver, server: LiveServer, other_origin: OtherOrigin
) -> None:
    script = f"{server.url}/static/widget.js"

    def title_and_placeholder(root: ShadowRoot) -> tuple[list[str], str]:
        titles = [title.text for title in root.find_elements(By.CSS_SELECTOR, by_testid("policyqa-title"))]
        return titles, root.find_element(By.CSS_SELECTOR, by_testid("policyqa-input")).get_attribute("placeholder")

    named = other_origin.page(
        "named.html", script, title="某市惠企政策问答", placeholder="例如：公积金提取要带什么材料？"
    )
    assert title_and_placeholder(open_widget(driver, named)) == (["某市惠企政策问答"], "例如：公积金提取要带什么材料？")
    # Unnamed, it says what it is without borrowing a place's example; an empty title leaves the page's own heading.
    plain = title_and_placeholder(open_widget(driver, other_origin.page("plain.html", script)))
    assert plain == (["政策问答"], "例如：某项政策的申请条件是什么？")
    untitled = other_origin.page("untitled.html", script, title="")
    assert title_and_placeholder(open_widget(driver, untitled)) == ([], "例如：某项政策的申请条件是什么？")


@pytest.mark.parametrize("width", [1280, 375])
def test_an_answer_fits_the_screen_on_a_desktop_and_a_phone(
    driver: WebDriver, cors_server: LiveServer, other_origin: OtherOrigin, tmp_path: Path, width: int
) -> None:
    from PIL import Image  # matplotlib's dependency, so in the test extra

    height = 900
    # The viewport itself at this size, as a phone's browser lays out a page (not only a narrower window).
    metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    try:
        page = other_origin.page(f"fit-{width}.html", f"{cors_server.url}/static/widget.js", api=cors_server.url)
        root = open_widget(driver, page)
        ask(root, "钦州港片区能做汽车平行进口吗？")
        assert wait_answered(driver, root) == "found"
        first = results(root)[0]
        first.find_element(By.CSS_SELECTOR, by_testid("policyqa-toggle")).click()  # the clause's whole text, too
        assert first.find_element(By.CSS_SELECTOR, by_testid("policyqa-text")).is_displayed()
        widget = root.find_element(By.CSS_SELECTOR, by_testid("policyqa-widget"))
        driver.execute_script("arguments[0].scrollIntoView()", widget)

        viewport = driver.execute_script("return [window.innerWidth, window.innerHeight]")
        assert viewport == [width, height]
        assert driver.execute_script("return document.documentElement.scrollWidth") <= width
        # Nothing in the widget reaches past either side of the screen: input, button, answer cards, their text.
        spill = driver.execute_script(
            "return Array.from(arguments[0].querySelectorAll('*')).map(function (el) {"
            "  var r = el.getBoundingClientRect();"
            "  return r.width && (r.left < -0.5 || r.right > window.innerWidth + 0.5)"
            "    ? el.className + ' ' + Math.round(r.left) + '..' + Math.round(r.right) : null;"
            "}).filter(Boolean)",
            widget,
        )
        assert spill == []
        for testid in ("policyqa-input", "policyqa-submit", "policyqa-result"):
            box = root.find_element(By.CSS_SELECTOR, by_testid(testid)).rect
            assert box["x"] >= 0 and box["x"] + box["width"] <= width, testid
        if width < 600:  # on a phone the button goes under the input, as wide as it
            field, button = (
                root.find_element(By.CSS_SELECTOR, by_testid(t)).rect for t in ("policyqa-input", "policyqa-submit")
            )
            assert button["y"] >= field["y"] + field["height"] and button["width"] == field["width"]

        shot = tmp_path / f"widget-{width}.png"
        assert driver.save_screenshot(str(shot))
        box = widget.rect
        with Image.open(shot) as image:
            assert image.size == (width, height)
            region = image.convert("RGB").crop(
                (
                    int(box["x"]),
                    max(0, int(box["y"])),
                    int(box["x"] + box["width"]),
                    min(height, int(box["y"] + box["height"])),
                )
            )
            colours = {colour for _, colour in region.getcolors(maxcolors=1 << 20)}
        assert len(colours) > 50  # text, borders and marks are drawn, not a blank box
        assert (183, 28, 28) in colours  # the accent (#b71c1c) of the ask button and the rank badges is painted
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
