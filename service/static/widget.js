/*
 * policyqa chat widget: ask a question of the policy notices, see the clauses that answer it.
 *
 * Embed with one script tag:
 *
 *   <script src="https://HOST/static/widget.js"
 *           data-policyqa-api="https://HOST"        (optional; default: the origin widget.js came from)
 *           data-policyqa-target="#policyqa"        (optional; default: a new element right after the script)
 *           data-policyqa-mode="hybrid"             (optional; hybrid | bm25 | dense)
 *           data-policyqa-top-k="5"                 (optional; 1..50)
 *           data-policyqa-css="https://HOST/x.css"  (optional; default: widget.css next to widget.js)
 *           data-policyqa-key="…"                   (optional; sent as X-API-Key: anyone who reads the page sees it)
 *           data-policyqa-title="…"                 (optional; the heading over the widget, default 政策问答; "": none)
 *           data-policyqa-placeholder="…"           (optional; the input's example question)
 *           data-policyqa-region="福建省"            (optional filters, as the API's: region, issuer, kind,
 *           data-policyqa-kind="通知"                 date-from, date-to, doc-id, section; a portal of one
 *           data-policyqa-date-from="2020-01-01"      city sets its region, a tax office its issuer)
 *   ></script>
 *
 * The widget renders into an open shadow root, so the host page's CSS does not reach it. Every string
 * from the API is put in the page as text (textContent / text nodes), never as HTML.
 *
 * It keeps the page's questions as a conversation and sends the earlier ones with each question (`history`), so
 * that a follow-up such as "那湖北呢？" is read against them; its "新对话" button starts over.
 *
 * Pages can drive it: element.dispatchEvent(new CustomEvent("policyqa:ask", {detail: {query: "…"}}))
 * on the container, or window.PolicyQA.ask("…") for the first widget on the page.
 */
(function () {
  "use strict";

  // The API's allowed modes and limits, written in by the server that serves this script.
  var LIMITS = __POLICYQA_LIMITS__;
  var MODES = LIMITS.modes;
  var MAX_TOP_K = LIMITS.maxTopK;
  var FILTERS = LIMITS.filters;
  var MAX_QUERY_CHARS = LIMITS.maxQueryChars;
  var MAX_HISTORY = LIMITS.maxHistory;
  var TIMEOUT_MS = 20000;
  var TEXT = {
    title: "政策问答",
    label: "请输入您的问题（中文或英文）",
    placeholder: "例如：某项政策的申请条件是什么？",
    submit: "提问",
    loading: "正在检索相关条款…",
    empty: "没有找到相关条款。请换一种说法，或使用更具体的关键词。",
    emptyQuery: "请先输入问题。",
    unavailable: "服务暂时不可用，请稍后再试。",
    notReady: "服务正在启动，条款索引尚未就绪，请稍后再试。",
    timeout: "服务响应超时，请稍后再试。",
    rateLimited: "提问过于频繁，请稍后再试。",
    badAnswer: "服务返回了无法识别的应答，请稍后再试。",
    errorPrefix: "查询出错：",
    found: function (n) { return "找到 " + n + " 条相关条款："; },
    unanswerable: function (n) {
      return "已收录的政策文件可能没有直接回答这个问题。以下是最接近的 " + n + " 条条款，仅供参考：";
    },
    showText: "展开条款全文",
    hideText: "收起条款全文",
    highlightLabel: "最相关的一句",
    alsoIn: "同一条款也见于：",
    expired: "已失效",
    resultsLabel: "检索结果",
    feedbackPrompt: "这个回答有帮助吗？",
    helpful: "有帮助",
    unhelpful: "没帮助",
    feedbackThanks: "感谢您的反馈！",
    feedbackFailed: "反馈未能发送，请稍后再试。",
    newConversation: "新对话",
    searchedAs: function (query) { return "（按“" + query + "”检索）"; },
    retry: "重试"
  };

  var script = document.currentScript || findScript();
  if (!script) return;

  var uid = 0;
  var widgets = [];

  function findScript() {
    var scripts = document.querySelectorAll("script[src]");
    for (var i = scripts.length - 1; i >= 0; i--) {
      if (/widget\.js(?:[?#].*)?$/.test(scripts[i].getAttribute("src"))) return scripts[i];
    }
    return null;
  }

  function resolveUrl(value, base) {
    try {
      return new URL(value, base);
    } catch (e) {
      return null;
    }
  }

  function readConfig(el) {
    var src = resolveUrl(el.getAttribute("src") || "", document.baseURI);
    var api = el.getAttribute("data-policyqa-api");
    var apiUrl = api ? resolveUrl(api, document.baseURI) : null;
    var apiBase = apiUrl ? apiUrl.href : src ? src.origin : window.location.origin;
    var css = el.getAttribute("data-policyqa-css");
    var cssUrl = css ? resolveUrl(css, document.baseURI) : src ? resolveUrl("widget.css", src) : null;
    var mode = (el.getAttribute("data-policyqa-mode") || "hybrid").trim().toLowerCase();
    var topK = parseInt(el.getAttribute("data-policyqa-top-k") || "5", 10);
    var title = el.getAttribute("data-policyqa-title");
    var placeholder = (el.getAttribute("data-policyqa-placeholder") || "").trim();
    var filters = null;
    FILTERS.forEach(function (name) {
      var value = el.getAttribute("data-policyqa-" + name.replace(/_/g, "-"));
      if (value && value.trim()) {
        filters = filters || {};
        filters[name] = value.trim();
      }
    });
    return {
      filters: filters,
      apiBase: apiBase.replace(/\/+$/, ""),
      cssHref: cssUrl ? cssUrl.href : null,
      target: el.getAttribute("data-policyqa-target"),
      apiKey: el.getAttribute("data-policyqa-key") || null,
      title: title === null ? TEXT.title : title.trim(), // present but empty: the page has a heading of its own
      placeholder: placeholder || TEXT.placeholder,
      mode: MODES.indexOf(mode) >= 0 ? mode : "hybrid",
      topK: isNaN(topK) ? 5 : Math.min(Math.max(topK, 1), MAX_TOP_K)
    };
  }

  function webUrl(value) {
    if (typeof value !== "string") return null;
    var url = resolveUrl(value, document.baseURI);
    return url && (url.protocol === "https:" || url.protocol === "http:") ? url.href : null;
  }

  /* A tiny element builder: attributes as an object, children as strings (text nodes) or nodes. */
  function h(tag, attrs, children) {
    var el = document.createElement(tag);
    if (attrs) {
      for (var key in attrs) {
        if (!Object.prototype.hasOwnProperty.call(attrs, key)) continue;
        var value = attrs[key];
        if (value === null || value === undefined || value === false) continue;
        if (key === "className") el.className = value;
        else el.setAttribute(key, value === true ? "" : String(value));
      }
    }
    append(el, children);
    return el;
  }

  function append(el, children) {
    if (children === null || children === undefined) return;
    if (!Array.isArray(children)) children = [children];
    for (var i = 0; i < children.length; i++) {
      var child = children[i];
      if (child === null || child === undefined) continue;
      el.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
  }

  function asText(value) {
    return value === null || value === undefined ? "" : String(value);
  }

  /* The clause's text with the highlighted sentence marked, all as text nodes. */
  function markedText(text, highlight) {
    var at = highlight ? text.indexOf(highlight) : -1;
    if (at < 0) return [text];
    return [
      text.slice(0, at),
      h("mark", { className: "pqa-mark" }, highlight),
      text.slice(at + highlight.length)
    ];
  }

  function mount(container, config) {
    if (container.getAttribute("data-policyqa-mounted") === "true") return null;
    container.setAttribute("data-policyqa-mounted", "true");
    var id = "pqa" + ++uid;
    var root;
    if (container.attachShadow) {
      root = container.shadowRoot || container.attachShadow({ mode: "open" });
    } else {
      root = container; // old browsers: the pqa- class prefix keeps the styles apart
    }

    var wrapper = h("div", { className: "pqa-root", "data-testid": "policyqa-widget", lang: "zh-CN" });
    if (config.cssHref) {
      // Hidden until its styles are in, so the page never flashes an unstyled widget.
      wrapper.style.visibility = "hidden";
      var link = h("link", { rel: "stylesheet", href: config.cssHref });
      var reveal = function () { wrapper.style.visibility = ""; };
      link.addEventListener("load", reveal);
      link.addEventListener("error", reveal);
      setTimeout(reveal, 3000);
      if (root === container) document.head.appendChild(link);
      else root.appendChild(link);
    }

    var input = h("input", {
      id: id + "-input",
      className: "pqa-input",
      type: "text",
      name: "query",
      autocomplete: "off",
      enterkeyhint: "search",
      maxlength: MAX_QUERY_CHARS,
      placeholder: config.placeholder,
      "data-testid": "policyqa-input"
    });
    var button = h("button", { className: "pqa-submit", type: "submit", "data-testid": "policyqa-submit" }, [
      h("span", { className: "pqa-spinner", "aria-hidden": "true" }),
      h("span", { className: "pqa-submit-label" }, TEXT.submit)
    ]);
    var form = h("form", { className: "pqa-form", role: "search", novalidate: true }, [
      h("label", { className: "pqa-label", for: id + "-input" }, TEXT.label),
      h("div", { className: "pqa-row" }, [input, button])
    ]);
    var message = h("p", { className: "pqa-message", "data-testid": "policyqa-message", hidden: true });
    var list = h("ol", { className: "pqa-results", "data-testid": "policyqa-results", "aria-label": TEXT.resultsLabel });
    var feedback = h("div", {
      className: "pqa-feedback",
      role: "group",
      "aria-labelledby": id + "-feedback-prompt",
      "data-testid": "policyqa-feedback",
      hidden: true
    });
    var output = h("div", {
      className: "pqa-output",
      "aria-live": "polite",
      "aria-busy": "false",
      "data-testid": "policyqa-output"
    }, [message, list, feedback]);
    var title = config.title ? h("h2", { className: "pqa-title", "data-testid": "policyqa-title" }, config.title) : null;
    append(wrapper, [title, form, output]);
    root.appendChild(wrapper);

    var busy = false;
    var seq = 0;
    var controller = null;
    var lastQuery = "";
    // This page's questions so far, oldest first: the service reads a follow-up ("那湖北呢？") against them.
    var conversation = [];
    var restart = h("button", {
      type: "button",
      className: "pqa-new",
      "data-testid": "policyqa-new-conversation",
      hidden: true
    }, TEXT.newConversation);
    var buttonHadFocus = false;

    function setBusy(on) {
      busy = on;
      if (on) {
        buttonHadFocus = (root.activeElement || document.activeElement) === button;
      } else if (buttonHadFocus) {
        input.focus(); // disabling the focused button dropped focus; hand it back to the input
        buttonHadFocus = false;
      }
      button.disabled = on;
      wrapper.setAttribute("data-state", on ? "loading" : "idle");
      output.setAttribute("aria-busy", on ? "true" : "false");
    }

    function showMessage(kind, text, retry) {
      message.hidden = false;
      message.setAttribute("data-kind", kind);
      message.className = "pqa-message pqa-message--" + kind;
      message.textContent = text;
      if (retry) {
        var again = h("button", { type: "button", className: "pqa-retry", "data-testid": "policyqa-retry" }, TEXT.retry);
        again.addEventListener("click", function () { ask(lastQuery, true); });
        message.appendChild(document.createTextNode(" "));
        message.appendChild(again);
      }
    }

    function clearMessage() {
      message.hidden = true;
      message.removeAttribute("data-kind");
      message.textContent = "";
    }

    function renderResults(results) {
      list.textContent = "";
      for (var i = 0; i < results.length; i++) list.appendChild(renderResult(results[i], i));
    }

    function renderResult(result, i) {
      var text = asText(result.text);
      var highlight = asText(result.highlight);
      var textId = id + "-text-" + i;
      var body = h("div", { id: textId, className: "pqa-text", "data-testid": "policyqa-text", hidden: true },
        markedText(text, highlight));
      var toggle = h("button", {
        type: "button",
        className: "pqa-toggle",
        "aria-expanded": "false",
        "aria-controls": textId,
        "data-testid": "policyqa-toggle"
      }, TEXT.showText);
      toggle.addEventListener("click", function () {
        var open = toggle.getAttribute("aria-expanded") !== "true";
        toggle.setAttribute("aria-expanded", open ? "true" : "false");
        toggle.textContent = open ? TEXT.hideText : TEXT.showText;
        body.hidden = !open;
      });
      var rank = result.rank || i + 1;
      return h("li", {
        className: "pqa-result",
        "data-testid": "policyqa-result",
        "data-passage-id": asText(result.passage_id)
      }, [
        h("div", { className: "pqa-head" }, [
          h("span", { className: "pqa-rank", "aria-hidden": "true" }, String(rank)),
          h("p", { className: "pqa-citation", "data-testid": "policyqa-citation" }, citation(result))
        ]),
        noticeLine(result),
        highlight
          ? h("p", { className: "pqa-highlight" }, [
              h("span", { className: "pqa-visually-hidden" }, TEXT.highlightLabel + "："),
              h("mark", { className: "pqa-mark", "data-testid": "policyqa-highlight" }, highlight)
            ])
          : null,
        alsoIn(result.also_in),
        toggle,
        body
      ]);
    }

    // The citation, a link to the notice's page where the service knows one (http or https only).
    function citation(result) {
      var text = asText(result.citation);
      var url = webUrl(result.source_url);
      return url
        ? h("a", { href: url, target: "_blank", rel: "noopener noreferrer", "data-testid": "policyqa-source" }, text)
        : text;
    }

    // Where the clause's notice applies, when it was issued, what kind it is, and whether it has expired.
    function noticeLine(result) {
      var parts = [result.region, result.date, result.kind].map(asText).filter(Boolean);
      if (result.in_force === false) parts.push(TEXT.expired + (result.valid_until ? "（" + asText(result.valid_until) + "）" : ""));
      return parts.length
        ? h("p", { className: "pqa-notice", "data-testid": "policyqa-notice" }, parts.join(" · "))
        : null;
    }

    // Copies of the clause in other notices (a measure republished), named once under the one shown.
    function alsoIn(copies) {
      if (!Array.isArray(copies) || !copies.length) return null;
      var names = copies.map(function (copy) { return asText(copy && copy.citation); }).filter(Boolean);
      return names.length
        ? h("p", { className: "pqa-also-in", "data-testid": "policyqa-also-in" }, TEXT.alsoIn + names.join("；"))
        : null;
    }

    // Under an answer: was it helpful? One press sends it (POST /v1/feedback, by the answer's request id), then thanks.
    var feedbackFor = null;

    function showFeedback(requestId) {
      feedbackFor = typeof requestId === "string" && requestId ? requestId : null;
      feedback.textContent = "";
      feedback.hidden = !feedbackFor;
      if (!feedbackFor) return;
      append(feedback, [
        h("span", { id: id + "-feedback-prompt", className: "pqa-feedback-prompt" }, TEXT.feedbackPrompt),
        feedbackButton(feedbackFor, true),
        feedbackButton(feedbackFor, false)
      ]);
    }

    function feedbackButton(requestId, helpful) {
      var button = h("button", {
        type: "button",
        className: "pqa-feedback-button",
        "data-testid": helpful ? "policyqa-helpful" : "policyqa-unhelpful"
      }, helpful ? TEXT.helpful : TEXT.unhelpful);
      button.addEventListener("click", function () { sendFeedback(requestId, helpful); });
      return button;
    }

    function sendFeedback(requestId, helpful) {
      var buttons = feedback.querySelectorAll("button");
      for (var i = 0; i < buttons.length; i++) buttons[i].disabled = true;
      fetch(config.apiBase + "/v1/feedback", {
        method: "POST",
        mode: "cors",
        credentials: "omit",
        headers: apiHeaders(),
        body: JSON.stringify({ request_id: requestId, helpful: helpful })
      })
        .then(function (response) { return response.ok; }, function () { return false; })
        .then(function (sent) {
          if (feedbackFor !== requestId) return; // another question has been asked since
          var note = feedback.querySelector(".pqa-feedback-note");
          if (note) feedback.removeChild(note);
          for (var j = 0; j < buttons.length; j++) {
            if (sent) feedback.removeChild(buttons[j]);
            else buttons[j].disabled = false;
          }
          append(feedback, h("span", {
            className: "pqa-feedback-note",
            "data-testid": sent ? "policyqa-feedback-thanks" : "policyqa-feedback-failed"
          }, sent ? TEXT.feedbackThanks : TEXT.feedbackFailed));
        });
    }

    function apiHeaders() {
      var headers = { "Content-Type": "application/json", Accept: "application/json" };
      if (config.apiKey) headers["X-API-Key"] = config.apiKey;
      return headers;
    }

    function errorMessage(status, body) {
      var err = body && typeof body === "object" ? body.error : null;
      var detail = err && err.message ? asText(err.message) : "";
      if (status === 503) return { kind: "not-ready", text: TEXT.notReady, retry: true };
      if (status === 429) return { kind: "error", text: TEXT.rateLimited, retry: true };
      if (status >= 500 || !detail) {
        return { kind: "unavailable", text: status >= 500 ? TEXT.unavailable : TEXT.badAnswer, retry: true };
      }
      return { kind: "error", text: TEXT.errorPrefix + detail, retry: false };
    }

    function ask(rawQuery, force) {
      var query = asText(rawQuery).trim();
      if (!query) {
        showMessage("hint", TEXT.emptyQuery);
        input.focus();
        return;
      }
      if (busy && !force) return; // one question at a time; a page-driven question replaces it
      if (controller) controller.abort();
      var mine = ++seq;
      lastQuery = query;
      input.value = query;
      setBusy(true);
      list.textContent = "";
      showFeedback(null);
      showMessage("loading", TEXT.loading);

      var timedOut = false;
      controller = typeof AbortController === "function" ? new AbortController() : null;
      var timer = setTimeout(function () {
        timedOut = true;
        if (controller) controller.abort();
      }, TIMEOUT_MS);

      var status = 0;
      fetch(config.apiBase + "/v1/search", {
        method: "POST",
        mode: "cors",
        credentials: "omit",
        headers: apiHeaders(),
        body: JSON.stringify({
          query: query,
          top_k: config.topK,
          mode: config.mode,
          filters: config.filters,
          history: conversation
        }),
        signal: controller ? controller.signal : undefined
      })
        .then(function (response) {
          status = response.status;
          return response.json().then(
            function (body) { return body; },
            function () { return null; }
          );
        })
        .then(function (body) {
          if (mine !== seq) return;
          if (status === 200 && body && Array.isArray(body.results)) {
            if (body.results.length === 0) {
              showMessage("empty", TEXT.empty);
            } else if (body.answerable === false) {
              showMessage("unanswerable", TEXT.unanswerable(body.results.length));
              renderResults(body.results);
            } else {
              showMessage("found", TEXT.found(body.results.length));
              renderResults(body.results);
            }
            if (body.results.length) showFeedback(body.request_id);
            if (body.resolved_query) message.appendChild(document.createTextNode(TEXT.searchedAs(asText(body.resolved_query))));
            conversation = conversation.concat([query]).slice(-MAX_HISTORY);
            restart.hidden = false;
          } else {
            var shown = status === 200 ? { kind: "unavailable", text: TEXT.badAnswer, retry: true }
              : errorMessage(status, body);
            showMessage(shown.kind, shown.text, shown.retry);
          }
        })
        .catch(function (error) {
          if (mine !== seq) return;
          if (error && error.name === "AbortError" && !timedOut) return;
          // A network failure, a refused connection or a CORS refusal all land here.
          showMessage("unavailable", timedOut ? TEXT.timeout : TEXT.unavailable, true);
        })
        .then(function () {
          clearTimeout(timer);
          if (mine !== seq) return;
          controller = null;
          setBusy(false);
        });
    }

    // Start over: the next question is read on its own.
    form.appendChild(restart);
    restart.addEventListener("click", function () {
      conversation = [];
      restart.hidden = true;
      list.textContent = "";
      showFeedback(null);
      clearMessage();
      input.value = "";
      input.focus();
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      ask(input.value, false);
    });
    // Enter that confirms an IME composition (typing Chinese) must not send the question.
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.isComposing || event.keyCode === 229)) event.preventDefault();
    });

    var api = {
      element: container,
      ask: function (query) { ask(query, true); },
      focus: function () { input.focus(); }
    };
    container.addEventListener("policyqa:ask", function (event) {
      api.ask(event.detail && event.detail.query);
    });
    clearMessage();
    widgets.push(api);
    return api;
  }

  function findContainer(config) {
    if (config.target) {
      var found = null;
      try {
        found = document.querySelector(config.target);
      } catch (e) {
        found = null;
      }
      if (found) return found;
    }
    var el = document.createElement("div");
    el.className = "policyqa-widget";
    if (config.target && /^#[A-Za-z][\w-]*$/.test(config.target)) el.id = config.target.slice(1);
    if (script.parentNode && script.parentNode !== document.head && document.body && document.body.contains(script)) {
      script.parentNode.insertBefore(el, script.nextSibling);
    } else {
      document.body.appendChild(el);
    }
    return el;
  }

  function start() {
    var config = readConfig(script);
    mount(findContainer(config), config);
  }

  window.PolicyQA = window.PolicyQA || {
    widgets: widgets,
    ask: function (query) {
      if (widgets.length) widgets[0].ask(query);
    },
    mount: function (element, options) {
      var base = readConfig(script);
      options = options || {};
      for (var key in options) if (Object.prototype.hasOwnProperty.call(options, key)) base[key] = options[key];
      return mount(element, base);
    }
  };
  if (window.PolicyQA.widgets !== widgets) widgets = window.PolicyQA.widgets;

  // With a target that is not parsed yet (script in <head>), wait for the document.
  if (document.readyState === "loading" && (!document.body || readConfig(script).target)) {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
