// Live checking as one types: the text goes to this service's own /api/v1/check (never elsewhere),
// and the answer is drawn below the text box with every violation underlined; hovering or focusing
// an underline shows its clause, why, and a compliant rewrite. Built with DOM nodes, never innerHTML.
(function () {
  "use strict";
  var box = document.querySelector("textarea[data-live-check]");
  if (!box) return;
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var summary = document.getElementById("live-summary");
  var preview = document.getElementById("live-preview");
  var list = document.getElementById("live-findings");
  var timer = null, asked = 0;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function draw(text, report) {
    var findings = (report.findings || []).filter(function (f) { return f.span && f.span[1] > f.span[0]; });
    findings.sort(function (a, b) { return a.span[0] - b.span[0]; });
    preview.replaceChildren();
    list.replaceChildren();
    var at = 0;
    findings.forEach(function (f, i) {
      var start = Math.max(f.span[0], at), end = f.span[1];
      if (end <= start) return;  // overlaps an earlier underline: listed below, not underlined twice
      preview.appendChild(document.createTextNode(text.slice(at, start)));
      var mark = el("mark", "violation");
      mark.tabIndex = 0;
      mark.dataset.clause = f.clause;
      mark.setAttribute("aria-describedby", "tip-" + i);
      mark.appendChild(document.createTextNode(text.slice(start, end)));
      var tip = el("span", "tip");
      tip.id = "tip-" + i;
      tip.setAttribute("role", "tooltip");
      tip.appendChild(el("strong", "", f.clause + ": "));
      tip.appendChild(document.createTextNode(f.explanation || ""));
      if (f.suggestion) {
        tip.appendChild(el("br"));
        tip.appendChild(document.createTextNode("Rewrite: " + f.suggestion));
      }
      mark.appendChild(tip);
      preview.appendChild(mark);
      at = end;
    });
    preview.appendChild(document.createTextNode(text.slice(at)));
    findings.forEach(function (f) {
      var li = el("li", "finding");
      var head = el("p");
      head.appendChild(el("span", "badge", f.clause));
      head.firstChild.dataset.clause = f.clause;
      head.appendChild(document.createTextNode(" " + (f.evidence ? "\u201c" + f.evidence + "\u201d" : "")));
      li.appendChild(head);
      li.appendChild(el("p", "", f.explanation || ""));
      if (f.suggestion) li.appendChild(el("p", "rewrite", "Compliant rewrite: " + f.suggestion));
      list.appendChild(li);
    });
    var n = findings.length;
    summary.textContent = n === 0
      ? "No findings: the post keeps to every clause the checker tests."
      : n + (n === 1 ? " finding" : " findings") + " (" + report.decision + "): see the underlined words.";
    summary.dataset.decision = report.decision || "";
  }

  function check() {
    var text = box.value, mine = ++asked;
    if (!text.trim()) {
      preview.replaceChildren();
      list.replaceChildren();
      summary.textContent = "Nothing to check yet.";
      return;
    }
    fetch("/api/v1/check", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ text: text })
    }).then(function (r) {
      return r.json().then(function (body) { return { ok: r.ok, body: body }; });
    }).then(function (answer) {
      if (mine !== asked) return;  // a newer check is on its way
      if (!answer.ok) { summary.textContent = "Not checked: " + (answer.body.detail || "error"); return; }
      draw(text, answer.body);
    }).catch(function () {
      if (mine === asked) summary.textContent = "Not checked: the service cannot be reached.";
    });
  }

  box.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(check, 250);
  });
  if (box.value.trim()) check();
})();
