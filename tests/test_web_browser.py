"""The web app in a real headless Chromium (Debian's, driven by Playwright), as students and teachers use it.

Set SYMBACKPROP_SCREENSHOTS=1 to write the screenshots the README shows into docs/screenshots/.
"""

import os
import re
from pathlib import Path

import pytest

from conftest import ROOT
from symbackprop.web.pages import PRESETS
from test_web_server import start_server

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LAPTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
SHOTS = ROOT / "docs" / "screenshots" if os.environ.get("SYMBACKPROP_SCREENSHOTS") else None

RIGHT = r"\frac{\partial C_0}{\partial w^{(L)}} = a^{(L-1)} \sigma'(z^{(L)}) 2(a^{(L)} - y)"
WRONG = r"\frac{\partial C_0}{\partial w^{(L)}} = a^{(L-1)} \sigma(z^{(L)}) 2(a^{(L)} - y)"
UNREADABLE = r"\frac{\partial C_0}{\partial w^{(L)}} = a^{(L-1)} \sigma(z^{(L)} 2"
INDEXED = r"\frac{\partial C_0}{\partial w^{(L)}_{jk}} = a^{(L-1)}_k \sigma'(z^{(L)}_j) 2(a^{(L)}_j - y_j)"


@pytest.fixture(scope="module")
def base():
    process, url = start_server("--workers", "2")
    yield url
    process.terminate()
    process.communicate(timeout=60)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (bash run.sh test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=LAPTOP, accept_downloads=True)
    page = context.new_page()
    page.dialogs, page.requested = [], []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.on("request", lambda request: page.requested.append(request.url))
    page.set_default_timeout(60_000)
    yield page
    context.close()


if SHOTS is not None:
    SHOTS.mkdir(parents=True, exist_ok=True)


def shot(page, name, full_page=False):
    if SHOTS is not None:
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def focused_id(page):
    return page.evaluate("document.activeElement && document.activeElement.id")


def only_local_requests(page, base):
    """Nothing on the page asked another server for anything (math, scripts, fonts, docs)."""
    return [url for url in page.requested if not url.startswith((base + "/", "data:", "blob:"))] == []


def no_horizontal_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_right_formula_preview_then_enter_gives_the_verdict(page, base):
    page.goto(base + "/")
    assert focused_id(page) == "formula"  # the box has the focus from the start
    page.keyboard.type(RIGHT)
    page.wait_for_selector("#preview:not([hidden]) .preview-math math")
    assert "σ'(z^(L))" in page.inner_text(".preview-text")
    page.keyboard.press("Enter")
    verdict = page.wait_for_selector(".verdict")
    assert "Equivalent" in verdict.inner_text() and "good" in verdict.get_attribute("class")
    assert focused_id(page) == "formula"
    assert page.input_value("#formula") == RIGHT  # Enter checked, it did not add a line
    assert only_local_requests(page, base)


def test_wrong_formula_gives_hint_first_and_the_answer_on_request(page, base):
    page.goto(base + "/")
    page.fill("#formula", WRONG)
    page.click("#check")
    page.wait_for_selector(".verdict.bad")
    assert focused_id(page) == "formula"  # the student goes on typing
    assert "sigma_for_sigma_prime" in page.inner_text("ul.diagnosis")
    assert "σ'(z^(L)) is due" in page.inner_text("ul.diagnosis")
    rows = page.locator("table.values tbody tr")
    assert rows.count() >= 3 and "your right-hand side" in page.inner_text("table.values")
    assert not page.is_visible(".answer")
    page.click("button.reveal")
    assert page.is_visible(".answer math")
    if SHOTS is not None:
        page.locator(".checker").screenshot(path=str(SHOTS / "student.png"))
    assert page.inner_text("button.reveal") == "Hide the answer"
    assert no_horizontal_scroll(page)


def test_parse_error_marks_the_position(page, base):
    page.goto(base + "/")
    page.fill("#formula", UNREADABLE)
    page.wait_for_selector(".preview.bad code.marked mark")
    assert "column" in page.inner_text(".preview .error")
    page.keyboard.press("Enter")
    page.wait_for_selector("#result code.marked mark")


@pytest.mark.parametrize("formula", ["<script>alert(1)</script>", r"\text{<img src=x onerror=alert(1)>}",
                                     '"><img src=x onerror=alert(1)>'], ids=["script", "text-img", "attribute"])
def test_html_in_a_formula_shows_as_text(page, base, formula):
    page.goto(base + "/")
    page.fill("#formula", formula)
    page.keyboard.press("Enter")
    page.wait_for_selector("#result .error")
    page.wait_for_selector("#preview:not([hidden])")
    assert page.locator("main img, main script").count() == 0
    assert page.dialogs == []


def test_switching_networks_with_a_preset_and_by_hand(page, base):
    page.goto(base + "/")
    with page.expect_navigation():
        page.select_option("#preset", label="Lectures: 3-3-2")
    assert "sizes=3%2C3%2C2" in page.url
    assert "3-3-2, sigmoid, quadratic" in page.inner_text(".network-name")
    assert page.locator(".derivation math").count() > 40
    page.locator("#d-bp").scroll_into_view_if_needed()
    page.evaluate("document.getElementById('d-bp').scrollIntoView()")
    shot(page, "derivation")
    page.click("button.example >> nth=0")
    assert page.input_value("#formula") == INDEXED and focused_id(page) == "formula"
    page.keyboard.press("Enter")
    assert "Equivalent" in page.wait_for_selector(".verdict").inner_text()

    page.fill("input[name=sizes]", "4,4,2")
    page.fill("input[name=activation]", "relu,sigmoid")
    page.select_option("select[name=cost]", "cross_entropy")
    with page.expect_navigation():
        page.click("text=Use this network")
    assert "4-4-2, relu,sigmoid, cross_entropy" in page.inner_text(".network-name")
    page.fill("input[name=sizes]", "4,x")
    with page.expect_navigation():
        page.click("text=Use this network")
    assert "not a whole number" in page.inner_text("[role=alert]")


def test_choosing_l2_and_lambda_puts_it_in_the_url_and_the_checker_reads_lambda(page, base):
    page.goto(base + "/?sizes=3,4,2")
    assert page.is_disabled("#lambda")  # no regulariser, no λ
    page.select_option("#regulariser", "l2")
    assert page.is_enabled("#lambda") and focused_id(page) == "lambda"
    page.keyboard.type("0.1")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "l2=0.1" in page.url and "regulariser" not in page.url  # the page's link names the network
    assert "3-4-2, sigmoid, quadratic, L2 λ=0.1" in page.inner_text("#network-box summary")
    assert "l2=0.1" in page.get_attribute("header nav a[href^='/notes']", "href")
    page.click("button.example >> text=a weight with L2")
    page.keyboard.press("Enter")
    assert "Equivalent" in page.wait_for_selector(".verdict").inner_text()
    assert page.locator("#d-regularisation").count() == 1

    with page.expect_navigation():
        page.select_option("#preset", label=next(p[0] for p in PRESETS if p[0].startswith("Nielsen ch. 3")))
    assert "784-30-10, sigmoid,softmax, log_likelihood, L2 λ=5" in page.inner_text("#network-box summary")
    assert page.input_value("#lambda") == "5" and page.input_value("#regulariser") == "l2"
    with page.expect_navigation():
        page.select_option("#regulariser", "")
        page.click("text=Use this network")
    assert "L2" not in page.inner_text("#network-box summary") and "l2=" not in page.url


def test_phone_width_has_no_sideways_scrolling(browser, base):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(base + "/")
    page.fill("#formula", WRONG)
    page.keyboard.press("Enter")
    page.wait_for_selector(".verdict.bad")
    assert no_horizontal_scroll(page)
    shot(page, "student-phone")
    for path in ("/?sizes=3,3,2", "/notes?sizes=3,3,2", "/codegen?sizes=3,3,2", "/grade",
                 "/?sizes=784,30,10&activation=sigmoid,softmax&cost=log_likelihood&l2=5", "/codegen?sizes=3,4,2&l2=0.1"):
        page.goto(base + path)
        page.evaluate("document.getElementById('network-box').open = true")  # the form too
        assert no_horizontal_scroll(page), path
    context.close()


def test_notes_page_and_pdf_download(page, base, tmp_path):
    page.goto(base + "/notes?sizes=3,3,2")
    assert page.locator("article.notes math").count() > 50
    page.wait_for_function("[...document.querySelectorAll('article.notes img')].every(i => i.complete && i.naturalWidth > 0)")
    assert page.locator("article.notes img").count() >= 3
    shot(page, "notes")
    with page.expect_download() as info:
        page.click("#download-pdf")
    pdf = tmp_path / info.value.suggested_filename
    info.value.save_as(pdf)
    assert pdf.name == "notes-3-3-2-sigmoid-quadratic.pdf" and pdf.read_bytes().startswith(b"%PDF-")
    with page.expect_download() as info:
        page.click("#download-md")
    md = tmp_path / info.value.suggested_filename
    info.value.save_as(md)
    assert md.read_text(encoding="utf-8").startswith("# Backpropagation")


def test_code_page_highlights_and_downloads_the_module(page, base, tmp_path):
    page.goto(base + "/codegen?sizes=3,3,2")
    assert page.locator(".highlight .k").count() > 10  # keywords highlighted by Pygments
    shot(page, "codegen")
    with page.expect_download() as info:
        page.click("#download-module")
    module = tmp_path / info.value.suggested_filename
    info.value.save_as(module)
    text = module.read_text(encoding="utf-8")
    assert module.name == "gradients_3_3_2_sigmoid_quadratic.py"
    compile(text, module.name, "exec")
    assert "def gradients(params, X, Y" in text  # (and n=None, the training-set size)


def test_teacher_uploads_a_class_and_sees_the_chart(page, base, tmp_path):
    weight, bias = r"\frac{\partial C_0}{\partial w^{(L)}}", r"\frac{\partial C_0}{\partial b^{(L)}}"  # the questions
    rows = ["id,question,formula",
            f'ann,{weight},"{RIGHT}"',
            f'bob,{weight},"{WRONG}"',
            f'cat,{weight},"{WRONG}"',
            f'dan,{bias},"{bias} = 2(a^{{(L)}} - y)"',
            f'<b>eve</b>,{weight},"{UNREADABLE}"']
    upload = tmp_path / "class.csv"
    upload.write_text("\n".join(rows) + "\n", encoding="utf-8")
    page.goto(base + "/grade")
    assert "2,000 answers" in page.inner_text("#limits")
    page.set_input_files("#class-file", str(upload))
    page.click("#grade-button")
    page.wait_for_selector("#chart svg .bar")
    bars = {bar.get_attribute("data-code") for bar in page.query_selector_all("#chart svg .bar")}
    assert bars == {"sigma_for_sigma_prime", "missing_factor"}
    assert page.locator("#grade-table tbody tr").count() == 5
    assert page.inner_text("#grade-table tbody tr:last-child td:first-child") == "<b>eve</b>"
    assert "5 answers: 1 equivalent, 3 not equivalent, 1 error " in page.inner_text("#grade-summary")
    assert UNREADABLE in page.inner_text("#grade-table tbody tr:last-child td.formula")
    assert no_horizontal_scroll(page)
    shot(page, "grade", full_page=True)
    with page.expect_download() as info:
        page.click("#download-csv")
    csv_file = tmp_path / "results.csv"
    info.value.save_as(csv_file)
    lines = csv_file.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("id,line,question") and len(lines) == 6
    with page.expect_download() as info:
        page.click("#download-jsonl")
    jsonl = tmp_path / "results.jsonl"
    info.value.save_as(jsonl)
    assert len(jsonl.read_text(encoding="utf-8").splitlines()) == 5


def test_too_big_a_file_is_refused_with_the_limit(page, base, tmp_path):
    upload = tmp_path / "huge.jsonl"
    upload.write_text('{"id": 1, "formula": "x"}\n' * 50_000, encoding="utf-8")
    page.goto(base + "/grade")
    page.set_input_files("#class-file", str(upload))
    page.click("#grade-button")
    message = page.wait_for_selector("#grade-status .error").inner_text()
    assert re.search(r"the limit is 1024 KiB", message)


def test_api_docs_render_without_outside_servers(page, base):
    page.goto(base + "/docs")
    page.wait_for_selector(".opblock")
    text = page.inner_text("body")
    for path in ("/api/health", "/api/verify", "/api/batch", "/api/derive", "/api/notes", "/api/codegen"):
        assert path in text
    assert only_local_requests(page, base)
