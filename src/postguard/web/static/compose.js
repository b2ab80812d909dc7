// Live checking as one types: the text goes to this service's own /api/v1/check (never elsewhere),
// and the answer is drawn below the text box with every violation underlined; hovering or focusing
// an underline shows its clause, why, and a compliant rewrite. Built with DOM nodes, never innerHTML.
// A finding that carries a one-step rewrite (its "replacement") gets an Apply button: the words are
// replaced in the text box and the text is checked again. The account chosen sets the limit: the text
// is counted as its platform counts (grapheme clusters, each web address as the pack says, as
// postguard.workflow.length does) and shown as it will appear there.
(function () {
  "use strict";
  var box = document.querySelector("textarea[data-live-check]");
  if (!box) return;
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var summary = document.getElementById("live-summary");
  var preview = document.getElementById("live-preview");
  var list = document.getElementById("live-findings");
  var timer = null, asked = 0;
  var accountBox = document.querySelector("select[data-account-choice]");
  var counter = document.getElementById("char-count");
  var cardAccount = document.getElementById("card-account");
  var cardText = document.getElementById("card-text");
  var saved = document.getElementById("saved-rewrites");
  if (saved) saved.hidden = true;  // the live list below offers the same rewrites, on the text as it is now
  // The same expression as postguard.workflow.length.URL.
  var URL_RE = /https?:\/\/[^\s<>"]*[^\s<>".,;:!?)\]'"]/gi;
  var segmenter = window.Intl && Intl.Segmenter ? new Intl.Segmenter(undefined, { granularity: "grapheme" }) : null;

  function graphemes(s) {
    return segmenter ? Array.from(segmenter.segment(s)).length : Array.from(s).length;
  }

  function count(text, urlChars) {
    if (!urlChars) return graphemes(text);
    var urls = text.match(URL_RE) || [];
    return graphemes(text.replace(URL_RE, "")) + urls.length * urlChars;
  }

  // The server's spans count code points; JavaScript strings count UTF-16 units.
  function units(text, points) {
    var i = 0, n = 0;
    while (n < points && i < text.length) {
      var c = text.charCodeAt(i);
      i += c >= 0xd800 && c <= 0xdbff && i + 1 < text.length ? 2 : 1;
      n++;
    }
    return i;
  }

  function measure() {
    if (!counter) return;
    var opt = accountBox ? accountBox.options[accountBox.selectedIndex] : null;
    var chosen = opt && opt.value ? opt : null;
    var limit = chosen && chosen.dataset.limit ? parseInt(chosen.dataset.limit, 10) : 0;
    var urlChars = chosen && chosen.dataset.urlCharacters ? parseInt(chosen.dataset.urlCharacters, 10) : 0;
    var used = count(box.value, urlChars), over = limit ? used - limit : 0;
    if (limit) {
      counter.textContent = used + " of " + limit + " characters (" + chosen.dataset.platform + ")" +
        (over > 0 ? ": " + over + " over the limit; it cannot be submitted until it is shorter." : ".");
    } else {
      counter.textContent = used + " characters" + (chosen ? "." : "; choose the account to see its limit.");
    }
    counter.classList.toggle("over", over > 0);
    if (cardAccount) cardAccount.textContent = chosen ? chosen.value : "No account chosen yet";
    if (cardText) cardText.textContent = box.value;
  }

  function apply(f, start, end) {
    // The text box may have changed since this check: apply only where the words still are.
    if (box.value.slice(start, end) !== f.evidence) { check(); return; }
    box.value = box.value.slice(0, start) + f.replacement + box.value.slice(end);
    box.focus();
    box.setSelectionRange(start + f.replacement.length, start + f.replacement.length);
    measure();
    clearTimeout(timer);
    check();
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function draw(text, report) {
    var findings = (report.findings || []).filter(function (f) { return f.span && f.span[1] > f.span[0]; });
    findings.sort(function (a, b) { return a.span[0] - b.span[0]; });
    findings = findings.map(function (f) {
      return Object.assign({}, f, { span: [units(text, f.span[0]), units(text, f.span[1])] });
    });
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
      if (f.replacement) {
        var button = el("button", "secondary apply",
          "Apply: replace \u201c" + f.evidence + "\u201d with \u201c" + f.replacement + "\u201d");
        button.type = "button";
        button.addEventListener("click", function () { apply(f, f.span[0], f.span[1]); });
        li.appendChild(button);
      }
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
    fetch("/api/v1/check?rewrites=true", {
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
    measure();
    clearTimeout(timer);
    timer = setTimeout(check, 250);
  });
  if (accountBox) accountBox.addEventListener("change", measure);
  measure();
  if (box.value.trim()) check();
})();
