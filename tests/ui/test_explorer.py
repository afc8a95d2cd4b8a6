"""The explorer page (/ui) in headless Chromium against the real API on a real graph.

Every check compares what the page shows with what the same API answers over HTTP.
The page fixture fails a test on any console error it did not provoke on purpose.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

LiveServer = Any  # tests/ui/conftest.py: the API served over HTTP


def open_user(page: Any, server: LiveServer, user: str, **query: Any) -> None:
    params = "&".join(f"{k}={v}" for k, v in {"user": user, **query}.items())
    page.goto(f"{server.url}/ui/?{params}")
    wait_ready(page, "recommendations")


def wait_ready(page: Any, panel: str, states: tuple[str, ...] = ("ready",)) -> None:
    selector = ", ".join(f"#{panel}[data-state='{s}']" for s in states)
    page.wait_for_selector(selector)


def shown_items(page: Any) -> list[str]:
    return page.eval_on_selector_all("#rec-list li", "els => els.map(e => e.dataset.item)")


def api_items(server: LiveServer, user: str, **params: Any) -> list[str]:
    body = server.api(f"/users/{user}/recommendations", **params)
    return [item["item_id"] for item in body["items"]]


def test_pick_a_user_and_see_k_recommendations(
    page: Any, api_server: LiveServer, shot: Callable[[str], Path], measured: dict[str, float]
) -> None:
    start = time.perf_counter()
    page.goto(f"{api_server.url}/ui")  # redirected to /ui/
    page.wait_for_selector("#examples .example")
    examples = api_server.api("/users", limit=6)["users"]
    assert page.eval_on_selector_all(
        "#examples .example", "els => els.map(e => e.textContent)"
    ) == [u["id"] for u in examples]
    user = examples[1]["id"]
    page.click(f"#examples .example[data-user='{user}']")
    wait_ready(page, "recommendations")
    wait_ready(page, "history")
    measured["first_contentful_paint_cold_browser_ms"] = round(
        page.evaluate("performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1"),
        1,
    )
    measured["open_page_click_user_until_shown_s"] = round(time.perf_counter() - start, 3)
    assert shown_items(page) == api_items(api_server, user, k=10)
    assert page.locator("#rec-list li").count() == 10
    assert page.url.endswith(f"/ui/?user={user}")

    profile = api_server.api(f"/users/{user}", recent=10, top_concepts=8)
    recent = page.eval_on_selector_all(
        "#history .recent li button", "els => els.map(e => e.textContent)"
    )
    assert recent == [r["title"] for r in profile["recent"]]
    bars = page.locator("#history .bars li")
    assert bars.count() == len(profile["top_concepts"]) > 0
    widths = page.eval_on_selector_all("#history .bar", "els => els.map(e => e.style.width)")
    top = profile["top_concepts"][0]["count"]
    assert widths == [f"{round(100 * c['count'] / top)}%" for c in profile["top_concepts"]]
    # Each recommendation shows its concepts (GET /items/{id}).
    first = shown_items(page)[0]
    page.wait_for_selector(f"#rec-list li[data-item='{first}'] .chip")
    chips = page.eval_on_selector_all(
        f"#rec-list li[data-item='{first}'] .chip", "els => els.map(e => e.title)"
    )
    concepts = api_server.api(f"/items/{first}")["concepts"]
    assert chips == [f"Only recommend items with {c['id']}" for c in concepts]
    # The active model's metrics and training curve, from its Model node.
    wait_ready(page, "model-panel")
    served = {m["name"]: m for m in api_server.api("/models")["models"]}["lightgcn"]
    assert page.inner_text("#model-panel .model-name").startswith(f"lightgcn v{served['version']}")
    recall = page.inner_text("#model-panel table.metrics tr:first-child td")
    assert recall == f"{served['metrics']['recall@20']:.4f}"
    dots = page.locator("#model-panel svg.curve .series.loss circle").count()
    assert dots == len(served["history"]) > 0
    shot("user")


def test_explanation_paths_are_drawn_as_the_api_answers(
    page: Any, api_server: LiveServer, shot: Callable[[str], Path]
) -> None:
    # The first recommendation (of the first users) whose explanation has a path that wraps
    # (5 hops or more): collaborative paths cover many anchors, so a user's best paths may
    # all be shorter.
    found = None
    for entry in api_server.api("/users", limit=10)["users"]:
        open_user(page, api_server, entry["id"])
        answers = (
            api_server.api(
                f"/users/{entry['id']}/recommendations/{item}/explanation", max_paths=4, max_hops=3
            )
            for item in shown_items(page)
        )
        found = next(
            (
                (position, answer)
                for position, answer in enumerate(answers)
                if any(len(p["nodes"]) > 4 for p in answer["paths"])
            ),
            None,
        )
        if found:
            break
    assert found, "no recommendation of the first 10 users has a knowledge-graph path of 5+ nodes"
    position, answer = found
    why = page.locator("#rec-list .why").nth(position)
    why.click()
    wait_ready(page, "why")
    assert why.get_attribute("aria-pressed") == "true"
    articles = page.locator("#why article.path")
    assert articles.count() == len(answer["paths"])
    for i, path in enumerate(answer["paths"]):
        article = articles.nth(i)
        drawn = article.locator("svg g.node").evaluate_all(
            "els => els.map(e => [e.dataset.id, e.dataset.label])"
        )
        assert drawn == [[n["id"], n["label"]] for n in path["nodes"]]
        types = article.locator("svg g.edge text.type").evaluate_all(
            "els => els.map(e => e.textContent)"
        )
        assert types == [r["type"] for r in path["relationships"]]
        assert article.get_attribute("data-kind") == path["kind"]
        assert article.locator(".sentence").inner_text() == path["sentence"].replace("*", "")
    # Deterministic: the same answer draws the same picture.
    first = page.inner_html("#why .content")
    page.locator("#rec-list .why").nth(position).click()
    wait_ready(page, "why")
    assert page.inner_html("#why .content") == first
    # Rows wrap at four nodes: a longer path takes a second row.
    long = next(i for i, p in enumerate(answer["paths"]) if len(p["nodes"]) > 4)
    rows = (
        articles.nth(long)
        .locator("svg g.node > :is(circle, rect, polygon)")
        .evaluate_all(
            "els => new Set(els.map(e => Math.round(e.getBBox().y + e.getBBox().height / 2))).size",
        )
    )
    assert rows == 2
    shot("explanation")


def test_concept_filter_model_switch_and_diversity(
    page: Any, api_server: LiveServer, shot: Callable[[str], Path]
) -> None:
    user = api_server.api("/users", limit=3)["users"][2]["id"]
    open_user(page, api_server, user)
    unfiltered = shown_items(page)
    concept = api_server.api(f"/users/{user}", top_concepts=1)["top_concepts"][0]["id"]
    filtered = api_items(api_server, user, k=10, concept=concept)
    assert filtered != unfiltered
    page.fill("#concept", concept)
    page.press("#concept", "Enter")
    page.wait_for_function(
        "expected => [...document.querySelectorAll('#rec-list li')].map(e => e.dataset.item)"
        ".join() === expected",
        arg=",".join(filtered),
    )
    wait_ready(page, "recommendations")
    assert concept in page.inner_text("#recommendations .status")
    assert f"concept={concept}" in page.url.replace("%3A", ":").replace("+", " ")

    # The switcher appears because two models are served; the panel follows it.
    assert page.is_visible("#model-control")
    page.select_option("#model", "mf")
    page.wait_for_function(
        "expected => [...document.querySelectorAll('#rec-list li')].map(e => e.dataset.item)"
        ".join() === expected",
        arg=",".join(api_items(api_server, user, k=10, concept=concept, model="mf")),
    )
    assert page.inner_text("#model-panel .model-name").startswith("mf v")

    # Diversity by keyboard: four steps of 0.05 to the right.
    page.fill("#concept", "")
    page.focus("#diversity")
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    assert page.inner_text("#diversity-value") == "0.20"
    expected = api_items(api_server, user, k=10, model="mf", diversity=0.2)
    page.wait_for_function(
        "expected => [...document.querySelectorAll('#rec-list li')].map(e => e.dataset.item)"
        ".join() === expected",
        arg=",".join(expected),
    )
    assert expected != api_items(api_server, user, k=10, model="mf")
    shot("filtered")


def test_similar_items_on_clicking_an_item(page: Any, api_server: LiveServer) -> None:
    user = api_server.api("/users", limit=1)["users"][0]["id"]
    open_user(page, api_server, user)
    item = shown_items(page)[2]
    page.click(f"#rec-list li[data-item='{item}'] .title")
    wait_ready(page, "similar")
    similar = api_server.api(f"/items/{item}/similar", k=8)["items"]
    shown = page.eval_on_selector_all("#similar li", "els => els.map(e => e.dataset.item)")
    assert shown == [s["item_id"] for s in similar]


def test_keyboard_only_and_labelled_controls(
    page: Any, api_server: LiveServer, measured: dict[str, float]
) -> None:
    page.goto(f"{api_server.url}/ui/")
    page.wait_for_selector("#examples .example")
    measured["first_contentful_paint_warm_browser_ms"] = round(
        page.evaluate("performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1"),
        1,
    )
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input, select, button')]
            .filter(e => e.offsetParent !== null || e.closest('dialog'))
            .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                         && !e.textContent.trim())
            .map(e => e.outerHTML)"""
    )
    assert unlabelled == []
    user = api_server.api("/users", limit=1)["users"][0]["id"]
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "user-id"
    page.keyboard.type(user)
    page.keyboard.press("Enter")
    wait_ready(page, "recommendations")
    page.focus("#rec-list li:first-child .title")
    page.keyboard.press("Tab")  # to its concept chips, then "Why?"
    while page.evaluate("document.activeElement.className") != "why":
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    wait_ready(page, "why", ("ready", "empty"))


def test_locked_reads_ask_for_the_key_once_per_tab(
    page: Any, locked_server: LiveServer, console: Any, api_key: str, shot: Callable[[str], Path]
) -> None:
    console.allow(401, 403)
    page.goto(f"{locked_server.url}/ui/")
    page.wait_for_selector("#key-dialog[open]")
    shot("key-prompt")
    page.fill("#api-key", "not-the-key")
    page.press("#api-key", "Enter")
    page.wait_for_selector("#key-dialog[open] #key-reason:has-text('not accepted')")
    assert page.is_visible("#key-dialog")
    page.fill("#api-key", api_key)
    page.click("#key-ok")
    page.wait_for_selector("#examples .example")
    assert not page.is_visible("#key-dialog")
    assert page.evaluate("sessionStorage.getItem('graphrec.apiKey')") == api_key
    assert page.evaluate("localStorage.length") == 0
    user = locked_server.api("/users", key=api_key, limit=1)["users"][0]["id"]
    page.click(f"#examples .example[data-user='{user}']")
    wait_ready(page, "recommendations")
    body = locked_server.api(f"/users/{user}/recommendations", key=api_key, k=10)
    assert shown_items(page) == [item["item_id"] for item in body["items"]]
    # The tab keeps the key: a reload asks nothing.
    page.reload()
    page.wait_for_selector("#examples .example")
    assert not page.is_visible("#key-dialog")
    # A new tab (context) starts without it; cancelling leaves a readable message.
    other = page.context.browser.new_context()
    try:
        tab = other.new_page()
        tab.on("console", lambda m: console.errors.append(m.text) if m.type == "error" else None)
        tab.goto(f"{locked_server.url}/ui/")
        tab.wait_for_selector("#key-dialog[open]")
        tab.click("#key-cancel")
        tab.wait_for_selector("#model-panel[data-state='error']")
        assert "needs a key" in tab.inner_text("#model-panel .status")
    finally:
        other.close()


def test_unknown_user_shows_a_message(
    page: Any, api_server: LiveServer, console: Any, shot: Callable[[str], Path]
) -> None:
    console.allow(404)
    page.goto(f"{api_server.url}/ui/")
    page.fill("#user-id", "nobody-here")
    page.click("#user-form button[type=submit]")
    page.wait_for_selector("#notice:not([hidden])")
    assert "There is no user “nobody-here” in the graph" in page.inner_text("#notice")
    wait_ready(page, "recommendations", ("error",))
    assert "no user “nobody-here”" in page.inner_text("#recommendations .status")
    assert page.locator("#rec-list li").count() == 0
    shot("unknown-user")


def test_empty_explanation_says_why(page: Any, api_server: LiveServer, lonely_user: str) -> None:
    open_user(page, api_server, lonely_user)  # no interactions: the popularity fallback
    assert "most popular" in page.inner_text("#recommendations .status")
    page.locator("#rec-list .why").first.click()
    wait_ready(page, "why", ("empty",))
    assert "No explanation path was found" in page.inner_text("#why .status")
    assert page.locator("#why article.path").count() == 0


def test_graph_down_keeps_recommendations_and_says_so(
    page: Any,
    graph_builder: Callable[..., Any],
    start_server: Callable[..., LiveServer],
    console: Any,
    shot: Callable[[str], Path],
) -> None:
    """A graph that stops answering: history and explanations need it (503, said in words),
    recommendations come from memory and stay."""
    console.allow(503)
    graph_server, target = graph_builder(models=("lightgcn",))
    server = start_server(target)
    user = server.api("/users", limit=1)["users"][0]["id"]
    graph_server.stop()  # the graph is gone from now on
    open_user(page, server, user)
    assert len(shown_items(page)) == 10
    wait_ready(page, "history", ("error",))
    assert "graph database cannot be reached right now (503)" in page.inner_text("#history .status")
    detail = page.locator("#history .status details")  # the API's own words, folded away
    assert detail.count() == 1 and detail.get_attribute("open") is None
    page.locator("#rec-list .why").first.click()
    wait_ready(page, "why", ("error",))
    assert "(503)" in page.inner_text("#why .status")
    shot("graph-down")
