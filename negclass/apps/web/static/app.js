// The page: calls /api/classify, /api/score and /api/corrections. No libraries, nothing from the internet.
"use strict";

const $ = (id) => document.getElementById(id);
const TABLE_ROWS = 1000;          // rows drawn in the table; the CSV download has all of them
const KEEP_TEXTS = 2000;          // rows that keep their text (for corrections and the report); memory stays flat
const REASON_COLORS = {too_strong: "#1f5fbf", too_weak: "#b26a00", emotions_high: "#b3261e", none: "#6b7785"};

const state = {info: null, text: "", result: null, rows: [], columns: [], summary: null};

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

function reasonInfo(id) {
  return (state.info && state.info.reasons.find((r) => r.id === id)) || {id, label: id, summary: "", signals: []};
}

function signalLabel(id) {
  if (!id || !state.info) return "";
  for (const r of state.info.reasons) for (const s of r.signals) if (s.id === id) return s.label;
  return "";
}

function pct(x) { return Math.round(x * 100) + "%"; }

function sizeText(n) {
  return n >= 1048576 ? (n / 1048576).toFixed(0) + " MB" : Math.max(1, Math.round(n / 1024)) + " KB";
}

function show(node, message) {
  node.textContent = message;
  node.hidden = !message;
}

async function problem(response) {
  // the API's one-line explanation, or a fallback naming the status
  try {
    const body = await response.json();
    if (body && typeof body.detail === "string") return body.detail;
  } catch (e) { /* not JSON */ }
  return `The server answered ${response.status} ${response.statusText}.`;
}

async function postJSON(url, payload) {
  let response;
  try {
    response = await fetch(url, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(payload)});
  } catch (e) {
    throw new Error("Cannot reach negclass: is 'negclass serve' still running?");
  }
  if (!response.ok) throw new Error(await problem(response));
  return response.json();
}

// -- tabs ---------------------------------------------------------------------------------------
function selectTab(name) {
  for (const t of ["paste", "upload"]) {
    const on = t === name;
    $("tab-" + t).setAttribute("aria-selected", String(on));
    $("tab-" + t).tabIndex = on ? 0 : -1;
    $("panel-" + t).hidden = !on;
  }
}
$("tab-paste").addEventListener("click", () => selectTab("paste"));
$("tab-upload").addEventListener("click", () => selectTab("upload"));

// -- info ---------------------------------------------------------------------------------------
function fillReasonSelect(select, withBlank) {
  select.replaceChildren();
  if (withBlank) select.append(el("option", {value: "", text: "choose…"}));
  for (const r of state.info.reasons) select.append(el("option", {value: r.id, text: r.label}));
}

function fillSignalSelect(reason) {
  const select = $("correct-signal");
  select.replaceChildren(el("option", {value: "", text: "—"}));
  for (const s of reasonInfo(reason).signals) select.append(el("option", {value: s.id, text: s.label}));
  select.disabled = reasonInfo(reason).signals.length === 0;
}

async function loadInfo() {
  try {
    const response = await fetch("/api/info");
    if (!response.ok) throw new Error(await problem(response));
    state.info = await response.json();
  } catch (e) {
    show($("paste-error"), "Could not load the model: " + e.message);
    return;
  }
  $("model-name").textContent = state.info.model;
  $("corrections-path").textContent = state.info.corrections_path;
  $("corrections-count").textContent = state.info.corrections + (state.info.corrections === 1 ? " so far" : " so far");
  $("limit").textContent = sizeText(state.info.max_upload_bytes);
  fillReasonSelect($("correct-reason"), true);
  fillSignalSelect("");
}
$("correct-reason").addEventListener("change", (e) => fillSignalSelect(e.target.value));

// -- paste and classify -------------------------------------------------------------------------
async function classify(event) {
  if (event) event.preventDefault();
  const text = $("text").value;
  show($("paste-error"), "");
  if (!text.trim()) {
    show($("paste-error"), "The box is empty: paste what the other side wrote, then press Read it.");
    $("text").focus();
    return;
  }
  if (state.info && text.length > state.info.max_text_chars) {
    show($("paste-error"), `That is ${text.length.toLocaleString()} characters; the limit is ${state.info.max_text_chars.toLocaleString()}. Paste only the message you want read.`);
    return;
  }
  const button = $("classify-btn");
  button.disabled = true;
  button.textContent = "Reading…";
  try {
    const result = await postJSON("/api/classify", {text});
    state.text = text;
    state.result = result;
    render(result, text);
  } catch (e) {
    show($("paste-error"), e.message);
  } finally {
    button.disabled = false;
    button.textContent = "Read it";
  }
}

function render(r, text) {
  const color = REASON_COLORS[r.reason] || REASON_COLORS.none;
  $("result").hidden = false;
  $("result-card").style.setProperty("--reason-color", color);
  $("result-card").dataset.reason = r.reason;
  $("reason-label").textContent = r.reason_label;
  $("reason-summary").textContent = r.reason_summary;

  const fill = $("confidence-fill");
  fill.style.width = pct(r.confidence);
  fill.classList.toggle("low", r.low_confidence);
  $("confidence-bar").setAttribute("aria-valuenow", String(Math.round(r.confidence * 100)));
  $("confidence-value").textContent = pct(r.confidence);

  const ranked = Object.entries(r.probabilities).sort((a, b) => b[1] - a[1]);
  const other = ranked.find(([id]) => id !== r.reason);
  if (r.low_confidence) {
    let note = `Not sure. The model is only ${pct(r.confidence)} confident`;
    if (other) note += `, and “${reasonInfo(other[0]).label}” is ${other[1] >= r.confidence ? "as likely or more" : "close behind"} (${pct(other[1])})`;
    show($("low-note"), note + ". Read the message yourself before acting on this.");
  } else {
    show($("low-note"), "");
  }

  $("signal-line").hidden = !r.signal;
  $("signal").textContent = r.signal || "";
  $("signal-label").textContent = r.signal_label ? "— " + r.signal_label : "";

  $("probabilities").replaceChildren(...ranked.map(([id, p]) => el("li", {},
    el("span", {text: reasonInfo(id).label}),
    el("span", {class: "mini"}, el("span", {style: `width:${pct(p)};background:${REASON_COLORS[id] || "#888"}`})),
    el("span", {class: "num", text: pct(p)}))));

  renderEvidence(r.evidence, text);
  renderTactics(r);

  fillReasonSelect($("correct-reason"), true);
  fillSignalSelect("");
  $("correct-status").textContent = "";
  $("result").scrollIntoView({behavior: "smooth", block: "start"});
}

function renderEvidence(evidence, text) {
  // offsets are Unicode code points (Python string indices), so slice an array of code points
  const chars = Array.from(text);
  const spans = evidence.filter((e) => e.start !== null && e.end !== null && e.end > e.start && e.end <= chars.length)
    .sort((a, b) => a.start - b.start);
  const top = Math.max(0, ...spans.map((e) => e.weight));
  const box = $("highlighted");
  box.replaceChildren();
  let at = 0;
  for (const e of spans) {
    if (e.start < at) continue;  // overlapping: keep the first
    box.append(document.createTextNode(chars.slice(at, e.start).join("")));
    const title = e.cue ? `cue: ${e.cue.replace(/_/g, " ")}` : "pushed towards this reason";
    box.append(el("mark", {class: e.weight >= top * 0.5 ? "strong" : "", title, "data-weight": String(e.weight)},
      chars.slice(e.start, e.end).join("")));
    at = e.end;
  }
  box.append(document.createTextNode(chars.slice(at).join("")));
  const unplaced = evidence.filter((e) => e.start === null);
  let note = spans.length ? "Highlighted phrases pushed the model towards this reason; the darker, the stronger."
    : "No single phrase stood out: the reading comes from the message as a whole.";
  if (unplaced.length) note += " Also: " + unplaced.map((e) => `“${e.text}”`).join(", ") + ".";
  $("evidence-note").textContent = note;
}

async function copyText(text, button) {
  let ok = false;
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      ok = true;
    }
  } catch (e) { /* fall back below */ }
  if (!ok) {
    const area = el("textarea", {style: "position:fixed;top:-1000px;opacity:0"});
    area.value = text;
    document.body.append(area);
    area.select();
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    area.remove();
  }
  button.textContent = ok ? "Copied" : "Select and copy";
  setTimeout(() => { button.textContent = "Copy"; }, 1600);
}

function renderTactics(r) {
  const list = $("tactics");
  list.replaceChildren();
  if (!r.tactics.length) {
    $("tactics-card").hidden = false;
    list.append(el("li", {class: "none"}, "Nothing to do: this does not read as a refusal to negotiate. Carry on as usual."));
    return;
  }
  for (const t of r.tactics) {
    const copy = el("button", {type: "button", class: "copy", "aria-label": `Copy the wording for ${t.title}`, text: "Copy"});
    copy.addEventListener("click", () => copyText(t.say, copy));
    list.append(el("li", {"data-tactic": t.id},
      el("span", {class: "title", text: t.title}),
      el("p", {class: "do", text: t.do}),
      el("div", {class: "say"}, el("q", {text: t.say}), copy)));
  }
}

async function saveCorrection(text, reason, signal) {
  const saved = await postJSON("/api/corrections", {text, reason, signal: signal || null});
  $("corrections-count").textContent = saved.count + " so far";
  return saved;
}

$("correct-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const status = $("correct-status");
  const reason = $("correct-reason").value;
  if (!reason) { status.textContent = "Choose the real reason first."; return; }
  try {
    const saved = await saveCorrection(state.text, reason, $("correct-signal").value);
    status.textContent = `${saved.replaced ? "Updated" : "Saved"}: “${reasonInfo(saved.reason).label}”. ` +
      `${saved.count} correction${saved.count === 1 ? "" : "s"} in ${saved.path}; retrain with: negclass train --data "${saved.path}"`;
  } catch (e) {
    status.textContent = e.message;
  }
});

$("paste-form").addEventListener("submit", classify);
$("text").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) classify(e);
});
$("clear-btn").addEventListener("click", () => {
  $("text").value = "";
  $("result").hidden = true;
  show($("paste-error"), "");
  $("text").focus();
});

// -- upload and batch scoring -------------------------------------------------------------------
const ACCEPTED = [".eml", ".mbox", ".mbx", ".msg", ".csv", ".jsonl", ".ndjson"];

function checkFile(file) {
  if (!file) return "Choose a file first.";
  const dot = file.name.lastIndexOf(".");
  const ext = dot >= 0 ? file.name.slice(dot).toLowerCase() : "";
  if (!ACCEPTED.includes(ext)) return `Cannot score ${ext ? "'" + ext + "' files" : "files without an extension"}: choose an email (.eml), a mailbox (.mbox), an Outlook message (.msg), a CSV table (.csv) or JSON lines (.jsonl).`;
  if (file.size === 0) return `${file.name} is empty.`;
  if (state.info && file.size > state.info.max_upload_bytes) return `${file.name} is ${sizeText(file.size)}, larger than the ${sizeText(state.info.max_upload_bytes)} limit. Split the mailbox into smaller files, or score it on the command line with 'negclass score', which has no limit.`;
  return "";
}

function resetBatch() {
  state.rows = [];
  state.summary = null;
  $("rows").querySelector("tbody").replaceChildren();
  $("batch").hidden = true;
  $("download-btn").disabled = true;
  $("report-btn").disabled = true;
  $("report-status").textContent = "";
  $("table-note").textContent = "";
  $("batch-notes").textContent = "";
  state.texts = 0;
}

function counts() {
  const c = {}, extra = {low: 0, skipped: 0, errors: 0};
  for (const r of state.info.reasons) c[r.id] = 0;
  for (const row of state.rows) {
    if (row.skipped) extra.skipped++;
    else if (row.error) extra.errors++;
    else { c[row.reason] = (c[row.reason] || 0) + 1; if (row.low_confidence) extra.low++; }
  }
  return [c, extra];
}

function drawChart() {
  const [c, extra] = counts();
  const svg = $("chart");
  const ns = "http://www.w3.org/2000/svg";
  const reasons = state.info.reasons;
  const max = Math.max(1, ...Object.values(c));
  // drawn at the element's own pixel width so the text stays readable; labels above the bars on a phone
  const width = Math.max(280, Math.round(svg.getBoundingClientRect().width) || 600);
  const narrow = width < 520;
  const rowH = narrow ? 50 : 34, labelW = narrow ? 0 : 250, barY = narrow ? 22 : 4;
  const barW = width - labelW - 50;
  svg.setAttribute("viewBox", `0 0 ${width} ${reasons.length * rowH + 6}`);
  svg.replaceChildren();
  reasons.forEach((r, i) => {
    const y = i * rowH + 4;
    const w = Math.round((c[r.id] / max) * barW);
    const g = document.createElementNS(ns, "g");
    g.setAttribute("data-reason", r.id);
    const label = document.createElementNS(ns, "text");
    label.setAttribute("x", "0"); label.setAttribute("y", String(y + (narrow ? 14 : 19)));
    label.textContent = !narrow && r.label.length > 34 ? r.label.slice(0, 33) + "…" : r.label;
    const bg = document.createElementNS(ns, "rect");
    bg.setAttribute("x", String(labelW)); bg.setAttribute("y", String(y + barY));
    bg.setAttribute("width", String(barW)); bg.setAttribute("height", "20"); bg.setAttribute("rx", "4");
    bg.setAttribute("fill", "#e7eaef");
    const bar = document.createElementNS(ns, "rect");
    bar.setAttribute("x", String(labelW)); bar.setAttribute("y", String(y + barY));
    bar.setAttribute("width", String(w)); bar.setAttribute("height", "20"); bar.setAttribute("rx", "4");
    bar.setAttribute("fill", REASON_COLORS[r.id] || "#888");
    const num = document.createElementNS(ns, "text");
    num.setAttribute("x", String(labelW + barW + 10)); num.setAttribute("y", String(y + barY + 15));
    num.setAttribute("class", "count");
    num.textContent = String(c[r.id]);
    const title = document.createElementNS(ns, "title");
    title.textContent = `${r.label}: ${c[r.id]}`;
    g.append(title, label, bg, bar, num);
    svg.append(g);
  });
  const parts = [`${state.rows.length.toLocaleString()} message${state.rows.length === 1 ? "" : "s"}`];
  if (extra.low) parts.push(`${extra.low} with low confidence (read those yourself)`);
  if (extra.skipped) parts.push(`${extra.skipped} of your own skipped`);
  if (extra.errors) parts.push(`${extra.errors} could not be read or had no new text`);
  $("batch-notes").textContent = parts.join(" · ");
}

function rowCorrection(row) {
  if (!row.text || row.skipped || row.error) return el("span", {class: "muted", text: "—"});
  const select = el("select", {"aria-label": "The real reason"});
  select.append(el("option", {value: "", text: "real reason…"}));
  for (const r of state.info.reasons) if (r.id !== row.reason) select.append(el("option", {value: r.id, text: r.label}));
  select.addEventListener("change", async () => {
    if (!select.value) return;
    try {
      await saveCorrection(row.text, select.value, null);
      select.replaceWith(el("span", {class: "small", text: "saved: " + reasonInfo(select.value).label}));
    } catch (e) {
      select.replaceWith(el("span", {class: "note-error small", text: e.message}));
    }
  });
  return select;
}

function marked(text, phrases) {
  // the text with each evidence phrase marked where it occurs (case and spacing ignored)
  const node = el("div", {class: "snippet"});
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
  let at = 0;
  for (const [a, b] of spans) {
    if (a < at) continue;
    node.append(text.slice(at, a), el("mark", {text: text.slice(a, b)}));
    at = b;
  }
  node.append(text.slice(at));
  return node;
}

function isFlagged(row) { return !row.error && !row.skipped && row.reason && row.reason !== "none"; }

function rowElement(row) {
  let note = "", noteClass = "";
  if (row.skipped) note = "yours: skipped";
  else if (row.error) { note = row.error; noteClass = "note-error"; }
  else if (row.low_confidence) { note = "low confidence: read it yourself"; noteClass = "note-low"; }
  const evidence = row.evidence ? row.evidence.split(";").map((e) => e.trim()).filter(Boolean) : [];
  const meta = [row.from || "", row.date_utc ? row.date_utc.slice(0, 10) : ""].filter(Boolean).join(" · ");
  const msg = el("td", {class: "msg"},
    el("div", {class: "meta", text: meta}),
    el("div", {class: "subj", text: row.subject || ""}),
    row.snippet ? marked(row.snippet, evidence) : "",
    evidence.length ? el("div", {class: "evidence", text: "Evidence: " + evidence.join(" · ")}) : "");
  const why = el("td", {class: "why"});
  if (row.reason) {
    why.append(el("span", {class: "tag", style: `background:${REASON_COLORS[row.reason] || "#888"}`, title: reasonInfo(row.reason).label, text: row.reason.replace(/_/g, " ")}));
    if (row.confidence !== null && row.confidence !== undefined) why.append(el("span", {class: "conf", text: pct(row.confidence)}));
    if (row.signal) why.append(el("span", {class: "sig", title: signalLabel(row.signal), text: signalLabel(row.signal) || row.signal}));
  }
  if (note) why.append(el("span", {class: "note " + noteClass, text: note}));
  return el("tr", {"data-reason": row.reason || "", "data-index": String(row._index)},
    el("td", {class: "num", text: String(row._index + 1)}), msg, why, el("td", {}, rowCorrection(row)));
}

function drawTable() {
  const flaggedOnly = $("flagged-only").checked;
  const rows = flaggedOnly ? state.rows.filter(isFlagged) : state.rows.slice();
  if ($("sort").value === "likely") {
    // refusals first, most likely first; then the rest by confidence; unread rows last
    const key = (r) => (r.error || r.skipped ? -2 : (isFlagged(r) ? 1 : -1) + (r.confidence || 0));
    rows.sort((a, b) => key(b) - key(a) || a._index - b._index);
  }
  const body = $("rows").querySelector("tbody");
  body.replaceChildren(...rows.slice(0, TABLE_ROWS).map(rowElement));
  const what = flaggedOnly ? `${rows.length.toLocaleString()} flagged of ${state.rows.length.toLocaleString()} messages` : `${rows.length.toLocaleString()} messages`;
  $("table-note").textContent = rows.length > TABLE_ROWS ? `The table shows ${TABLE_ROWS.toLocaleString()} of ${what}; the CSV download and the report have all of them.`
    : (flaggedOnly && !rows.length && state.rows.length ? "No message was flagged as a refusal: untick 'Flagged only' to see them all." : `Showing ${what}.`);
}

let chartPending = false;
function scheduleChart() {
  if (chartPending) return;
  chartPending = true;
  requestAnimationFrame(() => { chartPending = false; drawChart(); drawTable(); });
}

async function upload(event) {
  event.preventDefault();
  const file = $("file").files[0];
  const problemText = checkFile(file);
  show($("upload-error"), problemText);
  if (problemText) return;
  resetBatch();
  const button = $("upload-btn");
  button.disabled = true;
  const progress = $("upload-progress");
  progress.textContent = `Uploading ${file.name} (${sizeText(file.size)})…`;
  const form = new FormData();
  form.append("file", file);
  form.append("text_column", $("text-column").value.trim() || "text");
  form.append("me", $("me").value);
  try {
    let response;
    try {
      response = await fetch("/api/score?format=ndjson&include_text=true", {method: "POST", body: form});
    } catch (e) {
      throw new Error("Cannot reach negclass: is 'negclass serve' still running?");
    }
    if (!response.ok) throw new Error(await problem(response));
    $("batch").hidden = false;
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    const handle = (line) => {
      if (!line.trim()) return;
      const item = JSON.parse(line);
      if (item.columns) state.columns = item.columns;
      else if (item.row) {
        const row = item.row;
        row._index = state.rows.length;
        if (row.text && state.texts < KEEP_TEXTS && !row.error && !row.skipped) state.texts++;
        else delete row.text;  // rows without their text cannot be corrected here; keep memory flat
        state.rows.push(row);
      } else if (item.summary) state.summary = item.summary;
      else if (item.error) throw new Error(item.error);
    };
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, {stream: true});
      const lines = buffer.split("\n");
      buffer = lines.pop();
      for (const line of lines) handle(line);
      progress.textContent = `Scored ${state.rows.length.toLocaleString()} messages…`;
      scheduleChart();
    }
    handle(buffer + decoder.decode());
    drawChart();
    drawTable();
    const s = state.summary;
    progress.textContent = s ? `Done: ${s.rows.toLocaleString()} messages from ${s.filename} in ${s.seconds.toFixed(1)} s.` : "Done.";
    $("download-btn").disabled = $("report-btn").disabled = state.rows.length === 0;
  } catch (e) {
    show($("upload-error"), e.message);
    progress.textContent = state.rows.length ? `Stopped after ${state.rows.length} messages.` : "";
    if (state.rows.length) { drawChart(); drawTable(); $("download-btn").disabled = $("report-btn").disabled = false; }
  } finally {
    button.disabled = false;
  }
}

function csvCell(v) {
  if (v === null || v === undefined) return "";
  const s = String(v === true ? "True" : v === false ? "False" : v);
  return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}

function scoredCSV(withText) {
  const cols = (state.columns.length ? state.columns : state.info.score_columns).slice();
  if (withText && !cols.includes("text")) cols.push("text");
  const lines = [cols.map(csvCell).join(",")];
  for (const row of state.rows) lines.push(cols.map((c) => csvCell(row[c])).join(","));
  return new Blob([lines.join("\r\n") + "\r\n"], {type: "text/csv;charset=utf-8"});
}

function stem() { return ((state.summary && state.summary.filename) || "messages").replace(/\.[^.]*$/, ""); }

function save(blob, name) {
  const a = el("a", {href: URL.createObjectURL(blob), download: name});
  document.body.append(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
}

function downloadCSV() { save(scoredCSV(false), stem() + "-scored.csv"); }

async function downloadReport() {
  // the server turns the scored rows into the same page as 'negclass report'
  const status = $("report-status");
  const button = $("report-btn");
  button.disabled = true;
  status.textContent = "Building the report…";
  const form = new FormData();
  form.append("file", scoredCSV(true), stem() + "-scored.csv");
  try {
    let response;
    try {
      response = await fetch("/api/report", {method: "POST", body: form});
    } catch (e) {
      throw new Error("Cannot reach negclass: is 'negclass serve' still running?");
    }
    if (!response.ok) throw new Error(await problem(response));
    save(await response.blob(), stem() + "-report.html");
    status.textContent = "Report downloaded: open it in any browser, it needs no connection.";
  } catch (e) {
    status.textContent = e.message;
  } finally {
    button.disabled = false;
  }
}

$("upload-form").addEventListener("submit", upload);
window.addEventListener("resize", () => { if (!$("batch").hidden && state.info) scheduleChart(); });
$("download-btn").addEventListener("click", downloadCSV);
$("report-btn").addEventListener("click", downloadReport);
$("flagged-only").addEventListener("change", () => { if (state.rows.length) drawTable(); });
$("sort").addEventListener("change", () => { if (state.rows.length) drawTable(); });
$("file").addEventListener("change", () => show($("upload-error"), checkFile($("file").files[0])));
const drop = $("drop");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  if (e.dataTransfer.files.length) {
    $("file").files = e.dataTransfer.files;
    show($("upload-error"), checkFile($("file").files[0]));
  }
});

loadInfo();
