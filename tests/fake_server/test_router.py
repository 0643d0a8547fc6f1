"""Routing is pure: first matching exchange with uses left, order findings, unmet minimums."""

from __future__ import annotations

from fake_server.router import RequestHead, Router
from fake_server.script import script_from_mapping
from fake_server.transcript import Finding


def head(method="POST", path="/v1/responses", *, websocket=False):
    return RequestHead(method=method, path=path, query={}, headers={}, websocket=websocket)


def test_sequence_of_same_route_is_served_in_order():
    script = script_from_mapping({"exchanges": [
        {"name": "first", "http": {"method": "POST", "path": "/v1/responses"}, "respond": {"status": 500}},
        {"name": "second", "http": {"method": "POST", "path": "/v1/responses"}, "respond": {"status": 200}},
    ]})
    router = Router(script)
    assert router.route(head())[0].name == "first"
    assert router.route(head())[0].name == "second"
    assert router.route(head())[0] is None  # both used up: the server answers 404
    assert router.unmet() == []


def test_websocket_and_http_routes_are_distinct_and_times_are_counted():
    script = script_from_mapping({"exchanges": [
        {"websocket": {"path": "/v1/responses"}, "times": {"min": 1, "max": 2}},
        {"http": {"path": {"$regex": ".*/responses"}}, "times": 1, "respond": {}},
    ]})
    router = Router(script)
    assert router.route(head("GET", websocket=True))[0].kind == "websocket"
    assert router.route(head())[0].kind == "http"
    assert router.route(head("GET", websocket=True))[0].kind == "websocket"
    assert router.route(head("GET", websocket=True))[0] is None


def test_out_of_order_and_unmet_are_findings_in_the_late_exchanges_layer():
    script = script_from_mapping({"exchanges": [
        {"name": "a", "http": {"path": "/a"}, "respond": {}, "layer": "codex"},
        {"name": "b", "http": {"path": "/b"}, "respond": {}},
    ]}, layer="protocol")
    router = Router(script)
    ex, findings = router.route(head(path="/b"))
    assert ex.name == "b"
    assert len(findings) == 1 and "arrived before server.exchanges[0] 'a'" in findings[0].message
    assert findings[0].layer == "codex"
    assert router.unmet() == [Finding("server.exchanges[0] 'a' (http * /a): expected exactly 1 request(s), got 0", "codex")]


def test_layers_default_from_the_script_to_exchanges_blocks_and_steps():
    script = script_from_mapping({"exchanges": [
        {"http": {"path": "/a"}, "expect": {"headers": {"x": "1"}, "layer": "codex"}, "respond": {}},
        {"websocket": {"path": "/b"}, "layer": "codex", "script": [{"expect": {"type": "a"}}, {"expect": {"type": "b"}, "layer": "protocol"}]},
    ]}, layer="protocol")
    http, ws = script.exchanges
    assert (http.layer, http.expect_layer, http.expect) == ("protocol", "codex", {"headers": {"x": "1"}})
    assert (ws.layer, [s.layer for s in ws.script]) == ("codex", ["codex", "protocol"])


def test_unordered_scripts_do_not_report_order():
    script = script_from_mapping({"ordered": False, "exchanges": [
        {"http": {"path": "/a"}, "respond": {}},
        {"http": {"path": "/b"}, "respond": {}},
    ]})
    assert Router(script).route(head(path="/b"))[1] == []
