// The student page: live preview of how the formula is read, and the verdict on Enter or Check.
"use strict";
(function () {
  const sb = window.symbackprop;
  const form = document.getElementById("check-form");
  if (!form) return;
  const input = document.getElementById("formula");
  const preview = document.getElementById("preview");
  const result = document.getElementById("result");
  const network = sb.network(form);
  let timer = null;
  let readController = null;
  let checkNumber = 0;

  function showError(target, data, formula) {
    const box = sb.el("div", null, "error-box");
    box.appendChild(sb.el("p", data.error || "something went wrong", "error"));
    if (data.position !== undefined && data.position !== null && formula) {
      box.appendChild(sb.marked(formula, data.position));
    }
    target.replaceChildren(box);
  }

  async function read() {
    const formula = input.value;
    if (readController) readController.abort();
    if (!formula.trim()) { preview.hidden = true; return; }
    readController = new AbortController();
    let answer;
    try {
      answer = await sb.post("/api/read", Object.assign({formula: formula}, network), readController.signal);
    } catch (e) { return; }  // aborted: a newer keystroke is being read
    if (formula !== input.value) return;
    preview.hidden = false;
    const math = preview.querySelector(".preview-math");
    const text = preview.querySelector(".preview-text");
    preview.classList.toggle("bad", !answer.ok);
    if (answer.ok) {
      math.innerHTML = answer.data.mathml;  // MathML from the server's allowlisted converter
      text.replaceChildren(sb.el("code", answer.data.text));
      for (const note of answer.data.notes || []) text.appendChild(sb.el("p", note, "note"));
    } else {
      math.replaceChildren();
      showError(text, answer.data, formula);
    }
  }

  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();  // Enter checks; the formula is one line however it wraps
      form.requestSubmit();
    }
  });

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(read, 150);
  });

  for (const button of document.querySelectorAll("button.example")) {
    button.addEventListener("click", function () {
      input.value = button.dataset.formula;
      input.focus();
      read();
    });
  }

  function counterexampleTable(c) {
    const wrap = sb.el("div", null, "counterexample");
    const binding = Object.entries(c.binding || {});
    wrap.appendChild(sb.el("p", "A counterexample" + (binding.length ? ", with " + binding.map(([k, v]) => k + " = " + v).join(", ") : "") + ":"));
    const table = sb.el("table", null, "values");
    const head = table.createTHead().insertRow();
    head.appendChild(sb.el("th", "quantity"));
    head.appendChild(sb.el("th", "value"));
    const body = table.createTBody();
    for (const [name, value] of Object.entries(c.values || {})) {
      const row = body.insertRow();
      row.appendChild(sb.el("td", name));
      row.appendChild(sb.el("td", value));
    }
    const rows = [["your right-hand side", c.student], ["the true value", c["true"]]];
    if (c.largest_difference) {
      rows.push(["largest difference at", c.largest_difference.entry]);
      rows.push(["  yours there", c.largest_difference.student]);
      rows.push(["  true there", c.largest_difference["true"]]);
    }
    for (const [name, value] of rows) {
      if (value === undefined || value === null) continue;
      const row = body.insertRow();
      row.className = "compare";
      row.appendChild(sb.el("th", name));
      row.appendChild(sb.el("td", typeof value === "object" ? JSON.stringify(value) : value));
    }
    wrap.appendChild(table);
    if (c.error) wrap.appendChild(sb.el("p", "Your right-hand side has no value there: " + c.error, "note"));
    if (c.mismatches) wrap.appendChild(sb.el("p", "It differs in " + c.mismatches + " checks.", "note"));
    return wrap;
  }

  function showVerdict(data) {
    const box = sb.el("div", null, "verdict-box");
    const good = data.verdict === "equivalent";
    box.appendChild(sb.el("p", good ? "\u2713 Equivalent: your formula is right." : "\u2717 Not equivalent.", "verdict " + (good ? "good" : "bad")));
    if (data.diagnosis && data.diagnosis.length) {
      box.appendChild(sb.el("h3", "What differs"));
      const list = sb.el("ul", null, "diagnosis");
      for (const d of data.diagnosis) {
        const item = sb.el("li", d.message);
        item.prepend(sb.el("span", d.code, "code"));
        list.appendChild(item);
      }
      box.appendChild(list);
    }
    if (data.counterexample) box.appendChild(counterexampleTable(data.counterexample));
    for (const note of data.notes || []) box.appendChild(sb.el("p", note, "note"));
    const checked = data.checked || {};
    const layers = (checked.layers || []).filter((l) => l !== null);
    box.appendChild(sb.el("p", "Checked: " + checked.comparisons + " comparisons at " + checked.points + " random points" +
      (layers.length ? " for l = " + layers.join(", ") : "") + (data.symbolic && data.symbolic !== "skipped" ? "; symbolic check: " + data.symbolic : "") + ".", "checked"));
    if (data.mathml && data.mathml.expected) {
      const reveal = sb.el("button", good ? "Show the derivation's form" : "Show the answer", "reveal");
      reveal.type = "button";
      const answer = sb.el("div", null, "answer");
      answer.hidden = true;
      answer.innerHTML = data.mathml.expected;  // MathML from the server's allowlisted converter
      reveal.addEventListener("click", function () {
        answer.hidden = !answer.hidden;
        reveal.textContent = answer.hidden ? (good ? "Show the derivation's form" : "Show the answer") : "Hide the answer";
      });
      box.appendChild(reveal);
      box.appendChild(answer);
    }
    result.replaceChildren(box);
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    const formula = input.value;
    input.focus();  // Enter or the Check button: the student goes on typing in the box
    if (!formula.trim()) {
      result.replaceChildren(sb.el("p", "Type a formula first, e.g. one of the examples below the box.", "note"));
      return;
    }
    const number = ++checkNumber;
    result.replaceChildren(sb.el("p", "Checking\u2026", "note busy"));
    const answer = await sb.post("/api/verify", Object.assign({formula: formula, typeset: true}, network));
    if (number !== checkNumber) return;
    if (answer.ok) showVerdict(answer.data); else showError(result, answer.data, formula);
  });

  if (input.value) read();
})();
