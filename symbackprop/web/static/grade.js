// The teacher page: upload a class file, grade it through /api/batch, show the table and the chart.
"use strict";
(function () {
  const sb = window.symbackprop;
  const form = document.getElementById("grade-form");
  if (!form) return;
  const fileInput = document.getElementById("class-file");
  const status = document.getElementById("grade-status");
  const results = document.getElementById("grade-results");
  const maxBytes = Number(form.dataset.maxBytes);
  const urls = [];

  function download(id, text, type) {
    const url = URL.createObjectURL(new Blob([text], {type: type}));
    urls.push(url);
    document.getElementById(id).href = url;
  }

  function show(data, name) {
    const s = data.summary;
    document.getElementById("grade-summary").textContent = name + ": " + s.total + " answers: " + s.equivalent +
      " equivalent, " + s.not_equivalent + " not equivalent, " + s.errors + (s.errors === 1 ? " error" : " errors") +
      " (" + s.seconds + " s).";
    document.getElementById("chart").innerHTML = data.chart;  // SVG built by the server's escaping template
    while (urls.length) URL.revokeObjectURL(urls.pop());
    download("download-csv", data.csv, "text/csv");
    download("download-jsonl", data.jsonl, "application/jsonl");
    const body = document.querySelector("#grade-table tbody");
    body.replaceChildren();
    for (const r of data.results) {
      const row = body.insertRow();
      row.className = "verdict-" + r.verdict;
      row.appendChild(sb.el("td", r.id === null || r.id === undefined ? "" : r.id));
      row.appendChild(sb.el("td", r.line));
      row.appendChild(sb.el("td", (r.verdict || "").replace("_", " ")));
      const diagnosis = sb.el("td");
      if (r.error) diagnosis.appendChild(sb.el("span", r.error, "error"));
      for (const d of r.diagnosis || []) {
        const line = sb.el("div", d.message);
        line.prepend(sb.el("span", d.code, "code"));
        diagnosis.appendChild(line);
      }
      row.appendChild(diagnosis);
      row.appendChild(sb.el("td", r.formula || "", "formula"));
    }
    results.hidden = false;
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    const file = fileInput.files[0];
    if (!file) { status.replaceChildren(sb.el("p", "Choose a class file first (.jsonl or .csv).", "error")); return; }
    if (file.size > maxBytes) {
      status.replaceChildren(sb.el("p", file.name + " has " + Math.ceil(file.size / 1024) + " KiB; the limit is " +
        (maxBytes / 1024) + " KiB. Split the class into several files.", "error"));
      return;
    }
    status.replaceChildren(sb.el("p", "Grading " + file.name + "\u2026", "note busy"));
    const content = await file.text();
    const answer = await sb.post("/api/batch", Object.assign({content: content, filename: file.name}, sb.network(form)));
    if (!answer.ok) {
      results.hidden = true;
      status.replaceChildren(sb.el("p", answer.data.error || "grading failed", "error"));
      return;
    }
    status.replaceChildren();
    show(answer.data, file.name);
  });
})();
