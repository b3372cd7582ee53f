// Calling the JSON API: one place for fetch, errors as {error} objects, stale answers dropped.
"use strict";
window.symbackprop = {
  // POST body as JSON; resolves to {ok, status, data}; a network failure becomes an error object.
  post: async function (path, body, signal) {
    try {
      const response = await fetch(path, {
        method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body), signal: signal,
      });
      let data;
      try { data = await response.json(); } catch (e) { data = {error: "the server answered " + response.status}; }
      return {ok: response.ok, status: response.status, data: data};
    } catch (e) {
      if (e.name === "AbortError") throw e;
      return {ok: false, status: 0, data: {error: "the server cannot be reached; is it still running?"}};
    }
  },
  // The page's network from a form's data attributes, as the API's body keys (λ as a number).
  network: function (form) {
    const network = {sizes: form.dataset.sizes, activation: form.dataset.activation, cost: form.dataset.cost};
    for (const name of ["l2", "l1"]) {
      if (form.dataset[name]) network[name] = Number(form.dataset[name]);
    }
    return network;
  },
  // An element with text content (never HTML) and optional class.
  el: function (tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  },
  // The formula with the character at `position` marked, built from text nodes only.
  marked: function (formula, position) {
    const code = document.createElement("code");
    code.className = "marked";
    if (position === null || position === undefined || position < 0) {
      code.textContent = formula;
      return code;
    }
    code.appendChild(document.createTextNode(formula.slice(0, position)));
    const mark = document.createElement("mark");
    mark.textContent = formula.slice(position, position + 1) || "\u00a0";
    code.appendChild(mark);
    code.appendChild(document.createTextNode(formula.slice(position + 1)));
    return code;
  },
};
