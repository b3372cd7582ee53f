"""The web app's JSON API in-process (an ASGI test client): every endpoint, limits, bad input, escaping.

The answers are compared with the library's own (the ``--json`` objects), so the web layer is
shown to add nothing and lose nothing.
"""

import json
import re
import time

import pytest
from fastapi.testclient import TestClient

from symbackprop.codegen import source
from symbackprop.derivation import derive
from symbackprop.spec import Network
from symbackprop.verifier import verify
from symbackprop.web import create_app
from symbackprop.web.limits import MAX_BODY, MAX_CLASS_LINES
from symbackprop.web.workers import Busy, TaskTimeout

RIGHT = r"\frac{\partial C_0}{\partial w^{(L)}} = a^{(L-1)} \sigma'(z^{(L)}) 2(a^{(L)} - y)"
WRONG = r"\frac{\partial C_0}{\partial w^{(L)}} = a^{(L-1)} \sigma(z^{(L)}) 2(a^{(L)} - y)"
INDEXED = r"\frac{\partial C_0}{\partial w^{(L)}_{jk}} = a^{(L-1)}_k \sigma'(z^{(L)}_j) 2(a^{(L)}_j - y_j)"
UNREADABLE = r"\frac{\partial C_0}{\partial w^{(L)}} = a^{(L-1)} \sigma(z^{(L)} 2"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with TestClient(create_app(workers=2, notes_dir=tmp_path_factory.mktemp("notes"))) as c:
        yield c


def assert_error(response, status):
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) <= {"error", "position"} and isinstance(body["error"], str) and body["error"]
    assert "Traceback" not in body["error"] and "\n" not in body["error"]
    return body


def test_health(client):
    response = client.get("/api/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.parametrize("formula, body", [
    (RIGHT, {}),
    (WRONG, {}),
    (INDEXED, {"sizes": "3,3,2", "activation": "sigmoid", "cost": "quadratic"}),
    (INDEXED, {"sizes": "3,4,2", "activation": "relu,sigmoid", "cost": "cross_entropy"}),
], ids=["right", "wrong", "indexed-332", "indexed-relu-cross-entropy"])
def test_verify_answers_the_verify_json_object(client, formula, body):
    response = client.post("/api/verify", json={"formula": formula, **body})
    assert response.status_code == 200, response.text
    network = Network.parse(body.get("sizes"), body.get("activation"), body.get("cost"))
    assert response.json() == json.loads(json.dumps(verify(formula, network).to_dict()))


def test_verify_typeset_adds_mathml_only(client):
    plain = client.post("/api/verify", json={"formula": WRONG}).json()
    typeset = client.post("/api/verify", json={"formula": WRONG, "typeset": True}).json()
    assert typeset.pop("mathml").keys() == {"parsed", "expected"}
    assert typeset == plain
    assert plain["verdict"] == "not_equivalent" and plain["diagnosis"][0]["code"] == "sigma_for_sigma_prime"


def test_read_is_the_preview(client):
    response = client.post("/api/read", json={"formula": WRONG})
    assert response.status_code == 200
    body = response.json()
    assert body["latex"].startswith(r"\frac{\partial C_{0}}{\partial w^{(L)}}")
    assert "σ(z^(L))" in body["text"] and body["mathml"].startswith("<math")


def test_unreadable_formula_is_a_400_with_its_position(client):
    for path in ("/api/read", "/api/verify"):
        body = assert_error(client.post(path, json={"formula": UNREADABLE}), 400)
        assert "column" in body["error"] and isinstance(body["position"], int)
        assert 0 <= body["position"] <= len(UNREADABLE)


@pytest.mark.parametrize("request_kwargs, status, words", [
    ({"json": {}}, 400, "'formula' is required"),
    ({"json": {"formula": 3}}, 400, "formula"),
    ({"json": ["x"]}, 400, "JSON object"),
    ({"json": {"formula": RIGHT, "size": "3,3,2"}}, 400, "unknown key 'size'"),
    ({"json": {"formula": RIGHT, "sizes": "3,x,2"}}, 400, "not a whole number"),
    ({"json": {"formula": RIGHT, "sizes": "0"}}, 400, "at least"),
    ({"json": {"formula": RIGHT, "activation": "swish"}}, 400, "unknown activation"),
    ({"json": {"formula": RIGHT, "cost": "hinge"}}, 400, "unknown cost"),
    ({"json": {"formula": RIGHT, "sizes": ",".join(["2"] * 70)}}, 400, "at most 64"),
    ({"json": {"formula": "x" * 2001}}, 400, "too long"),
    ({"json": {"formula": ""}}, 400, ""),
    ({"json": {"formula": "<script>alert(1)</script>"}}, 400, ""),
    ({"json": {"formula": r"\text{<img src=x onerror=alert(1)>}"}}, 400, ""),
    ({"json": {"formula": "(" * 500 + "a" + ")" * 500}}, 400, ""),
    ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 400, "not valid JSON"),
    ({"content": b"formula=x", "headers": {"content-type": "application/x-www-form-urlencoded"}}, 400, ""),
    ({"content": b"\xff\xfe", "headers": {"content-type": "application/json"}}, 400, ""),
], ids=["empty-object", "number", "array", "unknown-key", "bad-sizes", "zero-width", "bad-activation",
        "bad-cost", "too-deep", "too-long", "empty-formula", "script", "img", "deep-nesting",
        "bad-json", "form-encoded", "not-utf8"])
def test_bad_requests_are_4xx_with_one_line(client, request_kwargs, status, words):
    for path in ("/api/verify", "/api/read"):
        body = assert_error(client.post(path, **request_kwargs), status)
        assert words in body["error"]


def test_a_meaningless_formula_is_a_400_from_verify(client):
    body = assert_error(client.post("/api/verify", json={"formula": r"\frac{\partial C_0}{\partial w^{(7)}} = 1"}), 400)
    assert "layer" in body["error"]


def test_body_size_is_limited(client):
    big = json.dumps({"formula": "a" * (MAX_BODY + 10)}).encode()
    body = assert_error(client.post("/api/verify", content=big, headers={"content-type": "application/json"}), 413)
    assert "larger than 64 KiB" in body["error"]

    def chunks():  # no Content-Length: the limit is enforced while reading
        yield b'{"formula": "'
        for _ in range(20):
            yield b"a" * 8192
        yield b'"}'
    assert_error(client.post("/api/verify", content=chunks(), headers={"content-type": "application/json"}), 413)


def test_unknown_paths_and_methods_are_json_errors(client):
    assert "no such page" in assert_error(client.get("/api/nothing"), 404)["error"]
    assert "not allowed" in assert_error(client.get("/api/verify"), 405)["error"]


def test_derive_answers_the_derive_json(client):
    response = client.post("/api/derive", json={"sizes": "3,3,2"})
    assert response.status_code == 200
    assert response.json() == json.loads(json.dumps(derive(Network.parse("3,3,2")).to_dict()))
    assert_error(client.post("/api/derive", json={"sizes": "3,3,2", "cost": "cross_entropy", "activation": "relu"}), 400)


def test_codegen_answers_the_generated_module(client):
    response = client.post("/api/codegen", json={"sizes": "3,3,2"})
    assert response.status_code == 200
    body = response.json()
    assert body["source"] == source(Network.parse("3,3,2"))
    assert body["filename"] == "gradients_3_3_2_sigmoid_quadratic.py"
    download = client.get(body["download"])
    assert download.status_code == 200 and download.text == body["source"]
    assert 'filename="gradients_3_3_2_sigmoid_quadratic.py"' in download.headers["content-disposition"]


def test_notes_markdown_and_downloads(client):
    response = client.post("/api/notes", json={"sizes": "3,3,2"})
    assert response.status_code == 200
    body = response.json()
    assert body["stem"] == "notes-3-3-2-sigmoid-quadratic" and body["markdown"].startswith("# Backpropagation")
    md = client.get(body["downloads"]["md"])
    assert md.status_code == 200 and md.text == body["markdown"]
    assert 'filename="notes-3-3-2-sigmoid-quadratic.md"' in md.headers["content-disposition"]
    tex = client.get(body["downloads"]["tex"])
    assert tex.status_code == 200 and r"\documentclass" in tex.text
    assert_error(client.get("/download/notes.exe?sizes=3,3,2"), 400)
    assert_error(client.get("/download/notes.pdf?sizes=-1"), 400)


def test_notes_page_has_math_and_its_figures(client):
    page = client.get("/notes?sizes=3,3,2")
    assert page.status_code == 200 and "<math" in page.text and 'class="tex"' not in page.text
    figures = [part.split('"')[0] for part in page.text.split('src="/notes/figure/')[1:]]
    assert len(figures) >= 3
    for figure in figures:
        svg = client.get("/notes/figure/" + figure)
        assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
        assert svg.text.lstrip().startswith(("<svg", "<?xml"))
    assert_error(client.get("/notes/figure/../../etc/passwd.svg"), 404)
    assert_error(client.get("/notes/figure/0123456789abcdef0123/chain.svg"), 404)


def jsonl(*entries):
    return "".join(json.dumps(e) + "\n" for e in entries)


def test_batch_grades_jsonl_like_verify_batch(client):
    question = r"\frac{\partial C_0}{\partial w^{(L)}}"  # what bob answers: graded as usual
    content = jsonl({"id": "ann", "formula": RIGHT}, {"id": "bob", "formula": WRONG, "question": question}) + "not json\n"
    response = client.post("/api/batch", json={"content": content, "filename": "class.jsonl"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["summary"]["total"] == 3 and body["summary"]["format"] == "jsonl"
    assert [(r["id"], r["line"], r["verdict"]) for r in body["results"]] == [
        ("ann", 1, "equivalent"), ("bob", 2, "not_equivalent"), (None, 3, "error")]
    assert body["results"][1]["question"] == question
    assert body["results"][1]["diagnosis"] == verify(WRONG, Network.parse()).to_dict()["diagnosis"]
    assert body["mistakes"] == {"sigma_for_sigma_prime": 1}
    assert 'data-code="sigma_for_sigma_prime"' in body["chart"] and body["chart"].startswith("<svg")
    assert [json.loads(line)["id"] for line in body["jsonl"].splitlines()] == ["ann", "bob", None]
    assert body["csv"].splitlines()[0].startswith("id,line,question,formula,verdict")


def test_batch_grades_csv_with_the_default_network_and_per_row_networks(client):
    content = ('id,formula,sizes\n'
               f'ann,"{INDEXED}",\n'
               f'bob,"{INDEXED}","3,4,2"\n'
               '<script>alert(1)</script>,x,\n')
    response = client.post("/api/batch", json={"content": content, "format": "csv", "sizes": "3,3,2"})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["network"]["sizes"] for r in results[:2]] == [[3, 3, 2], [3, 4, 2]]
    assert [r["verdict"] for r in results] == ["equivalent", "equivalent", "error"]
    assert results[2]["id"] == "<script>alert(1)</script>" and results[2]["line"] == 4


@pytest.mark.parametrize("body, status, words", [
    ({"content": ""}, 400, "no answers"),
    ({"content": "name,formula\nann,x\n", "format": "csv"}, 400, "unknown column"),
    ({"content": jsonl(*[{"id": i, "formula": "x"} for i in range(MAX_CLASS_LINES + 1)])}, 400, "the limit is 2,000"),
    ({"content": "{}", "format": "xlsx"}, 400, "format"),
    ({"content": "{}", "sizes": "abc"}, 400, "not a whole number"),
], ids=["empty", "bad-csv", "too-many-lines", "bad-format", "bad-network"])
def test_batch_limits_and_bad_files(client, body, status, words):
    assert words in assert_error(client.post("/api/batch", json=body), status)["error"]


def test_batch_body_limit(client):
    content = "x" * (3 * 1024 * 1024 + 10)
    assert_error(client.post("/api/batch", json={"content": content}), 413)


def test_pages_render_and_escape_user_text(client):
    for path in ("/", "/notes", "/codegen", "/grade", "/?sizes=3,3,2&activation=relu,sigmoid&cost=cross_entropy"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html")
        assert "script-src 'self'" in response.headers["content-security-policy"]
    evil = client.get("/", params={"sizes": "<script>alert(1)</script>", "activation": '"><img src=x onerror=alert(1)>'})
    assert evil.status_code == 400
    assert "<script>alert(1)" not in evil.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in evil.text
    assert "<img src=x" not in evil.text


def test_student_page_has_the_derivation_as_mathml(client):
    page = client.get("/?sizes=3,3,2").text
    assert page.count("<math") > 40 and 'class="tex"' not in page
    for section in ("d-chain", "d-indexed", "d-bp", "d-layers", "d-functions"):
        assert f'id="{section}"' in page


def test_openapi_and_offline_docs(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/health", "/api/derive", "/api/read", "/api/verify", "/api/batch", "/api/notes", "/api/codegen"):
        assert path in paths
    docs = client.get("/docs")
    assert docs.status_code == 200 and "cdn" not in docs.text
    bundle = re.search(r'<script src="(/[^"]+swagger-ui-bundle\.js)"', docs.text).group(1)
    assert client.get(bundle).status_code == 200


def test_a_task_past_its_time_limit_is_stopped_and_the_others_go_on(client):
    workers = client.app.state.workers

    async def scenario():
        import asyncio

        slow = asyncio.ensure_future(workers.run(time.sleep, 30, timeout=0.5))
        fast = await workers.run(sum, [1, 2, 3], timeout=30)
        with pytest.raises(TaskTimeout):
            await slow
        return fast, await workers.run(sum, [4, 5], timeout=30)

    assert client.portal.call(scenario) == (6, 9)
    assert client.post("/api/verify", json={"formula": RIGHT}).json()["verdict"] == "equivalent"


def test_a_bug_is_a_json_500_not_a_traceback(client, monkeypatch):
    import symbackprop.web.api as api

    def broken(fields):
        raise RuntimeError("simulated bug")
    monkeypatch.setattr(api, "network_of", broken)
    response = TestClient(client.app, raise_server_exceptions=False).post("/api/derive", json={})
    assert response.status_code == 500
    assert response.json() == {"error": "internal error (RuntimeError: simulated bug); please report it"}


@pytest.mark.parametrize("raised, status, words", [
    (TaskTimeout("this took longer than 20 s and was stopped"), 422, "checking this formula this took longer than 20 s"),
    (Busy("the server is busy (128 requests waiting); try again in a moment"), 503, "busy"),
], ids=["timeout", "busy"])
def test_time_limit_and_busy_answers(client, monkeypatch, raised, status, words):
    async def refuse(fn, *args, timeout):
        raise raised
    monkeypatch.setattr(client.app.state.workers, "run", refuse)
    response = client.post("/api/verify", json={"formula": RIGHT})
    assert words in assert_error(response, status)["error"]
    if status == 503:
        assert response.headers["retry-after"] == "2"


LAMBDA_WEIGHT = r"\frac{\partial C}{\partial w^{(l)}_{jk}} = a^{(l-1)}_k \delta^{(l)}_j + \frac{\lambda}{n} w^{(l)}_{jk}"


@pytest.mark.parametrize("body", [{"l2": 0.1}, {"l1": 0.25}, {"l2": 5, "activation": "sigmoid,softmax",
                                                                 "cost": "log_likelihood"}],
                         ids=["l2", "l1", "nielsen-ch3"])
def test_regularisation_is_part_of_the_network(client, body):
    network = Network.parse("3,4,2", body.get("activation"), body.get("cost"), l2=body.get("l2"), l1=body.get("l1"))
    response = client.post("/api/derive", json={"sizes": "3,4,2", **body})
    assert response.status_code == 200, response.text
    assert response.json() == json.loads(json.dumps(derive(network).to_dict()))
    assert response.json()["network"]["regularisation"] == dict(network.regularisation)


def test_verify_reads_lambda_with_a_regulariser_only(client):
    answer = client.post("/api/verify", json={"formula": LAMBDA_WEIGHT, "sizes": "3,4,2", "l2": 0.1})
    assert answer.status_code == 200 and answer.json()["verdict"] == "equivalent"
    assert answer.json() == json.loads(json.dumps(verify(LAMBDA_WEIGHT, Network.parse("3,4,2", l2=0.1)).to_dict()))
    plain = client.post("/api/verify", json={"formula": INDEXED.replace("C_0", "C"), "sizes": "3,4,2", "l2": 0.1})
    assert plain.json()["verdict"] == "not_equivalent"  # ∂C/∂w without its (λ/n) w
    assert "regularisation" in assert_error(client.post("/api/verify", json={"formula": LAMBDA_WEIGHT, "sizes": "3,4,2"}),
                                            400)["error"]


@pytest.mark.parametrize("strengths, words", [
    ({"l2": -1}, "λ must be a number above 0"),
    ({"l1": 0}, "λ must be a number above 0"),
    ({"l2": "abc"}, "valid number"),
    ({"l2": True}, "valid number"),
    ({"l2": 0.1, "l1": 0.1}, "give one regulariser"),
], ids=["negative", "zero", "text", "bool", "both"])
def test_a_bad_lambda_is_a_400_with_one_line(client, strengths, words):
    for path, body in (("/api/verify", {"formula": RIGHT}), ("/api/derive", {}), ("/api/codegen", {}),
                       ("/api/notes", {}), ("/api/batch", {"content": jsonl({"id": "ann", "formula": RIGHT})})):
        assert words in assert_error(client.post(path, json={**body, **strengths}), 400)["error"], path
    assert "λ must be" in assert_error(client.get("/download/gradients.py?sizes=3,3,2&l2=-1"), 400)["error"]
    assert "λ" in assert_error(client.get("/download/notes.md?l1=abc"), 400)["error"]


def test_codegen_and_notes_of_a_regularised_network_are_its_own(client):
    plain = client.post("/api/codegen", json={"sizes": "3,4,2"}).json()
    decay = client.post("/api/codegen", json={"sizes": "3,4,2", "l2": 0.1}).json()
    assert decay["source"] == source(Network.parse("3,4,2", l2=0.1)) != plain["source"]
    assert decay["filename"] == "gradients_3_4_2_sigmoid_quadratic_l2_0_1.py" != plain["filename"]
    assert decay["download"].endswith("&l2=0.1") and client.get(decay["download"]).text == decay["source"]

    plain = client.post("/api/notes", json={"sizes": "3,4,2"}).json()
    decay = client.post("/api/notes", json={"sizes": "3,4,2", "l2": 0.1}).json()
    lasso = client.post("/api/notes", json={"sizes": "3,4,2", "l1": 0.1}).json()
    assert len({plain["stem"], decay["stem"], lasso["stem"]}) == 3
    assert len({plain["markdown"], decay["markdown"], lasso["markdown"]}) == 3 and "λ" in decay["markdown"]
    assert decay["network"]["regularisation"] == {"l2": 0.1}
    md = client.get(decay["downloads"]["md"])
    assert md.text == decay["markdown"] and f'filename="{decay["stem"]}.md"' in md.headers["content-disposition"]


def test_notes_cache_keys_tell_regularised_networks_apart():
    from symbackprop.web.notes_cache import network_key

    keys = {network_key(Network.parse("3,4,2", **strength)) for strength in ({}, {"l2": 0.1}, {"l2": 0.2}, {"l1": 0.1})}
    assert len(keys) == 4


def test_batch_default_network_carries_its_regulariser(client):
    content = jsonl({"id": "ann", "formula": LAMBDA_WEIGHT})
    response = client.post("/api/batch", json={"content": content, "sizes": "3,4,2", "l2": 0.1})
    assert response.status_code == 200, response.text
    result = response.json()["results"][0]
    assert result["verdict"] == "equivalent" and result["network"]["regularisation"] == {"l2": 0.1}
    unregularised = client.post("/api/batch", json={"content": content, "sizes": "3,4,2"}).json()["results"][0]
    assert unregularised["verdict"] == "error"


def test_openapi_documents_lambda(client):
    fields = client.get("/openapi.json").json()["components"]["schemas"]["NetworkFields"]["properties"]
    for name in ("l2", "l1"):
        assert "λ" in fields[name]["description"] and {"type": "number"} in fields[name]["anyOf"]


def test_pages_keep_the_regulariser_in_their_links_and_summary(client):
    page = client.get("/?sizes=3,4,2&activation=sigmoid&cost=quadratic&l2=0.1")
    assert page.status_code == 200
    assert "Network: 3-4-2, sigmoid, quadratic, L2 λ=0.1" in page.text and 'data-l2="0.1"' in page.text
    assert 'href="/codegen?sizes=3%2C4%2C2&amp;activation=sigmoid&amp;cost=quadratic&amp;l2=0.1"' in page.text
    assert 'id="d-regularisation"' in page.text and 'value="0.1"' in page.text
    assert f'data-formula="{LAMBDA_WEIGHT}"' in page.text  # the λ example under the box
    notes = client.get("/notes?sizes=3,4,2&l1=0.5")
    assert "notes.pdf?sizes=3%2C4%2C2&amp;activation=sigmoid&amp;cost=quadratic&amp;l1=0.5" in notes.text
    assert "L1 λ=0.5" in client.get("/codegen?sizes=3,4,2&l1=0.5").text


def test_the_network_form_names_the_regulariser_and_is_sent_on_to_a_link(client):
    sent = client.get("/codegen?sizes=3,4,2&activation=tanh&cost=quadratic&regulariser=l1&lambda=0.5",
                      follow_redirects=False)
    assert sent.status_code == 303
    assert sent.headers["location"] == "/codegen?sizes=3%2C4%2C2&activation=tanh&cost=quadratic&l1=0.5"
    none = client.get("/?sizes=3,4,2&regulariser=&lambda=7", follow_redirects=False)
    assert none.headers["location"] == "/?sizes=3%2C4%2C2&activation=sigmoid&cost=quadratic"


@pytest.mark.parametrize("query, words", [
    ("regulariser=l2&lambda=", "give λ for L2"),
    ("regulariser=l2&lambda=-1", "λ must be a number above 0"),
    ("regulariser=dropout&lambda=1", "choose the regularisation"),
    ("l1=abc", "give the strength λ as a number"),
    ("l2=0.1&l1=0.1", "give one regulariser"),
], ids=["no-lambda", "negative", "unknown", "text", "both"])
def test_a_bad_regulariser_on_a_page_shows_the_form_with_the_message(client, query, words):
    page = client.get(f"/grade?sizes=3,4,2&{query}", follow_redirects=False)
    assert page.status_code == 400 and words in page.text.replace("&#39;", "'")
