// The report page: draws itself from the JSON block above. No libraries, no network.
"use strict";
(function () {
  const D = JSON.parse(document.getElementById("data").textContent);
  const $ = (id) => document.getElementById(id);
  const PAGE = 100;
  const DATE = 0, CP = 1, REASON = 2, CONF = 3, THREAD = 4, SUBJECT = 5, MSG = 6, LOW = 7;
  const reasons = D.reasons.map((r) => r.id);
  const NONE = reasons.indexOf("none");
  const state = {view: "flagged", reason: "refusals", cp: "", conf: 0, hideLow: false, shown: {flagged: PAGE, cps: 30, threads: 50}};

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k === "style") node.setAttribute("style", v);
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c);
    return node;
  }
  const pct = (x) => Math.round(x * 100) + "%";
  const color = (r) => `var(--${reasons[r]})`;
  const label = (r) => D.reasons[r].label;
  const day = (d) => (d ? d.slice(0, 10) : "no date");
  const when = (d) => (d ? d.replace("T", " ").replace("Z", " UTC") : "no date");
  const num = (n) => n.toLocaleString("en");

  // -- header ---------------------------------------------------------------------------------
  const C = D.counts;
  $("meta").textContent = [
    D.source ? `Scored file: ${D.source}` : "",
    D.models.length ? `model ${D.models.join(", ")}` : "",
    D.scored_at ? `scored file written ${when(D.scored_at)}` : "",
    `report built ${when(D.built_at)}`].filter(Boolean).join(" · ");
  for (let r = 0; r < reasons.length; r++) {
    const n = C.per_reason[reasons[r]] || 0;
    $("counts").append(el("div", {class: "count", style: `--c:${color(r)}`, title: D.reasons[r].summary},
      el("b", {text: num(n)}), `${label(r)} (${C.classified ? pct(n / C.classified) : "0%"})`));
  }
  $("counts").append(el("div", {class: "count"}, el("b", {text: C.classified ? pct(C.low_confidence / C.classified) : "0%"}),
    `low confidence (${num(C.low_confidence)}): read those yourself`));
  const notes = [`${num(C.rows)} messages in the file: ${num(C.classified)} classified, ${num(C.skipped)} our own (skipped), ${num(C.errors)} without text to classify.`];
  if (C.flagged_kept < C.flagged) notes.push(`The ${num(C.flagged_kept)} most likely of ${num(C.flagged)} flagged messages are shown in full.`);
  if (C.rest) notes.push(C.rest_kept < C.rest ? `Messages not flagged: a sample of ${num(C.rest_kept)} of ${num(C.rest)} is readable; all of them count in the timelines and threads.`
    : `All ${num(C.rest)} messages not flagged are readable (reason filter: "${label(NONE)}").`);
  if (!D.has_text) notes.push("The scored file has no text column, so each message shows its first 200 characters: score with --include-text to read whole messages.");
  $("notes").textContent = notes.join(" ");

  // -- filters --------------------------------------------------------------------------------
  const fr = $("f-reason");
  fr.append(el("option", {value: "refusals", text: "All refusals (flagged)"}));
  for (let r = 0; r < reasons.length; r++) if (r !== NONE) fr.append(el("option", {value: String(r), text: label(r)}));
  fr.append(el("option", {value: String(NONE), text: `${label(NONE)} (sample)`}));
  const domains = new Set();
  for (const v of D.cp_views) { if (v.domain) domains.add(v.domain); }
  for (const d of [...domains].sort()) $("cp-list").append(el("option", {value: "@" + d}));
  for (const v of D.cp_views.slice(0, 2000)) $("cp-list").append(el("option", {value: v.address}));

  function reasonOk(r) {
    return state.reason === "refusals" ? r !== NONE : r === Number(state.reason);
  }
  function cpOk(c) {
    const q = state.cp.trim().toLowerCase();
    if (!q) return true;
    const a = D.counterparties[c].toLowerCase();
    if (q.startsWith("@")) return a.endsWith(q) || a.endsWith("." + q.slice(1));
    return a.includes(q);
  }
  function confOk(rec) { return rec[CONF] * 100 >= state.conf && !(state.hideLow && rec[LOW]); }
  function recOk(rec) { return reasonOk(rec[REASON]) && cpOk(rec[CP]) && confOk(rec); }

  // -- one message ------------------------------------------------------------------------------
  function highlight(text, phrases) {
    // marks each evidence phrase where it occurs (case and spacing ignored), escaping the rest
    const spans = [];
    const lower = text.toLowerCase();
    for (const p of phrases) {
      const words = p.toLowerCase().split(/\s+/).filter(Boolean).map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
      if (!words.length) continue;
      const re = new RegExp(words.join("\\s+"), "g");
      let m;
      while ((m = re.exec(lower)) !== null) {
        if (!m[0].length) { re.lastIndex++; continue; }
        spans.push([m.index, m.index + m[0].length]);
      }
    }
    spans.sort((a, b) => a[0] - b[0]);
    const node = el("div", {class: "text"});
    let at = 0;
    for (const [a, b] of spans) {
      if (a < at) continue;
      node.append(text.slice(at, a), el("mark", {text: text.slice(a, b)}));
      at = b;
    }
    node.append(text.slice(at));
    return node;
  }

  function messageCard(n) {
    const rec = D.light[n];
    const m = rec[MSG] >= 0 ? D.messages[rec[MSG]] : null;
    const r = rec[REASON];
    const card = el("article", {class: "card", style: `--c:${color(r)}`, "data-n": String(n)});
    card.append(el("div", {class: "head"},
      el("span", {class: "badge", text: label(r)}),
      el("span", {text: `${pct(rec[CONF])} likely`}),
      rec[LOW] ? el("span", {class: "low", text: "low confidence: read it yourself"}) : null,
      el("span", {class: "subject", text: D.subjects[rec[SUBJECT]] || "(no subject)"})));
    card.append(el("div", {class: "who", text: `${m && m.from ? m.from : D.counterparties[rec[CP]]} · ${when(rec[DATE])}`}));
    if (!m) {
      card.append(el("p", {class: "muted", text: "Not in the readable sample (see the note at the top)."}));
      return card;
    }
    if (m.signal && D.signals[m.signal]) card.append(el("p", {class: "signal", text: "Why: " + D.signals[m.signal]}));
    card.append(highlight(m.text, m.evidence));
    if (m.evidence.length) card.append(el("div", {class: "who", text: "Evidence: " + m.evidence.join(" · ")}));
    const tactics = m.tactics.map((t) => D.tactics[t]).filter(Boolean);
    if (tactics.length) {
      card.append(el("ul", {class: "tactics"}, ...tactics.map((t) => el("li", {}, el("b", {text: t.title + ". "}), t.do))));
    }
    card.append(el("div", {class: "id", text: m.id}));
    return card;
  }

  function moreButton(view, total) {
    if (state.shown[view] >= total) return null;
    return el("button", {class: "more", type: "button", text: `Show more (${num(total - state.shown[view])} left)`,
      onclick: () => { state.shown[view] += view === "flagged" ? PAGE : 30; draw(); }});
  }

  // -- flagged messages ----------------------------------------------------------------------------
  function drawFlagged() {
    const box = $("view-flagged");
    box.replaceChildren();
    const ns = D.messages.map((m) => m.n).filter((n) => recOk(D.light[n]));
    ns.sort((a, b) => D.light[b][CONF] - D.light[a][CONF] || a - b);
    $("n-flagged").textContent = `(${num(ns.length)})`;
    if (!ns.length) box.append(el("p", {class: "empty", text: "No message matches the filters."}));
    for (const n of ns.slice(0, state.shown.flagged)) box.append(messageCard(n));
    box.append(moreButton("flagged", ns.length) || "");
  }

  // -- counterparties ----------------------------------------------------------------------------
  function timeline(ns, detail) {
    // one lane per reason, time across; a point per day and reason, sized by how many messages
    const dated = ns.filter((n) => D.light[n][DATE]);
    const W = 760, H = 34 + 26 * reasons.length, L = 150, R = 16;
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.setAttribute("class", "timeline");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", "Predicted reason over time");
    const mk = (tag, attrs, text) => {
      const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
      for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
      if (text) e.textContent = text;
      svg.append(e);
      return e;
    };
    reasons.forEach((r, i) => {
      const y = 20 + 26 * i;
      mk("line", {x1: L, x2: W - R, y1: y, y2: y, stroke: "#e3e6ea"});
      mk("text", {x: 4, y: y + 4}, label(i).length > 24 ? label(i).slice(0, 23) + "…" : label(i));
    });
    if (!dated.length) {
      mk("text", {x: L, y: H - 6}, "no dated messages");
      return svg;
    }
    const t = (n) => Date.parse(D.light[n][DATE]);
    const t0 = t(dated[0]), t1 = t(dated[dated.length - 1]);
    const x = (ms) => (t1 === t0 ? (L + W - R) / 2 : L + (W - R - L) * (ms - t0) / (t1 - t0));
    mk("text", {x: L, y: H - 4}, day(D.light[dated[0]][DATE]));
    if (t1 !== t0) mk("text", {x: W - R - 62, y: H - 4}, day(D.light[dated[dated.length - 1]][DATE]));
    const groups = new Map();
    for (const n of dated) {
      const key = day(D.light[n][DATE]) + "|" + D.light[n][REASON];
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(n);
    }
    let prev = null;
    for (const n of dated) {  // the stance line, message by message
      const p = [x(t(n)), 20 + 26 * D.light[n][REASON]];
      if (prev) mk("line", {x1: prev[0], y1: prev[1], x2: p[0], y2: p[1], stroke: "#c5cbd3", "stroke-width": 1});
      prev = p;
    }
    for (const group of groups.values()) {
      const n0 = group[0], r = D.light[n0][REASON];
      const c = mk("circle", {cx: x(t(n0)), cy: 20 + 26 * r, r: Math.min(4 + 2 * Math.sqrt(group.length), 12),
        fill: color(r), "fill-opacity": 0.35 + 0.65 * Math.max(...group.map((n) => D.light[n][CONF])), tabindex: 0});
      const title = document.createElementNS("http://www.w3.org/2000/svg", "title");
      title.textContent = `${day(D.light[n0][DATE])}: ${label(r)}, ${group.length} message${group.length > 1 ? "s" : ""}`;
      c.append(title);
      const open = () => {
        svg.querySelectorAll("circle.on").forEach((e) => e.classList.remove("on"));
        c.classList.add("on");
        detail.replaceChildren(el("h2", {text: `${day(D.light[n0][DATE])} · ${label(r)} · ${group.length} message${group.length > 1 ? "s" : ""}`}),
          ...group.map(messageCard));
      };
      c.addEventListener("click", open);
      c.addEventListener("keydown", (e) => { if (e.key === "Enter") open(); });
    }
    if (dated.length < ns.length) mk("text", {x: W - R - 150, y: 11}, `${ns.length - dated.length} without a date`);
    return svg;
  }

  function cpCard(v) {
    const ns = v.rows;
    const latest = ns[ns.length - 1];
    const rec = D.light[latest];
    const card = el("article", {class: "card", style: `--c:${color(rec[REASON])}`, "data-cp": v.address});
    card.append(el("div", {class: "head"}, el("h2", {text: v.address}),
      v.domain ? el("button", {class: "link who", type: "button", text: `organisation: ${v.domain}`,
        title: "Show everyone at this organisation", onclick: () => { $("f-cp").value = "@" + v.domain; changed(); }}) : "",
      el("span", {class: "who", text: `${num(ns.length)} messages, ${num(v.flagged)} flagged`})));
    const m = rec[MSG] >= 0 ? D.messages[rec[MSG]] : null;
    card.append(el("p", {}, "Latest stance (", when(rec[DATE]), "): ", el("span", {class: "badge", text: label(rec[REASON])}),
      ` ${pct(rec[CONF])}`, m && m.signal && D.signals[m.signal] ? ` · ${D.signals[m.signal]}` : ""));
    const tactics = m ? m.tactics.map((t) => D.tactics[t]).filter(Boolean) : [];
    if (tactics.length) card.append(el("ul", {class: "tactics"}, ...tactics.map((t) => el("li", {}, el("b", {text: t.title + ". "}), t.do))));
    const detail = el("div", {class: "points"});
    card.append(timeline(ns, detail), el("p", {class: "who", text: "Click a point to read the messages behind it."}), detail);
    return card;
  }

  function drawCps() {
    const box = $("view-cps");
    box.replaceChildren();
    const views = D.cp_views.filter((v) => cpOk(v.c) && v.rows.some((n) => recOk(D.light[n])));
    $("n-cps").textContent = `(${num(views.length)})`;
    if (!views.length) box.append(el("p", {class: "empty", text: "No counterparty matches the filters."}));
    const q = state.cp.trim().toLowerCase();
    if (q.startsWith("@") && views.length) {
      // the organisation as a whole: everyone at the domain on one timeline
      const ns = views.flatMap((v) => v.rows).sort((a, b) => (D.light[a][DATE] || "").localeCompare(D.light[b][DATE] || "") || a - b);
      const detail = el("div", {class: "points"});
      box.append(el("article", {class: "card org", "data-org": q.slice(1)},
        el("div", {class: "head"}, el("h2", {text: `Organisation ${q.slice(1)}`}),
          el("span", {class: "who", text: `${num(views.length)} people, ${num(ns.length)} messages`})),
        timeline(ns, detail), el("p", {class: "who", text: "Click a point to read the messages behind it."}), detail));
    }
    for (const v of views.slice(0, state.shown.cps)) box.append(cpCard(v));
    box.append(moreButton("cps", views.length) || "");
  }

  // -- threads ---------------------------------------------------------------------------------
  function drawThreads() {
    const box = $("view-threads");
    box.replaceChildren();
    const views = D.thread_views.filter((v) => v.rows.some((n) => recOk(D.light[n])));
    $("n-threads").textContent = `(${num(views.length)})`;
    if (!views.length) box.append(el("p", {class: "empty", text: "No thread of two or more messages matches the filters."}));
    for (const v of views.slice(0, state.shown.threads)) {
      const first = D.light[v.rows[0]];
      const detail = el("div", {class: "points"});
      const list = el("ol");
      v.rows.forEach((n, i) => {
        const rec = D.light[n];
        const changed = i > 0 && D.light[v.rows[i - 1]][REASON] !== rec[REASON];
        list.append(el("li", {},
          changed ? el("span", {class: "changed", text: "stance changed → "}) : "",
          el("span", {class: "badge", style: `--c:${color(rec[REASON])}`, text: label(rec[REASON])}),
          ` ${pct(rec[CONF])} · ${when(rec[DATE])} · ${D.counterparties[rec[CP]]} `,
          el("button", {class: "link", type: "button", text: "read", onclick: () => detail.replaceChildren(messageCard(n))})));
      });
      box.append(el("article", {class: "card thread"},
        el("h2", {text: D.subjects[first[SUBJECT]] || "(no subject)"}),
        el("div", {class: "who", text: `${v.rows.length} messages, stance changed ${v.changes} time${v.changes === 1 ? "" : "s"}`}),
        list, detail));
    }
    box.append(moreButton("threads", views.length) || "");
  }

  // -- wiring ----------------------------------------------------------------------------------
  function draw() {
    drawFlagged();
    drawCps();
    drawThreads();
  }
  function changed() {
    state.reason = fr.value;
    state.cp = $("f-cp").value;
    state.conf = Number($("f-conf").value);
    state.hideLow = $("f-low").checked;
    $("f-conf-out").textContent = state.conf + "%";
    state.shown = {flagged: PAGE, cps: 30, threads: 50};
    draw();
  }
  for (const id of ["f-reason", "f-cp", "f-conf", "f-low"]) $(id).addEventListener("input", changed);
  $("f-reason").addEventListener("change", changed);
  $("f-clear").addEventListener("click", () => {
    fr.value = "refusals"; $("f-cp").value = ""; $("f-conf").value = "0"; $("f-low").checked = false;
    changed();
  });
  for (const tab of document.querySelectorAll(".tabs button")) {
    tab.addEventListener("click", () => {
      state.view = tab.dataset.view;
      for (const t of document.querySelectorAll(".tabs button")) t.setAttribute("aria-selected", String(t === tab));
      for (const v of ["flagged", "cps", "threads"]) $("view-" + v).hidden = v !== state.view;
    });
  }
  draw();
  document.body.dataset.ready = "1";
})();
