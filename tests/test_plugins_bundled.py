"""The bundled plugins: the LD_DEBUG-style tracer, the JSON-lines and Chrome trace exporters,
and the example scripted session (the doctor is tested in test_commands_why.py)."""

from __future__ import annotations

import json

from sessionkit import Captured, sample


def test_trace_prints_the_chosen_categories():
    c = Captured(sample("clang16", "reloc", "libreloc.so"))
    c.ok("trace got,reloc")
    c.ok("dlopen libreloc.so")
    lines = c.err.getvalue().splitlines()
    assert lines and {line.split(":")[0] for line in lines} == {"dldbg[got]", "dldbg[reloc]"}
    assert sum(1 for e in c.session.log.entries if e.event.category in ("got", "reloc")) == len(lines)
    c.ok("trace off")
    c.ok("dlopen libreloc_dep.so")
    assert c.err.getvalue().splitlines() == lines
    assert "unknown trace categories: nope" in c.fails("trace nope").error


def test_export_jsonl_matches_the_log(tmp_path):
    c = Captured(sample("clang16", "reloc", "libreloc.so"))
    c.ok("dlopen libreloc.so")
    c.ok(f"export jsonl {tmp_path}/all.jsonl")
    rows = [json.loads(line) for line in (tmp_path / "all.jsonl").read_text().splitlines()]
    assert rows == [e.to_json() for e in c.session.log.entries]
    c.ok(f"export jsonl {tmp_path}/got.jsonl got module=libreloc.so")
    kinds = {json.loads(line)["kind"] for line in (tmp_path / "got.jsonl").read_text().splitlines()}
    assert kinds == {"got.create"}


def test_export_chrome_trace_is_well_formed(tmp_path):
    """Trace Event Format: complete events (ph X) with ts/dur in microseconds, instants (ph i),
    thread names; each module's stage spans lie inside its load span, on its own track."""
    c = Captured(sample("clang16", "chain", "libchain_a.so"))
    c.ok("dlopen libchain_a.so")
    c.fails("dlopen libnot_here.so")
    c.ok(f"export chrome {tmp_path}/trace.json")
    doc = json.loads((tmp_path / "trace.json").read_text())
    events = doc["traceEvents"]
    assert all({"name", "ph", "pid", "tid"} <= set(e) for e in events)
    names = {e["tid"]: e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    assert set(names.values()) == {"libchain_a.so", "libchain_b.so", "libchain_c.so", "libnot_here.so"}
    instants = [e for e in events if e["ph"] == "i"]
    assert len(instants) == len(c.session.log)
    assert [e["args"]["index"] for e in instants] == list(range(len(c.session.log)))
    spans = [e for e in events if e["ph"] == "X"]
    assert all(e["dur"] >= 0 and e["ts"] >= 0 for e in spans)
    loads = {names[e["tid"]]: e for e in spans if e["cat"] == "load"}
    assert loads["libnot_here.so"]["args"]["result"] == "fail"
    assert loads["libchain_a.so"]["args"]["result"] == "done"
    for stage in (e for e in spans if e["cat"] == "stage"):
        load = loads[names[stage["tid"]]]
        assert load["ts"] <= stage["ts"] and stage["ts"] + stage["dur"] <= load["ts"] + load["dur"] + 0.002
    a_stages = [e["name"] for e in sorted(spans, key=lambda e: e["ts"]) if e["cat"] == "stage" and names[e["tid"]] == "libchain_a.so"]
    assert a_stages[:2] == ["read", "needed"] and "ctors" in a_stages


def test_audit_example_session():
    c = Captured(sample("clang16", "nested_dlopen", "libneeds_helper.so"))
    failed = c.ok("audit libneeds_helper.so")
    assert failed.data["ok"] is False
    assert failed.data["why"]["symbols"][0]["symbol"] == "helper_data"
    c.ok("dlopen libhelper.so")
    audit = c.ok("audit libneeds_helper.so")
    assert audit.data["ok"] is True and audit.data["unresolved"] == []
    symbols = {e["symbol"] for e in audit.data["got_events"]}
    assert {"greeting_len", "greeting"} <= symbols
    assert len(c.session.breakpoints) == 0
