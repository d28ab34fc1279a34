#!/usr/bin/env python3
"""Check Talaria's vLLM dialect (src/engine/remote/vllm.ts) against a REAL `vllm serve`.

Python 3 standard library only (urllib, json): it runs on the GPU machine, which has no Node.js and
no network. It sends the requests Talaria sends, shaped exactly like `vllmCompletionBody`,
`scorePrompt`, `tokenize`/`detokenize`, `describe`, `load` and `healthy` in vllm.ts, and checks that
the answers have the fields and shapes the contract fixture test/fixtures/vllm/contract.json
documents (and that Talaria's unit tests assume). See bench/gpu/README.md, "vLLM dialect check".

    python3 bench/gpu/vllm_contract.py --url http://127.0.0.1:8000 --out vllm-contract.json

Prints one PASS/FAIL line per check (INFO lines are observations, SKIP lines checks that did not
apply) and writes a JSON summary to --out. Exit status: 0 when nothing failed, 1 on any FAIL, 2 when
the server could not be reached at all.

The two prompts below are Talaria's own rendering (`talaria render --parts --profile hermes-3` of a
one-message chat and of a two-tool chat, card style), tokenized part by part as the remote engine
does: special parts that are single marker tokens by id, every other part through /tokenize with
`add_special_tokens: false`, plain parts cut at marker texts (the plain-text guard), concatenated.
No BOS is prepended: Talaria's vLLM dialect learns no BOS text from vLLM, so its prompts have none.
"""
import argparse
import json
import os
import re
import sys
import time
import urllib.error
import urllib.request

# --- what Talaria sends (keep in step with src/engine/remote/*.ts and src/hermes/dialect.ts) ---------

# HERMES_DIALECT.markers
HERMES_MARKERS = ["<|im_start|>", "<|im_end|>", "<tools>", "</tools>", "<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>"]
# DEFAULT_END_OF_GENERATION_TEXTS (engine.ts): resolved ones become stop_token_ids
EOG_TEXTS = ["<|im_end|>", "<|eot_id|>", "<|end_of_text|>", "<|endoftext|>", "</s>", "<|eom_id|>"]
# DEFAULT_SPECIAL_TEXTS (engine.ts)
SPECIAL_TEXTS = ["<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<s>", "<|python_tag|>"]

# `talaria render --parts --profile hermes-3` of [{"role": "user", "content": "Say hello ..."}]
PLAIN_PROMPT = [
    ("special", "<|im_start|>"),
    ("plain", "user\nSay hello to the world in one short sentence."),
    ("special", "<|im_end|>"),
    ("plain", "\n"),
    ("special", "<|im_start|>"),
    ("plain", "assistant\n"),
]

TOOLS = [
    {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "The city name"}}, "required": ["city"], "additionalProperties": False}},
    {"name": "get_time", "parameters": {"type": "object", "properties": {"timezone": {"type": "string", "description": "An IANA time zone"}}, "required": ["timezone"], "additionalProperties": False}},
]

# `talaria render --parts --profile hermes-3` of the user message below with TOOLS (card style)
TOOL_PROMPT = [
    ("special", "<|im_start|>"),
    ("plain", "system\nYou are a function calling AI model. You are provided with function signatures within "),
    ("special", "<tools></tools>"),
    ("plain", " XML tags. You may call one or more functions to assist with the user query. Don't make assumptions about what values to plug into functions. Here are the available tools: "),
    ("special", "<tools>"),
    ("plain", " {\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Get the current weather in a city.\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\", \"description\": \"The city name\"}}, \"required\": [\"city\"], \"additionalProperties\": false}}}\n{\"type\": \"function\", \"function\": {\"name\": \"get_time\", \"description\": \"Get the current time in a time zone.\", \"parameters\": {\"type\": \"object\", \"properties\": {\"timezone\": {\"type\": \"string\", \"description\": \"An IANA time zone\"}}, \"required\": [\"timezone\"], \"additionalProperties\": false}}} "),
    ("special", "</tools>"),
    ("plain", " Use the following pydantic model json schema for each tool call you will make: {\"properties\": {\"arguments\": {\"title\": \"Arguments\", \"type\": \"object\"}, \"name\": {\"title\": \"Name\", \"type\": \"string\"}}, \"required\": [\"arguments\", \"name\"], \"title\": \"FunctionCall\", \"type\": \"object\"} For each function call return a json object with function name and arguments within "),
    ("special", "<tool_call></tool_call>"),
    ("plain", " XML tags as follows:\n"),
    ("special", "<tool_call>"),
    ("plain", "\n{\"arguments\": <args-dict>, \"name\": <function-name>}\n"),
    ("special", "</tool_call><|im_end|>"),
    ("plain", "\n"),
    ("special", "<|im_start|>"),
    ("plain", "user\nWhat is the weather in Oslo right now?"),
    ("special", "<|im_end|>"),
    ("plain", "\n"),
    ("special", "<|im_start|>"),
    ("plain", "assistant\n"),
]

# A small GBNF with what xgrammar must read as llama.cpp does: `[^]` (Talaria's rewrite of `.`) and a
# bounded repetition `{0,8}`; finite, so greedy decoding completes it well within max_tokens.
GRAMMAR = 'root ::= "<<" [^]{0,8} ">> " word ("," " "? word){0,3} "."\nword ::= [a-z]{1,8}\n'
GRAMMAR_RE = re.compile(r'<<[\s\S]{0,8}>> [a-z]{1,8}(?:, ?[a-z]{1,8}){0,3}\.')
# The same with llama.cpp's `.` (what Talaria does NOT send; an observation only)
DOT_GRAMMAR = 'root ::= "<<" . ">>"\n'

# toEngineError (engine.ts): which 4xx texts Talaria reports as context_length_exceeded
CONTEXT_RE = re.compile(r"context|too long|exceeds|max_model_len|maximum context", re.I)
TOKEN_ID_RE = re.compile(r"^token_id:(\d+)$")
TOP_K = 2


def tool_call_structural_tag(tools):
    """toolCallStructuralTag(HERMES_DIALECT.toolCall, tools) in vllm.ts (JSON.stringify: compact)."""
    def begin(name):
        return "<tool_call>" + "\n" + '{"name"' + ": " + json.dumps(name, ensure_ascii=False) + ", " + '"arguments"' + ": "
    tag = {
        "type": "structural_tag",
        "structures": [{"begin": begin(t["name"]), "schema": t.get("parameters") or {"type": "object", "properties": {}, "additionalProperties": False}, "end": "}" + "\n" + "</tool_call>"} for t in tools],
        "triggers": ["<tool_call>"],
    }
    return json.dumps(tag, separators=(",", ":"), ensure_ascii=False)


def completion_body(model, prompt, max_tokens, stop_ids, top_logprobs=TOP_K, sampling=None, structured=None):
    """vllmCompletionBody(model, request) in vllm.ts, field for field and in the same order."""
    s = {"greedy": True, "temperature": 1.0, "top_p": 1.0, "top_k": 0, "min_p": 0.0, "repetition_penalty": 1.0, "frequency_penalty": 0.0, "presence_penalty": 0.0, "seed": None, "logit_bias": {}}
    s.update(sampling or {})
    body = {
        "model": model,
        "prompt": list(prompt),
        "max_tokens": max_tokens,
        "stream": True,
        "stream_options": {"include_usage": True},
        "temperature": 0 if s["greedy"] else s["temperature"],
        "top_p": s["top_p"],
        "top_k": -1 if s["top_k"] == 0 else s["top_k"],
        "min_p": s["min_p"],
        "repetition_penalty": s["repetition_penalty"],
        "frequency_penalty": s["frequency_penalty"],
        "presence_penalty": s["presence_penalty"],
        "skip_special_tokens": False,
        "spaces_between_special_tokens": False,
        "return_token_ids": True,
        "return_tokens_as_token_ids": True,
        "logprobs": top_logprobs,
        "stop_token_ids": list(dict.fromkeys(stop_ids)),
        "include_stop_str_in_output": False,
    }
    if s["seed"] is not None:
        body["seed"] = s["seed"]
    if s["logit_bias"]:
        body["logit_bias"] = {str(k): v for k, v in s["logit_bias"].items()}
    if structured is not None:
        body["structured_outputs"] = structured
    return body


def score_body(model, tokens):
    """scorePrompt in vllm.ts (non-streaming)."""
    return {"model": model, "prompt": list(tokens), "max_tokens": 1, "temperature": 0, "prompt_logprobs": 1, "return_tokens_as_token_ids": True}


def guard_split(text, guarded):
    """PlainTextGuard.split: cut after the first code point of every occurrence of a guarded text."""
    cuts = set()
    for g in guarded:
        if len(g) < 2:
            continue
        start = 0
        while True:
            at = text.find(g, start)
            if at < 0:
                break
            cuts.add(at + 1)
            start = at + 1
    if not cuts:
        return [text]
    out, last = [], 0
    for c in sorted(cuts):
        out.append(text[last:c])
        last = c
    out.append(text[last:])
    return [p for p in out if p != ""]


def prometheus_sum(text, name):
    """prometheusSum in dialect.ts."""
    total = None
    for line in text.split("\n"):
        if not line.startswith(name):
            continue
        rest = line[len(name):]
        if rest[:1] not in (" ", "{"):
            continue
        try:
            value = float(rest[rest.rfind("}") + 1:].strip().split()[0])
        except (ValueError, IndexError):
            continue
        total = (total or 0.0) + value
    return total


# --- HTTP ------------------------------------------------------------------------------------------

class Http:
    def __init__(self, url, api_key, timeout):
        self.base = url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout

    def _request(self, method, path, body, accept, auth=True):
        data = None if body is None else json.dumps(body).encode("utf-8")
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("accept", accept)
        if data is not None:
            req.add_header("content-type", "application/json")
        if auth and self.api_key:
            req.add_header("authorization", "Bearer " + self.api_key)
        return req

    def call(self, method, path, body=None, auth=True):
        """(status, text); never raises for an HTTP status. Raises OSError when nothing answered."""
        req = self._request(method, path, body, "application/json", auth)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:
                return r.status, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", "replace")

    def json(self, method, path, body=None):
        status, text = self.call(method, path, body)
        try:
            return status, json.loads(text) if text.strip() else None, text
        except ValueError:
            return status, None, text

    def stream(self, path, body):
        """POST and read the SSE answer: (status, [event data strings], saw_done, error_text)."""
        req = self._request("POST", path, body, "text/event-stream")
        events, done = [], False
        try:
            r = urllib.request.urlopen(req, timeout=self.timeout)
        except urllib.error.HTTPError as e:
            return e.code, [], False, e.read().decode("utf-8", "replace")
        with r:
            data_lines = []
            for raw in r:
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                if line == "":
                    if data_lines:
                        data = "\n".join(data_lines)
                        data_lines = []
                        if data == "[DONE]":
                            done = True
                            break
                        events.append(data)
                    continue
                if line.startswith(":"):
                    continue
                if line.startswith("data:"):
                    v = line[5:]
                    data_lines.append(v[1:] if v.startswith(" ") else v)
            if data_lines and not done:
                data = "\n".join(data_lines)
                if data == "[DONE]":
                    done = True
                else:
                    events.append(data)
            return r.status, events, done, ""


def error_message(text):
    """statusError in http.ts: {error: {message}} | {error: "..."} | {message} | {detail}."""
    try:
        b = json.loads(text)
    except ValueError:
        return text.strip()[:500] or None
    if not isinstance(b, dict):
        return None
    e = b.get("error")
    if isinstance(e, str):
        return e
    if isinstance(e, dict) and isinstance(e.get("message"), str):
        return e["message"]
    for k in ("message", "detail"):
        if isinstance(b.get(k), str):
            return b[k]
    return None


# --- reporting -------------------------------------------------------------------------------------

class Report:
    def __init__(self):
        self.checks = []
        self.info = {}

    def check(self, name, ok, detail=""):
        status = "PASS" if ok else "FAIL"
        self.checks.append({"name": name, "status": status, "detail": detail})
        print("%s  %s%s" % (status, name, (" — " + detail) if detail else ""), flush=True)
        return ok

    def skip(self, name, why):
        self.checks.append({"name": name, "status": "SKIP", "detail": why})
        print("SKIP  %s — %s" % (name, why), flush=True)

    def note(self, key, value, line=None):
        self.info[key] = value
        print("INFO  %s: %s" % (key, line if line is not None else json.dumps(value, ensure_ascii=False)[:300]), flush=True)

    @property
    def failed(self):
        return sum(1 for c in self.checks if c["status"] == "FAIL")


def short(value, n=160):
    s = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return s if len(s) <= n else s[: n - 1] + "…"


# --- the fixture -----------------------------------------------------------------------------------

def load_fixture(path):
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [path] if path else [
        os.path.join(here, "..", "..", "test", "fixtures", "vllm", "contract.json"),
        os.path.join(here, "contract.json"),
    ]
    for p in candidates:
        if p and os.path.isfile(p):
            with open(p, encoding="utf-8") as f:
                data = json.load(f)
            return os.path.normpath(p), {e["id"]: e for e in data.get("entries", []) if "id" in e}
    return None, None


def documented_keys(fixture):
    """Key sets the fixture documents, per answer; None when there is no fixture."""
    if fixture is None:
        return None
    out = {}
    try:
        out["models"] = set(fixture["models"]["response"]["body"]["data"][0].keys())
        out["tokenize"] = set(fixture["tokenize"]["response"]["body"].keys())
        out["detokenize"] = set(fixture["detokenize"]["response"]["body"].keys())
        out["version"] = set(fixture["version"]["response"]["body"].keys())
        chunks = [json.loads(c[len("data: "):]) for c in fixture["completions_stream"]["chunks"] if "[DONE]" not in c]
        out["stream_choice"] = set(chunks[0]["choices"][0].keys())
        out["stream_logprobs"] = set(chunks[0]["choices"][0]["logprobs"].keys())
        out["usage"] = set(chunks[-1]["usage"].keys())
        pl = fixture["completions_prompt_logprobs"]["response"]["body"]["choices"][0]["prompt_logprobs"]
        out["prompt_logprob_entry"] = set(next(iter(pl[1].values())).keys())
        out["choice"] = set(fixture["completions_prompt_logprobs"]["response"]["body"]["choices"][0].keys())
    except (KeyError, IndexError, TypeError, ValueError, StopIteration):
        pass
    return out


def compare_keys(report, docs, what, actual, needed):
    """FAIL when a key Talaria reads is missing; INFO for other documented keys missing or extra."""
    actual = set(actual)
    missing_needed = sorted(set(needed) - actual)
    report.check("%s: has the fields Talaria reads (%s)" % (what, ", ".join(sorted(needed))), not missing_needed, ("missing " + ", ".join(missing_needed)) if missing_needed else "")
    if docs is None or what not in docs:
        return
    documented = docs[what]
    gone = sorted(documented - actual)
    extra = sorted(actual - documented)
    if gone or extra:
        report.note("fixture keys differ: " + what, {"documented_but_absent": gone, "present_but_undocumented": extra})


# --- stream analysis -------------------------------------------------------------------------------

def analyze_stream(events, k):
    """Parse a /v1/completions stream the way vllm.ts's generate() reads it."""
    a = {"chunks": [], "ids": [], "texts": [], "logprobs": [], "tops": [], "id_source": set(), "problems": [],
         "finish_reason": None, "stop_reason": None, "usage": None, "usage_last": False, "prompt_token_ids": None,
         "errors": [], "finish_on_last_token_chunk": None, "token_ids_vs_logprobs": [], "both_sources": 0}
    parsed = []
    for i, data in enumerate(events):
        try:
            parsed.append(json.loads(data))
        except ValueError:
            a["problems"].append(("json", "event %d is not JSON: %s" % (i, short(data, 80))))
    last_token_chunk = None
    for i, c in enumerate(parsed):
        if not isinstance(c, dict):
            a["problems"].append(("json", "event %d is not an object" % i))
            continue
        if "error" in c:
            a["errors"].append(c["error"])
            continue
        choices = c.get("choices")
        usage = c.get("usage")
        if isinstance(usage, dict):
            a["usage"] = usage
            a["usage_last"] = i == len(parsed) - 1 and choices == []
        if not choices:
            continue
        ch = choices[0]
        lp = ch.get("logprobs") or {}
        from_lp = [TOKEN_ID_RE.match(t) for t in (lp.get("tokens") or [])]
        from_lp_ids = [int(m.group(1)) if m else None for m in from_lp]
        tids = ch.get("token_ids")
        if isinstance(tids, list):
            ids = tids
            a["id_source"].add("token_ids")
            if lp.get("tokens") is not None:
                a["both_sources"] += 1
                if from_lp_ids != tids:
                    a["token_ids_vs_logprobs"].append((tids, lp.get("tokens")))
        else:
            ids = from_lp_ids
            a["id_source"].add("logprobs.tokens")
        if any(x is None or not isinstance(x, int) for x in ids):
            a["problems"].append(("id", "chunk %d has a token without an id: token_ids=%s logprobs.tokens=%s" % (i, short(tids, 60), short(lp.get("tokens"), 60))))
            ids = [x for x in ids if isinstance(x, int)]
        raw_count = max(len(tids) if isinstance(tids, list) else 0, len(from_lp_ids))
        if a["prompt_token_ids"] is None and isinstance(ch.get("prompt_token_ids"), list):
            a["prompt_token_ids"] = ch["prompt_token_ids"]
        text = ch.get("text")
        if not isinstance(text, str):
            a["problems"].append(("text", "chunk %d has no text string" % i))
            text = ""
        tl = lp.get("token_logprobs")
        tops = lp.get("top_logprobs")
        if not lp and raw_count:
            a["problems"].append(("logprobs", "chunk %d: no logprobs object (logprobs was requested)" % i))
        if lp:
            if not isinstance(tl, list) or len(tl) != raw_count:
                a["problems"].append(("logprobs", "chunk %d: %s token_logprobs for %d tokens" % (i, "no" if not isinstance(tl, list) else len(tl), raw_count)))
            if k > 0 and (not isinstance(tops, list) or len(tops) != raw_count):
                a["problems"].append(("logprobs", "chunk %d: top_logprobs missing or of the wrong length" % i))
        a["chunks"].append({"ids": ids, "text": text, "finish_reason": ch.get("finish_reason")})
        for j, tid in enumerate(ids):
            a["ids"].append(tid)
            a["logprobs"].append(tl[j] if isinstance(tl, list) and j < len(tl) else None)
            a["tops"].append(tops[j] if isinstance(tops, list) and j < len(tops) else None)
        a["texts"].append(text)
        if ch.get("finish_reason") is not None:
            a["finish_reason"] = ch.get("finish_reason")
            a["stop_reason"] = ch.get("stop_reason")
        if raw_count or text:
            last_token_chunk = ch
    if last_token_chunk is not None:
        a["finish_on_last_token_chunk"] = last_token_chunk.get("finish_reason") is not None
    a["text"] = "".join(a["texts"])
    a["id_source"] = sorted(a["id_source"])
    return a


def stream_checks(report, ctx, label, status, events, done, err, prompt, stops, k, docs, full=True):
    """The checks every generation stream gets; returns the analysis (or None when it failed early)."""
    if not report.check("%s: 200 and an SSE stream ending in [DONE]" % label, status == 200 and done, "" if status == 200 and done else "status %s%s" % (status, (": " + short(error_message(err) or err)) if err else "; no [DONE]")):
        return None
    a = analyze_stream(events, k)
    json_problems = [m for c, m in a["problems"] if c == "json"]
    report.check("%s: every event is a JSON object, no error event" % label, not json_problems and not a["errors"], "; ".join(json_problems[:1] + [short(e) for e in a["errors"][:1]]))
    if a["errors"]:
        return None
    id_problems = [m for c, m in a["problems"] if c == "id"]
    report.check("%s: every token chunk carries its ids (%s)" % (label, " / ".join(a["id_source"]) or "none"), bool(a["ids"]) and not id_problems, "; ".join(id_problems[:2]) or ("%d tokens" % len(a["ids"])))
    if a["both_sources"] > 0:
        report.check("%s: token_ids agree with logprobs.tokens" % label, not a["token_ids_vs_logprobs"], short(a["token_ids_vs_logprobs"][0]) if a["token_ids_vs_logprobs"] else "%d chunks" % a["both_sources"])
    lp_problems = [m for c, m in a["problems"] if c == "logprobs"]
    report.check("%s: one token_logprob per token%s" % (label, " and top_logprobs per token" if k > 0 else ""), not lp_problems, "; ".join(lp_problems[:2]))
    if k > 0 and full:
        bad = []
        for i, (tid, top) in enumerate(zip(a["ids"], a["tops"])):
            if not isinstance(top, dict) or not (1 <= len(top) <= k + 1) or not all(TOKEN_ID_RE.match(key) for key in top):
                bad.append("token %d: %s" % (i, short(top, 80)))
            elif "token_id:%d" % tid not in top:
                bad.append("token %d: sampled token_id:%d not among %s" % (i, tid, sorted(top)))
        report.check("%s: top_logprobs are 1..%d entries keyed token_id:N, the sampled token included" % (label, k + 1), not bad, "; ".join(bad[:2]))
    if full:
        pti = a["prompt_token_ids"]
        if pti is None:
            report.skip("%s: first chunk's prompt_token_ids equal the prompt" % label, "no prompt_token_ids (vLLM older than v0.10.2 ignores return_token_ids; Talaria then reads ids from logprobs.tokens)")
        else:
            report.check("%s: first chunk's prompt_token_ids equal the prompt" % label, pti == list(prompt), "" if pti == list(prompt) else "got %d ids, sent %d" % (len(pti), len(prompt)))
    u = a["usage"]
    usage_ok = isinstance(u, dict) and a["usage_last"] and u.get("prompt_tokens") == len(prompt) and u.get("completion_tokens") == len(a["ids"])
    report.check("%s: usage chunk last (choices [], prompt_tokens = %d, completion_tokens = ids streamed)" % (label, len(prompt)), usage_ok, "" if usage_ok else "usage=%s last=%s ids=%d" % (short(u), a["usage_last"], len(a["ids"])))
    if docs is not None and isinstance(u, dict) and full:
        compare_keys(report, docs, "usage", u.keys(), ["prompt_tokens", "completion_tokens"])
    fr = a["finish_reason"]
    report.check("%s: finish_reason (stop|length) on the last token chunk" % label, fr in ("stop", "length") and a["finish_on_last_token_chunk"] is True, "finish_reason=%s stop_reason=%s" % (fr, a["stop_reason"]))
    ids_out = a["ids"]
    if fr == "stop" and ids_out:
        last = ids_out[-1]
        stop_text = ctx["id_to_marker"].get(last)
        ok = last in stops and (stop_text is None or not a["text"].endswith(stop_text)) and a["chunks"] and a["chunks"][-1]["ids"][-1:] == [last]
        report.check("%s: ends in a stop_token_id whose text is left out (include_stop_str_in_output false)" % label, bool(ok), "last id %s (%s), stop_reason %s" % (last, stop_text or "?", a["stop_reason"]))
        body_ids = ids_out[:-1] if last in stops else ids_out
    else:
        body_ids = ids_out
    if full and body_ids:
        st, dj, dt = ctx["http"].json("POST", "/detokenize", {"model": ctx["model"], "tokens": body_ids})
        back = dj.get("prompt") if isinstance(dj, dict) else None
        report.check("%s: streamed text = /detokenize(ids before the stop token)" % label, back == a["text"], "" if back == a["text"] else "stream %s vs detokenize %s" % (short(a["text"], 70), short(back, 70)))
    return a


# --- the checks ------------------------------------------------------------------------------------

def run(args):
    report = Report()
    http = Http(args.url, args.api_key, args.timeout)
    fixture_path, fixture = load_fixture(args.fixture)
    docs = documented_keys(fixture)
    if fixture is None:
        report.note("fixture", None, "test/fixtures/vllm/contract.json not found (pass --fixture FILE); checking the fields Talaria reads only")
    else:
        report.note("fixture", fixture_path)
    started = time.time()

    # /health (healthy(): 200)
    try:
        st, text = http.call("GET", "/health", auth=False)
    except OSError as e:
        print("FAIL  %s unreachable: %s" % (args.url, e), flush=True)
        return report, {"unreachable": str(e)}, 2
    report.check("GET /health: 200 (the router's health probe)", st == 200, "status %s, body %s" % (st, short(text, 60)))

    # /version and the kind probe (probeBackendKind)
    st, vj, vt = http.json("GET", "/version")
    version = vj.get("version") if isinstance(vj, dict) else None
    report.check("GET /version: 200 {version: string}", st == 200 and isinstance(version, str), "version %s" % version)
    if isinstance(vj, dict):
        compare_keys(report, docs, "version", vj.keys(), ["version"])
    report.note("vllm_version", version)
    pst, ptext = http.call("GET", "/props")
    probe = not (pst == 200 and "default_generation_settings" in ptext) and st == 200 and re.search(r'"version"\s*:', vt or "") is not None
    report.check("kind probe: /props is not llama-server's and /version names a version (--backend-kind auto → vllm)", probe, "/props %s" % pst)

    # /v1/models (describe())
    st, mj, mt = http.json("GET", "/v1/models")
    data = mj.get("data") if isinstance(mj, dict) else None
    if not report.check("GET /v1/models: 200 with data[]", st == 200 and isinstance(data, list) and len(data) > 0, "status %s %s" % (st, short(error_message(mt) or "", 80))):
        return report, {}, 1
    chosen = data[0] if args.model is None else next((m for m in data if m.get("id") == args.model), None)
    if not report.check("served model %s is listed" % (args.model or "(first)"), chosen is not None, "served: %s" % ", ".join(str(m.get("id")) for m in data)):
        return report, {}, 1
    model = chosen["id"]
    mml = chosen.get("max_model_len")
    compare_keys(report, docs, "models", chosen.keys(), ["id", "max_model_len"])
    report.check("/v1/models: max_model_len is an integer (the context size)", isinstance(mml, int) and mml > 1, "max_model_len %s" % mml)
    report.note("model", {"id": model, "root": chosen.get("root"), "max_model_len": mml, "owned_by": chosen.get("owned_by")})
    if args.api_key:
        s401, t401 = http.call("GET", "/v1/models", auth=False)
        report.note("without the API key GET /v1/models answers", s401)

    # /metrics (load())
    st, mtext = http.call("GET", "/metrics")
    running = prometheus_sum(mtext, "vllm:num_requests_running") if st == 200 else None
    waiting = prometheus_sum(mtext, "vllm:num_requests_waiting") if st == 200 else None
    report.check("GET /metrics: vllm:num_requests_running and _waiting (backend queue for routing)", running is not None and waiting is not None, "status %s running=%s waiting=%s" % (st, running, waiting))

    # /tokenize and /detokenize (tokenize(), detokenize(), resolveMarkers())
    def tokenize(text, add_special=False):
        body = {"model": model, "prompt": text}
        if add_special is not None:
            body["add_special_tokens"] = add_special
        s, j, t = http.json("POST", "/tokenize", body)
        return s, j, t

    s, tj, tt = tokenize("Hello, world!")
    ok = s == 200 and isinstance(tj, dict) and isinstance(tj.get("tokens"), list) and all(isinstance(x, int) for x in tj["tokens"])
    report.check("POST /tokenize {prompt, add_special_tokens: false}: 200 {tokens: int[]}", ok, "status %s %s" % (s, short(tj if ok else (error_message(tt) or tt), 100)))
    if not ok:
        return report, {}, 1
    compare_keys(report, docs, "tokenize", tj.keys(), ["tokens"])
    report.check("/tokenize: count = len(tokens), max_model_len as /v1/models", tj.get("count") == len(tj["tokens"]) and tj.get("max_model_len") in (None, mml), "count %s max_model_len %s" % (tj.get("count"), tj.get("max_model_len")))
    hello = tj["tokens"]
    s2, tj2, _ = tokenize("Hello, world!", add_special=None)
    default_ids = tj2.get("tokens") if isinstance(tj2, dict) else None
    extra = len(default_ids) - len(hello) if isinstance(default_ids, list) else None
    ok = isinstance(default_ids, list) and extra in (0, 1) and default_ids[extra:] == hello
    report.check("/tokenize: add_special_tokens false adds no BOS (the default adds %s)" % ("one" if extra == 1 else "none"), ok, "false: %s, default: %s" % (short(hello, 60), short(default_ids, 60)))
    if extra == 1:
        bos_id = default_ids[0]
        sb, bj, _ = http.json("POST", "/detokenize", {"model": model, "tokens": [bos_id]})
        report.note("bos", {"id": bos_id, "text": bj.get("prompt") if isinstance(bj, dict) else None},
                    "the tokenizer adds BOS %s (%s) by default; Talaria's vLLM dialect learns no BOS text (describe() sets none), so its prompts go without it" % (bos_id, bj.get("prompt") if isinstance(bj, dict) else "?"))

    markers = {}
    for text in list(dict.fromkeys(HERMES_MARKERS + EOG_TEXTS + SPECIAL_TEXTS)):
        s, j, _ = tokenize(text)
        ids = j.get("tokens") if isinstance(j, dict) else None
        if isinstance(ids, list) and len(ids) == 1:
            sb, bj, _ = http.json("POST", "/detokenize", {"model": model, "tokens": ids})
            if isinstance(bj, dict) and bj.get("prompt") == text:
                markers[text] = ids[0]
    report.note("markers", markers, ", ".join("%s=%d" % (k, v) for k, v in markers.items()))
    for need in ("<|im_start|>", "<|im_end|>"):
        report.check("marker %s is one token that detokenizes back (the ChatML turn marker)" % need, need in markers)
    for tool_tag in ("<tool_call>", "</tool_call>"):
        if tool_tag not in markers:
            report.note("marker %s" % tool_tag, None, "%s is not a single token here (fine: the trigger is matched as text)" % tool_tag)
    id_to_marker = {v: k for k, v in markers.items()}
    stops = [markers[t] for t in EOG_TEXTS if t in markers]
    report.note("stop_token_ids", stops)

    s, dj, dt = http.json("POST", "/detokenize", {"model": model, "tokens": hello + ([markers["<|im_end|>"]] if "<|im_end|>" in markers else [])})
    want = "Hello, world!" + ("<|im_end|>" if "<|im_end|>" in markers else "")
    ok = s == 200 and isinstance(dj, dict) and dj.get("prompt") == want
    report.check("POST /detokenize {tokens}: 200 {prompt}, special tokens kept", ok, "got %s" % short(dj if isinstance(dj, dict) else dt, 100))
    if isinstance(dj, dict):
        compare_keys(report, docs, "detokenize", dj.keys(), ["prompt"])

    guarded = [t for t in markers]

    def render(parts):
        out = []
        for kind, text in parts:
            if kind == "special" and text in markers:
                out.append(markers[text])
                continue
            pieces = [text] if kind == "special" else guard_split(text, guarded)
            for p in pieces:
                s, j, t = tokenize(p)
                if s != 200 or not isinstance(j, dict) or not isinstance(j.get("tokens"), list):
                    raise RuntimeError("/tokenize %s failed: %s %s" % (short(p, 40), s, short(t, 80)))
                out.extend(j["tokens"])
        return out

    plain_prompt = render(PLAIN_PROMPT)
    tool_prompt = render(TOOL_PROMPT)
    report.note("prompt_tokens", {"plain": len(plain_prompt), "tools": len(tool_prompt)})
    ctx = {"http": http, "model": model, "id_to_marker": id_to_marker}
    samples = {}

    # 1. A greedy stream, Talaria's body with top-2 logprobs
    body = completion_body(model, plain_prompt, args.max_tokens, stops, TOP_K)
    st, ev, done, err = http.stream("/v1/completions", body)
    a = stream_checks(report, ctx, "stream (greedy, logprobs 2)", st, ev, done, err, plain_prompt, stops, TOP_K, docs)
    if a is not None:
        samples["greedy"] = {"text": a["text"], "ids": a["ids"], "finish_reason": a["finish_reason"], "stop_reason": a["stop_reason"], "id_source": a["id_source"]}
        first = None
        for e in ev:
            try:
                c = json.loads(e)
            except ValueError:
                continue
            if isinstance(c, dict) and c.get("choices"):
                first = c
                break
        if first is not None:
            compare_keys(report, docs, "stream_choice", first["choices"][0].keys(), ["text", "finish_reason"])
            if isinstance(first["choices"][0].get("logprobs"), dict):
                compare_keys(report, docs, "stream_logprobs", first["choices"][0]["logprobs"].keys(), ["tokens", "token_logprobs", "top_logprobs"])

    # 2. The same without top logprobs (Talaria's default: logprobs 0, the sampled token's only)
    st, ev0, done, err = http.stream("/v1/completions", completion_body(model, plain_prompt, args.max_tokens, stops, 0))
    a0 = stream_checks(report, ctx, "stream (greedy, logprobs 0)", st, ev0, done, err, plain_prompt, stops, 0, docs, full=False)
    if a is not None and a0 is not None:
        report.note("greedy streams repeat", a0["ids"] == a["ids"], "logprobs 0 and logprobs 2 gave %s ids" % ("the same" if a0["ids"] == a["ids"] else "different"))

    # 3. Sampling fields Talaria sends when set: temperature, top_k, top_p, min_p, penalties, seed, logit_bias
    if a is not None and a["ids"]:
        banned = a["ids"][0]
        sampling = {"greedy": False, "temperature": 0.8, "top_p": 0.9, "top_k": 40, "min_p": 0.05, "repetition_penalty": 1.1, "frequency_penalty": 0.1, "presence_penalty": 0.1, "seed": 1234, "logit_bias": {banned: -100}}
        sb = completion_body(model, plain_prompt, args.max_tokens, stops, 0, sampling=sampling)
        st, evs, done, err = http.stream("/v1/completions", sb)
        asamp = stream_checks(report, ctx, "stream (sampled: top_k 40, top_p, min_p, penalties, seed, logit_bias)", st, evs, done, err, plain_prompt, stops, 0, docs, full=False)
        if asamp is not None:
            report.check("sampled stream: logit_bias -100 keeps the greedy first token %d out" % banned, banned not in asamp["ids"], short(asamp["text"], 80))
            st, evs2, done2, _ = http.stream("/v1/completions", sb)
            again = analyze_stream(evs2, 0) if st == 200 else None
            report.note("same seed repeats", again is not None and again["ids"] == asamp["ids"], "the same seed gave %s ids" % ("the same" if again is not None and again["ids"] == asamp["ids"] else "different (vLLM: reproducible only without batch effects)"))
            samples["sampled"] = {"text": asamp["text"]}

    # 4. prompt_logprobs (scorePrompt → loglikelihood, `talaria eval --backend`)
    if a is not None and a["ids"]:
        cont = [t for t in a["ids"] if t not in stops][:4]
        tokens = plain_prompt + cont
        s, sj, stext = http.json("POST", "/v1/completions", score_body(model, tokens))
        choice = sj["choices"][0] if isinstance(sj, dict) and sj.get("choices") else None
        pl = choice.get("prompt_logprobs") if isinstance(choice, dict) else None
        ok = s == 200 and isinstance(pl, list) and len(pl) == len(tokens)
        if report.check("prompt_logprobs 1 (non-streaming): a list, one entry per prompt token", ok, "status %s, %s entries for %d tokens %s" % (s, len(pl) if isinstance(pl, list) else None, len(tokens), "" if s == 200 else short(error_message(stext) or stext, 80))):
            compare_keys(report, docs, "choice", choice.keys(), ["prompt_logprobs"])
            report.check("prompt_logprobs[0] is null", pl[0] is None, short(pl[0], 60))
            bad, entry_keys = [], set()
            for i in range(1, len(tokens)):
                e = pl[i]
                if not isinstance(e, dict) or not (1 <= len(e) <= 2):
                    bad.append("position %d: %s" % (i, short(e, 80)))
                    continue
                v = e.get(str(tokens[i]))
                if not isinstance(v, dict) or not isinstance(v.get("logprob"), (int, float)) or not isinstance(v.get("rank"), int) or v["rank"] < 1 or v["logprob"] > 1e-6:
                    bad.append("position %d: no {logprob, rank} under key %s: %s" % (i, tokens[i], short(e, 80)))
                    continue
                entry_keys |= set(v.keys())
            report.check("prompt_logprobs[i]: keyed by the token id as a plain string, {logprob <= 0, rank >= 1}, 1..2 entries", not bad, "; ".join(bad[:2]))
            if entry_keys:
                compare_keys(report, docs, "prompt_logprob_entry", entry_keys, ["logprob", "rank"])
            if not bad:
                ranks = [pl[len(plain_prompt) + j][str(t)]["rank"] for j, t in enumerate(cont)]
                report.check("the greedy continuation scores rank 1 (loglikelihood's is_greedy)", all(r == 1 for r in ranks), "ranks %s" % ranks)
                gen = [x for x in a["logprobs"][: len(cont)]]
                got = [pl[len(plain_prompt) + j][str(t)]["logprob"] for j, t in enumerate(cont)]
                diffs = [abs(x - y) for x, y in zip(gen, got) if isinstance(x, (int, float))]
                report.check("prompt_logprobs agree with the stream's token_logprobs (|Δ| <= %.2f)" % args.logprob_tolerance, bool(diffs) and max(diffs) <= args.logprob_tolerance, "max |Δ| %.4f over %d tokens" % (max(diffs) if diffs else float("nan"), len(diffs)))

    # 5. An eager grammar (structured_outputs.grammar, GBNF read by xgrammar)
    st, evg, done, err = http.stream("/v1/completions", completion_body(model, plain_prompt, 64, stops, 0, structured={"grammar": GRAMMAR}))
    ag = stream_checks(report, ctx, "grammar stream", st, evg, done, err, plain_prompt, stops, 0, docs, full=False)
    if ag is not None:
        m = GRAMMAR_RE.fullmatch(ag["text"])
        report.check("grammar output matches the grammar ([^]{0,8}, {1,8}, {0,3}) and finishes with stop", m is not None and ag["finish_reason"] == "stop", "text %s, finish_reason %s" % (short(ag["text"], 80), ag["finish_reason"]))
        samples["grammar"] = {"text": ag["text"], "finish_reason": ag["finish_reason"]}
    st, evd, done, err = http.stream("/v1/completions", completion_body(model, plain_prompt, 16, stops, 0, structured={"grammar": DOT_GRAMMAR}))
    dot = analyze_stream(evd, 0) if st == 200 else None
    report.note("grammar with llama.cpp's `.` (Talaria rewrites it to [^])", {"status": st, "text": dot["text"] if dot else None, "error": short(error_message(err) or err or "", 160) if st != 200 else None},
                "status %s%s" % (st, (", text " + short(dot["text"], 60)) if dot else (": " + short(error_message(err) or err or "", 120))))

    # 6. A lazy tool-call constraint (structured_outputs.structural_tag, Talaria's toolCallStructuralTag)
    tag = tool_call_structural_tag(TOOLS)
    st, evt, done, err = http.stream("/v1/completions", completion_body(model, tool_prompt, args.tool_max_tokens, stops, 0, structured={"structural_tag": tag}))
    at = stream_checks(report, ctx, "structural-tag stream", st, evt, done, err, tool_prompt, stops, 0, docs, full=False)
    if at is not None:
        text = at["text"]
        samples["structural_tag"] = {"text": text, "finish_reason": at["finish_reason"], "ids": at["ids"]}
        calls, problems, pos = 0, [], 0
        while True:
            i = text.find("<tool_call>", pos)
            if i < 0:
                break
            rest = text[i:]
            tool = next((t for t in TOOLS if rest.startswith("<tool_call>\n{\"name\": %s, \"arguments\": " % json.dumps(t["name"]))), None)
            if tool is None:
                problems.append("after the trigger: %s" % short(rest, 80))
                break
            head = len("<tool_call>\n{\"name\": %s, \"arguments\": " % json.dumps(tool["name"]))
            try:
                args_value, end = json.JSONDecoder().raw_decode(rest, head)
            except ValueError as e:
                problems.append("arguments are not JSON (%s): %s" % (e, short(rest[head:], 60)))
                break
            p = tool["parameters"]
            if not isinstance(args_value, dict) or any(k not in args_value for k in p.get("required", [])) or any(k not in p["properties"] for k in args_value) or any(not isinstance(v, str) for v in args_value.values()):
                problems.append("arguments %s do not match the %s schema" % (short(args_value, 60), tool["name"]))
            if not rest.startswith("}\n</tool_call>", end):
                problems.append("no end `}\\n</tool_call>` after the arguments: %s" % short(rest[end:], 40))
                break
            calls += 1
            pos = i + end + len("}\n</tool_call>")
        if calls == 0 and not problems:
            report.skip("structural tag: a valid declared call after the trigger", "the model wrote no <tool_call> (text %s)" % short(text, 80))
        else:
            report.check("structural tag: each <tool_call> is a declared tool's call, arguments valid, closed", not problems and calls > 0, "%d call(s)%s" % (calls, ("; " + "; ".join(problems[:2])) if problems else ""))
        if "<tool_call>" in markers and calls > 0 and at["ids"]:
            report.note("trigger token", markers["<tool_call>"] in at["ids"],
                        "<tool_call> came as the single token %d" % markers["<tool_call>"] if markers["<tool_call>"] in at["ids"] else "<tool_call> was spelled in several tokens (the single special token was not sampled under the tag)")

    # 7. Errors Talaria maps (toEngineError, statusError)
    over = max(1, mml - len(plain_prompt) + 1)
    st, _, _, err = http.stream("/v1/completions", completion_body(model, plain_prompt, over, stops, 0))
    msg = error_message(err) or ""
    report.check("prompt + max_tokens over max_model_len: 400 whose message Talaria reads as context_length_exceeded", st == 400 and CONTEXT_RE.search(msg) is not None, "status %s: %s" % (st, short(msg, 120)))
    st, _, _, err = http.stream("/v1/completions", completion_body("talaria-contract-no-such-model", plain_prompt, 4, stops, 0))
    report.check("unknown model: 404 with an error message (Talaria: invalid_request)", st == 404 and bool(error_message(err)), "status %s: %s" % (st, short(error_message(err) or err, 100)))

    info = {"elapsed_s": round(time.time() - started, 1), "samples": samples}
    return report, info, 1 if report.failed else 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", default="http://127.0.0.1:8000", help="vLLM base URL (default %(default)s)")
    p.add_argument("--model", default=None, help="served model name (default: the first of /v1/models)")
    p.add_argument("--api-key", default=os.environ.get("VLLM_API_KEY") or os.environ.get("TALARIA_BACKEND_API_KEY"), help="Bearer key (default $VLLM_API_KEY, else $TALARIA_BACKEND_API_KEY)")
    p.add_argument("--fixture", default=None, help="the contract fixture (default: test/fixtures/vllm/contract.json next to this checkout, or contract.json beside this script)")
    p.add_argument("--out", default=None, help="write the JSON summary here")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds per HTTP read (default %(default)s: the first grammar compiles)")
    p.add_argument("--max-tokens", type=int, default=48, help="tokens of the plain generations (default %(default)s)")
    p.add_argument("--tool-max-tokens", type=int, default=160, help="tokens of the structural-tag generation (default %(default)s)")
    p.add_argument("--logprob-tolerance", type=float, default=0.05, help="largest |prompt_logprob - stream logprob| accepted (default %(default)s)")
    args = p.parse_args()
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    try:
        report, info, code = run(args)
    except Exception as e:  # a crash is a failure of the run, reported like one
        report, info, code = Report(), {}, 1
        report.check("the run completed", False, "%s: %s" % (type(e).__name__, e))
    passed = sum(1 for c in report.checks if c["status"] == "PASS")
    summary = {
        "tool": "bench/gpu/vllm_contract.py",
        "url": args.url,
        "started": started,
        "passed": passed,
        "failed": report.failed,
        "skipped": sum(1 for c in report.checks if c["status"] == "SKIP"),
        "checks": report.checks,
        "info": report.info,
    }
    summary.update(info)
    print("== %d passed, %d failed, %d skipped" % (passed, report.failed, summary["skipped"]), flush=True)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(summary, f, indent=2, ensure_ascii=False)
            f.write("\n")
    return code


if __name__ == "__main__":
    sys.exit(main())
