// The network bar: a preset fills the fields and shows that network at once.
"use strict";
(function () {
  const form = document.getElementById("network-form");
  const preset = document.getElementById("preset");
  const box = document.getElementById("network-box");
  if (!form || !preset) return;
  // On a phone the network bar folds to one line, so the formula box is on the first screen.
  if (box && window.matchMedia("(max-width: 600px)").matches && !form.querySelector("[role=alert]")) {
    box.open = false;
  }
  preset.addEventListener("change", function () {
    const option = preset.selectedOptions[0];
    if (!option || !option.dataset.sizes) return;
    form.elements.sizes.value = option.dataset.sizes;
    form.elements.activation.value = option.dataset.activation;
    form.elements.cost.value = option.dataset.cost;
    form.elements.regulariser.value = option.dataset.regulariser;
    form.elements.lambda.value = option.dataset.lambda;
    form.elements.lambda.disabled = !option.dataset.regulariser;
    form.submit();
  });
  for (const name of ["sizes", "activation", "cost", "regulariser", "lambda"]) {
    form.elements[name].addEventListener("input", function () { preset.value = ""; });
  }
  // λ belongs to a regulariser: off with none, and the next thing to type after choosing L2 or L1.
  const lambda = form.elements.lambda;
  form.elements.regulariser.addEventListener("change", function () {
    lambda.disabled = !form.elements.regulariser.value;
    if (!lambda.disabled && !lambda.value) lambda.focus();
  });
})();
