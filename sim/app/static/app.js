// The seminar page: plays back a precomputed pair of runs (A and B) day by day.
// Reset sends the settings as typed to the server, which checks them and returns both
// whole histories; Step, Play/Pause, "go to day" and the scrubber only redraw what
// changes from one day to the next (ladder marks, counters, map rings, chart clip, news).
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);
const page = {
  setup: null,     // options and sliders (GET /api/setup)
  run: null,       // the history being shown (POST /api/run)
  runForm: null,   // the settings it was computed from
  day: 0,          // the day shown: 0 before the first, else 1..days
  timer: null,     // the play timer, while playing
  busy: false,
  mapDraw: null,   // the map's projection and dynamic layer
};
// for the tests: how long each day's drawing took (ms)
window.escalationTimings = [];

function el(tag, attrs = {}, text = null, ns = null) {
  const node = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== null) node.textContent = text;
  return node;
}
const svgEl = (tag, attrs = {}, text = null) => el(tag, attrs, text, SVG);

function status(text, isError = false) {
  const s = $("status");
  s.textContent = text;
  s.title = text;
  s.classList.toggle("error", isError);
}

async function post(url, body) {
  const response = await fetch(url, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const data = await response.json();
  return { ok: response.ok, data };
}

// ---- the settings form -------------------------------------------------------------

function buildForm(setup) {
  const form = $("form");
  form.replaceChildren();
  const choice = (name, options) => {
    form.append(el("label", { class: "field", for: `f-${name}` }, setup.choices[name]));
    const select = el("select", { id: `f-${name}`, name });
    for (const o of options) select.append(el("option", { value: o }, o));
    form.append(select, el("div", { class: `field-error err-${name}` }));
    return select;
  };
  choice("scenario", setup.scenarios).addEventListener("change", loadPresets);
  choice("doctrine_a", setup.doctrines).addEventListener("change", loadPresets);
  choice("doctrine_b", setup.doctrines);
  form.append(el("label", { class: "field", for: "f-seed" }, "Seed (the same draws on both sides)"));
  form.append(el("input", { id: "f-seed", name: "seed", type: "text", inputmode: "numeric" }));
  form.append(el("div", { class: "field-error err-seed" }));
  form.append(el("p", { class: "note" },
    "The three US sliders edit doctrine A only; the others apply to both sides. " +
    "Type a value in a box or move its slider."));
  for (const k of setup.knobs) {
    const box = el("div", { class: `knob knob-${k.name}` });
    box.append(el("div", { class: "title" }, k.label + (k.us_only ? " (A only)" : "")));
    const line = el("div", { class: "line" });
    const slider = el("input", { type: "range", min: k.lo, max: k.hi, step: k.step, id: `s-${k.name}`,
      "aria-label": k.label });
    const input = el("input", { type: "text", id: `f-${k.name}`, name: k.name, "aria-label": k.label,
      class: `box-${k.name}` });
    slider.addEventListener("input", () => { input.value = trim(Number(slider.value), k.step); });
    input.addEventListener("input", () => {
      const v = Number(input.value.trim());
      if (input.value.trim() !== "" && Number.isFinite(v) && v >= k.lo && v <= k.hi) slider.value = v;
    });
    line.append(slider, input);
    const ends = el("div", { class: "ends" });
    ends.append(el("span", {}, String(k.lo)), el("span", {}, String(k.hi)));
    box.append(line, ends, el("div", { class: `field-error err-${k.name}` }));
    form.append(box);
  }
}

function trim(value, step) {
  const decimals = step >= 1 ? 0 : Math.max(0, Math.ceil(-Math.log10(step) - 1e-9));
  return String(Number(value.toFixed(decimals)));
}

function fillForm(values) {
  for (const [name, value] of Object.entries(values)) {
    const input = $(`f-${name}`);
    if (!input) continue;
    input.value = value;
    const slider = $(`s-${name}`);
    if (slider) slider.value = value;
  }
}

function readForm() {
  // every box as it is now, confirmed with Enter or not
  const form = {};
  for (const node of $("form").querySelectorAll("select, input[type=text]")) form[node.name] = node.value;
  return form;
}

function showErrors(errors) {
  for (const node of document.querySelectorAll("#form .field-error")) node.textContent = "";
  $("form-error").textContent = "";
  for (const [field, message] of Object.entries(errors || {})) {
    const node = document.querySelector(`#form .err-${field}`) || $("form-error");
    node.textContent = message;
  }
}

async function loadPresets() {
  const form = readForm();
  const { ok, data } = await post("/api/presets", { scenario: form.scenario, doctrine_a: form.doctrine_a });
  if (ok) fillForm(data); else showErrors(data.errors);
}

// ---- Reset: both histories from the server ---------------------------------------------

async function reset() {
  if (page.busy) return;
  pause();
  page.busy = true;
  for (const id of ["reset", "apply", "ask"]) $(id).disabled = true;
  status("Computing both runs...");
  const started = performance.now();
  try {
    const typed = readForm();
    const { ok, data } = await post("/api/run", typed);
    if (!ok) {
      showErrors(data.errors);
      $("settings").hidden = false;
      status("Not applied: see the settings. The runs shown are unchanged.", true);
      return;
    }
    showErrors({});
    page.run = data;
    page.runForm = typed; // what the ensemble runs: the settings of the runs shown
    drawRun();
    status(`Both runs ready in ${((performance.now() - started) / 1000).toFixed(2)} s`);
    window.escalationResetMs = performance.now() - started;
  } catch (err) {
    status(`The server did not answer (${err}). Press Reset again.`, true);
  } finally {
    page.busy = false;
    for (const id of ["reset", "apply", "ask"]) $(id).disabled = false;
  }
}

// ---- drawing a whole run once ---------------------------------------------------------------

function drawRun() {
  const run = prepare(page.run);
  const ladder = $("ladder").tBodies[0];
  ladder.replaceChildren();
  for (const [level, name] of [...run.rungs].reverse()) {
    const row = el("tr", { "data-level": level, class: `rung-${level}` });
    row.append(el("td", { class: "mark a" }), el("td", { class: "name" }, `${level}  ${name}`),
      el("td", { class: "mark b" }));
    ladder.append(row);
  }
  const counters = $("counters").tBodies[0];
  counters.replaceChildren();
  for (const [key, label] of Object.entries(run.counters)) {
    const row = el("tr", { class: `counter-${key}` });
    row.append(el("td", {}, label), el("td", { class: `value a A-${key}` }, "0"),
      el("td", { class: `value b B-${key}` }, "0"));
    counters.append(row);
  }
  const differs = $("differs").tBodies[0];
  differs.replaceChildren();
  const head = el("tr");
  head.append(el("td", {}, ""), el("td", { class: "a" }, "A"), el("td", { class: "b" }, "B"));
  differs.append(head);
  for (const [label, a, b] of run.differs) {
    const row = el("tr");
    row.append(el("td", {}, label), el("td", { class: "a" }, a), el("td", { class: "b" }, b));
    differs.append(row);
  }
  const key = $("sides-key");
  key.replaceChildren();
  for (const side of ["A", "B"]) {
    const row = el("div");
    const sw = el("span", { class: "sw", style: `background: var(--${side.toLowerCase()})` });
    row.append(sw, document.createTextNode(`${side}: US ${run.sides[side].doctrine}`));
    key.append(row);
  }
  key.append(el("div", {}, `${run.scenario}, seed ${run.seed}`));
  $("scrub").max = run.days;
  drawMap(run.map);
  drawChart(run);
  show(0);
}

// the map: a plain equirectangular projection, stretched by 1/cos(latitude)
function drawMap(map) {
  const svg = $("map");
  svg.replaceChildren();
  const [lon0, lat0, lon1, lat1] = map.bounds;
  const W = 1000, H = Math.round(W * (lat1 - lat0) * map.aspect / (lon1 - lon0));
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
  const x = (lon) => ((lon - lon0) / (lon1 - lon0)) * W;
  const y = (lat) => ((lat1 - lat) / (lat1 - lat0)) * H;
  const path = (points, close) =>
    points.map(([lo, la], i) => `${i ? "L" : "M"}${x(lo).toFixed(1)},${y(la).toFixed(1)}`).join("") + (close ? "Z" : "");
  const clip = svgEl("clipPath", { id: "map-clip" });
  clip.append(svgEl("rect", { x: 0, y: 0, width: W, height: H }));
  svg.append(clip, svgEl("rect", { x: 0, y: 0, width: W, height: H, fill: "#EAF2F8", stroke: "#999" }));
  const base = svgEl("g", { "clip-path": "url(#map-clip)", class: "basemap" });
  for (const c of map.base.countries)
    for (const ring of c.rings) base.append(svgEl("path", { d: path(ring, true), class: "country", "data-country": c.id }));
  for (const r of map.base.rivers)
    for (const line of r.lines) base.append(svgEl("path", { d: path(line, false), class: "river", "data-river": r.name }));
  for (const route of map.routes) base.append(svgEl("path", { d: path(route.line, false), class: `route ${route.kind}` }));
  svg.append(base);
  const names = svgEl("g", { class: "names" });
  const placed = []; // boxes the site labels keep clear of
  for (const c of map.base.countries) if (c.label) {
    const text = c.name.toUpperCase(), cx = x(c.label[0]), cy = y(c.label[1]);
    names.append(svgEl("text", { x: cx, y: cy, class: "country-name", "text-anchor": "middle",
      "font-size": 36 }, text));
    const w = text.length * 25;
    placed.push({ x0: cx - w / 2, y0: cy - 30, x1: cx + w / 2, y1: cy + 4 });
  }
  for (const r of map.base.rivers) if (r.label) {
    const cx = x(r.label[0]) + 4, cy = y(r.label[1]) - 4;
    names.append(svgEl("text", { x: cx, y: cy, class: "river-name", "font-size": 26 }, r.name));
    placed.push({ x0: cx, y0: cy - 22, x1: cx + r.name.length * 14, y1: cy + 3 });
  }
  svg.append(names);
  const sites = svgEl("g", { class: "sites" });
  for (const s of map.sites) {
    const cx = x(s.lon), cy = y(s.lat);
    const cls = `site ${s.closed ? "closed" : s.side}`;
    let shape;
    if (s.side === "us") shape = svgEl("rect", { x: cx - 9, y: cy - 9, width: 18, height: 18, class: cls });
    else if (s.side === "militia") shape = svgEl("path", { d: `M${cx},${cy - 10}L${cx + 10},${cy + 8}L${cx - 10},${cy + 8}Z`, class: cls });
    else if (s.side === "iran") shape = svgEl("path", { d: `M${cx},${cy - 10}L${cx + 10},${cy}L${cx},${cy + 10}L${cx - 10},${cy}Z`, class: cls });
    else shape = svgEl("circle", { cx, cy, r: 6, class: cls });
    shape.append(svgEl("title", {}, s.label + (s.closed ? " (handed over before the start)" : "")));
    sites.append(shape);
    placed.push({ x0: cx - 11, y0: cy - 11, x1: cx + 11, y1: cy + 11 });
  }
  // labels: the short name where it fits, initials where the sites are dense, the full name on hover
  const labels = svgEl("g", { class: "site-labels" });
  const fontSize = 25, charW = 0.58 * fontSize;
  const overlaps = (b) => b.x0 < 0 || b.x1 > W || b.y0 < 0 || b.y1 > H ||
    placed.some((p) => b.x0 < p.x1 && b.x1 > p.x0 && b.y0 < p.y1 && b.y1 > p.y0);
  const order = [...map.sites].sort((a, b) => (a.side === "us" ? 0 : 1) - (b.side === "us" ? 0 : 1));
  for (const s of order) {
    const cx = x(s.lon), cy = y(s.lat);
    const initials = s.short.split(/[\s-]+/).filter((w) => /^[A-Z0-9]/.test(w)).map((w) => w[0]).join("").slice(0, 4);
    let done = false;
    for (const text of [s.short, initials || s.short.slice(0, 4)]) {
      const w = text.length * charW;
      for (const [dx, anchor, dy] of [[11, "start", 8], [-11, "end", 8], [0, "middle", -12], [0, "middle", 30]]) {
        const left = anchor === "start" ? cx + dx : anchor === "end" ? cx + dx - w : cx - w / 2;
        const box = { x0: left, y0: cy + dy - fontSize + 3, x1: left + w, y1: cy + dy + 3 };
        if (overlaps(box)) continue;
        const label = svgEl("text", { x: cx + dx, y: cy + dy, "text-anchor": anchor, class: "site-label",
          "font-size": fontSize, "data-site": s.name }, text);
        label.append(svgEl("title", {}, s.label));
        labels.append(label);
        placed.push(box);
        done = true;
        break;
      }
      if (done) break;
    }
  }
  svg.append(sites, labels);
  // scale bar, top right
  const barW = (map.scale.degrees / (lon1 - lon0)) * W;
  const scale = svgEl("g", { class: "scale-bar" });
  scale.append(svgEl("rect", { x: W - barW - 24, y: 32, width: barW, height: 8, fill: "#222" }));
  scale.append(svgEl("text", { x: W - barW / 2 - 24, y: 26, "text-anchor": "middle", "font-size": 26 }, `${map.scale.km} km`));
  scale.append(svgEl("text", { x: W - 6, y: H - 6, "text-anchor": "end", "font-size": 18, fill: "#777" },
    "Borders and rivers: Natural Earth"));
  svg.append(scale);
  const hits = svgEl("g", { class: "hits" });
  svg.append(hits);
  page.mapDraw = { x, y, hits };
}

// the A-versus-B chart: the rung each day, drawn once and revealed up to the day shown
function drawChart(run) {
  const svg = $("chart");
  svg.replaceChildren();
  // drawn in the chart's own pixels, so that its text is not stretched (redrawn on resize)
  const W = svg.clientWidth || 1000, H = svg.clientHeight || 150;
  const left = 30, right = 10, top = 26, bottom = 20;
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  const maxRung = run.rungs[run.rungs.length - 1][0];
  const x = (d) => left + (d / run.days) * (W - left - right);
  const y = (r) => top + (1 - r / maxRung) * (H - top - bottom);
  const grid = svgEl("g");
  for (const [level] of run.rungs) {
    grid.append(svgEl("line", { x1: left, x2: W - right, y1: y(level), y2: y(level), stroke: "#EEE" }));
    if (level % 2 === 0 || (H - top - bottom) / maxRung >= 16)
      grid.append(svgEl("text", { x: left - 6, y: y(level) + 5, "text-anchor": "end", "font-size": 15, fill: "#777" }, level));
  }
  svg.append(grid);
  svg.append(svgEl("text", { x: left, y: 18, "font-size": 17, fill: "#333" },
    "Highest rung so far (thick) and each day\u2019s rung (thin): A blue, B orange dashed"));
  const clip = svgEl("clipPath", { id: "chart-clip" });
  const clipRect = svgEl("rect", { x: 0, y: 0, width: left, height: H });
  clip.append(clipRect);
  svg.append(clip);
  const lines = svgEl("g", { "clip-path": "url(#chart-clip)" });
  for (const side of ["A", "B"]) {
    const colour = side === "A" ? "#0072B2" : "#E69F00";
    const step = (values) => {
      let d = `M${x(0)},${y(0)}`;
      values.forEach((r, i) => { d += `V${y(r).toFixed(1)}H${x(i + 1).toFixed(1)}`; });
      return d;
    };
    // the rung of each day's events, thin; the highest so far, thick
    lines.append(svgEl("path", { d: step(run.sides[side].rung), fill: "none", stroke: colour,
      "stroke-width": 1, opacity: 0.45, "vector-effect": "non-scaling-stroke" }));
    lines.append(svgEl("path", { d: step(run.sides[side].highest), fill: "none", stroke: colour,
      "stroke-width": 4, "stroke-dasharray": side === "B" ? "10 6" : "none",
      "vector-effect": "non-scaling-stroke", class: `chart-${side}` }));
  }
  svg.append(lines);
  const cursor = svgEl("line", { y1: top - 4, y2: H - bottom, stroke: "#D55E00", "stroke-width": 2,
    "vector-effect": "non-scaling-stroke" });
  svg.append(cursor);
  for (const [frac, anchor] of [[0, "start"], [1, "end"]]) {
    const day = Math.round(frac * run.days);
    svg.append(svgEl("text", { x: x(day), y: H - 4, "text-anchor": anchor, "font-size": 15, fill: "#777" },
      run.dates[Math.max(0, day - 1)]));
  }
  page.chartDraw = { x, clipRect, cursor };
}

// ---- one day ------------------------------------------------------------------------------

function show(day) {
  const started = performance.now();
  const run = page.run;
  day = Math.max(0, Math.min(run.days, day));
  page.day = day;
  const i = day - 1; // index of the day's record; -1 before the first day
  const date = day ? run.dates[i] : run.dates[0];
  $("day-label").textContent = day ? `Day ${day}, ${date}` : `Before day 1 (${date})`;
  $("scrub").value = day;
  $("goto").value = day;
  const sides = run.sides;
  const rungNow = {}, highest = {};
  for (const side of ["A", "B"]) {
    rungNow[side] = day ? sides[side].rung[i] : 0;
    highest[side] = day ? sides[side].highest[i] : 0;
    for (const key of Object.keys(run.counters)) {
      const value = day ? sides[side].counters[key][i] : 0;
      document.querySelector(`#counters .${side}-${key}`).textContent = value.toLocaleString("en");
    }
  }
  for (const row of $("ladder").tBodies[0].rows) {
    const level = Number(row.dataset.level);
    for (const side of ["A", "B"]) {
      const cell = row.cells[side === "A" ? 0 : 2];
      const s = side.toLowerCase();
      const now = level === rungNow[side];
      cell.className = `mark ${s}` + (now ? ` now-${s}` : level <= highest[side] ? ` reached-${s}` : "");
      cell.textContent = now ? side : "";
    }
    row.classList.toggle("now", level === rungNow.A || level === rungNow.B);
  }
  // the chart, revealed up to this day
  const cx = page.chartDraw.x(day);
  page.chartDraw.clipRect.setAttribute("width", cx);
  page.chartDraw.cursor.setAttribute("x1", cx);
  page.chartDraw.cursor.setAttribute("x2", cx);
  drawHits(day);
  drawNews(day);
  window.escalationTimings.push(performance.now() - started);
  if (window.escalationTimings.length > 2000) window.escalationTimings.splice(0, 1000);
}

// rings on the map: the day's events large, the six days before small and faint
function drawHits(day) {
  const { x, y, hits } = page.mapDraw;
  hits.replaceChildren();
  if (!day) return;
  for (const side of ["A", "B"]) {
    const shift = side === "A" ? -4 : 4;
    for (const e of page.run.sides[side].byDay.slice(Math.max(0, day - 7), day).flat()) {
      if (!e.at) continue;
      const today = e.day === day - 1;
      hits.append(svgEl("circle", { cx: x(e.at[0]) + shift, cy: y(e.at[1]), r: today ? 24 : 13,
        class: `hit ${side.toLowerCase()}${today ? "" : " old"}` }));
    }
  }
}

function drawNews(day) {
  const box = $("news");
  box.replaceChildren();
  if (!day) {
    box.append(el("div", {}, "Press Step or Play to start; Settings to change the scenario."));
    return;
  }
  const run = page.run;
  const head = `Day ${day}, ${run.dates[day - 1]}: `;
  const a = run.sides.A.byDay[day - 1].map((e) => e.text);
  const b = run.sides.B.byDay[day - 1].map((e) => e.text);
  const both = a.filter((t) => b.includes(t));
  const lines = [
    ...both.map((t) => ["A and B", "ab", t]),
    ...a.filter((t) => !both.includes(t)).map((t) => ["A", "a", t]),
    ...b.filter((t) => !both.includes(t)).map((t) => ["B", "b", t]),
  ];
  if (!lines.length) lines.push(["A and B", "ab", "no events"]);
  for (const [tag, cls, text] of lines) {
    const row = el("div", { class: `news-${cls}`, title: head + text });
    row.append(el("span", { class: `tag ${cls}` }, tag), document.createTextNode(head + text));
    box.append(row);
  }
}

// ---- playing ---------------------------------------------------------------------------

function play() {
  if (!page.run) return;
  if (page.day >= page.run.days) show(0);
  $("play").textContent = "Pause";
  const every = 1000 / Number($("speed").value);
  page.timer = setInterval(() => {
    if (page.day >= page.run.days) { pause(); return; }
    show(page.day + 1);
  }, every);
}

function pause() {
  if (page.timer !== null) clearInterval(page.timer);
  page.timer = null;
  $("play").textContent = "Play";
}

function goTo() {
  const text = $("goto").value.trim();
  const days = page.run ? page.run.days : 0;
  if (!/^[0-9]+$/.test(text) || Number(text) > days) {
    $("goto-error").textContent = `"${text}" is not a day here: type a whole number from 0 to ${days}`;
    return;
  }
  $("goto-error").textContent = "";
  pause();
  show(Number(text));
}

// ---- the ensemble -----------------------------------------------------------------------

async function askEnsemble() {
  if (page.busy) return;
  page.busy = true;
  for (const id of ["reset", "apply", "ask"]) $(id).disabled = true;
  status(`Running ${page.setup.replicates} replicates of each side...`);
  const started = performance.now();
  try {
    const { ok, data } = await post("/api/ensemble", page.runForm);
    if (!ok) {
      showErrors(data.errors);
      $("settings").hidden = false;
      status("Not run: see the settings.", true);
      return;
    }
    drawEnsemble(data);
    status(`Ensemble ready in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } catch (err) {
    status(`The server did not answer (${err}).`, true);
  } finally {
    page.busy = false;
    for (const id of ["reset", "apply", "ask"]) $(id).disabled = false;
  }
}

function drawEnsemble(data) {
  $("ensemble-title").textContent =
    `${data.replicates} runs of each side on seed ${data.seed}: where your run (replicate 0, marked) falls`;
  const plots = $("ensemble-plots");
  plots.replaceChildren();
  for (const [key, label] of Object.entries(data.outcomes)) {
    const a = data.sides.A[key], b = data.sides.B[key];
    const hi = Math.max(...a, ...b), lo = Math.min(...a, ...b, 0);
    const bins = Math.min(hi - lo + 1, 20);
    const width = (hi - lo + 1) / bins;
    const bin = (v) => Math.min(bins - 1, Math.floor((v - lo) / width));
    const count = (values) => { const c = new Array(bins).fill(0); values.forEach((v) => c[bin(v)]++); return c; };
    const ca = count(a), cb = count(b);
    const top = Math.max(...ca, ...cb, 1);
    const W = 420, H = 300, L = 36, B = 40, T = 10;
    const svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, class: `hist hist-${key}` });
    const bw = (W - L - 10) / bins;
    for (let i = 0; i < bins; i++) {
      for (const [c, colour, off] of [[ca, "#0072B2", 0], [cb, "#E69F00", 0.5]]) {
        const h = (c[i] / top) * (H - B - T);
        svg.append(svgEl("rect", { x: L + i * bw + off * bw * 0.9, y: H - B - h, width: bw * 0.45, height: h, fill: colour }));
      }
      const v0 = lo + i * width;
      if (bins <= 10 || i % 2 === 0)
        svg.append(svgEl("text", { x: L + (i + 0.5) * bw, y: H - B + 18, "text-anchor": "middle", "font-size": 15 },
          width === 1 ? v0 : `${Math.round(v0)}`));
    }
    for (const [values, colour, side] of [[a, "#0072B2", "A"], [b, "#B07800", "B"]]) {
      const mine = values[0];
      const mx = L + (bin(mine) + 0.5) * bw;
      svg.append(svgEl("path", { d: `M${mx},${T}V${H - B}`, stroke: colour, "stroke-width": 3, "stroke-dasharray": "6 4",
        class: `mine mine-${side}` }));
      svg.append(svgEl("text", { x: mx + 4, y: T + 16 + (side === "B" ? 20 : 0), "font-size": 16, fill: colour },
        `your ${side}: ${mine}`));
    }
    svg.append(svgEl("text", { x: W / 2, y: H - 4, "text-anchor": "middle", "font-size": 16 }, label));
    const median = (v) => [...v].sort((p, q) => p - q)[Math.floor(v.length / 2)];
    const share = (v, mine) => Math.round((100 * v.filter((x) => x < mine).length) / v.length);
    const box = el("div");
    box.append(el("div", { class: "title" }, label));
    box.append(svg);
    box.append(el("div", { class: "summary" },
      `Median A ${median(a)}, B ${median(b)}. Your A is above ${share(a, a[0])}% of A's runs; ` +
      `your B above ${share(b, b[0])}% of B's.`));
    plots.append(box);
  }
  $("ensemble").hidden = false;
}

// ---- start ----------------------------------------------------------------------------

function prepare(run) {
  // per side: each day's events and the highest rung so far, indexed by day
  for (const side of Object.values(run.sides)) {
    side.byDay = Array.from({ length: run.days }, () => []);
    for (const e of side.events) side.byDay[e.day].push(e);
    let top = 0;
    side.highest = side.rung.map((r) => (top = Math.max(top, r)));
  }
  return run;
}

async function start() {
  const response = await fetch("/api/setup");
  page.setup = await response.json();
  buildForm(page.setup);
  fillForm(page.setup.form);
  $("reset").addEventListener("click", reset);
  $("apply").addEventListener("click", reset);
  $("step").addEventListener("click", () => { pause(); if (page.run) show(page.day + 1); });
  $("play").addEventListener("click", () => (page.timer === null ? play() : pause()));
  $("speed").addEventListener("change", () => { if (page.timer !== null) { pause(); play(); } });
  $("scrub").addEventListener("input", () => { pause(); show(Number($("scrub").value)); });
  $("go").addEventListener("click", goTo);
  $("goto").addEventListener("keydown", (e) => { if (e.key === "Enter") goTo(); });
  $("settings-toggle").addEventListener("click", () => { $("settings").hidden = !$("settings").hidden; });
  $("presets").addEventListener("click", loadPresets);
  $("ask").addEventListener("click", askEnsemble);
  $("ensemble-close").addEventListener("click", () => { $("ensemble").hidden = true; });
  window.addEventListener("resize", () => { if (page.run) { drawChart(page.run); show(page.day); } });
  await reset();
  document.body.dataset.ready = "1";
}

start();
