// The wargame page: start or join a game, play a day or until the next decision, decide
// from the menu, and read the debrief. The server keeps the game; this page asks for it.
"use strict";

const $ = (id) => document.getElementById(id);
const game = { code: null, token: null, role: null, shownMenu: null, poll: null, ended: false };
const ROLE_NAMES = { us: "the US command", iran: "Iran" };

function say(text) { $("message").textContent = text || ""; }

function refused(status, data) {
  if (data && data.error) return data.error;
  if (data && data.errors) return Object.entries(data.errors).map(([k, v]) => `${k}: ${v}`).join("; ");
  return `the server answered ${status}`;
}

async function ask(method, path, body) {
  const options = { method, headers: { "content-type": "application/json" } };
  if (body !== undefined) options.body = JSON.stringify(body);
  let response;
  try { response = await fetch(path, options); } catch (err) { throw new Error("the server cannot be reached"); }
  let data = null;
  try { data = await response.json(); } catch (err) { data = null; }
  if (!response.ok) throw new Error(refused(response.status, data));
  return data;
}

function busy(on) {
  for (const id of ["next-day", "next-decision", "end", "decide", "start", "join"]) $(id).disabled = on;
}

async function act(what, body) {
  busy(true);
  try {
    const view = await ask("POST", `/api/game/${game.code}/${what}`, { token: game.token, ...body });
    say("");
    render(view);
  } catch (err) {
    say(err.message);
  } finally {
    busy(false);
  }
}

async function setup() {
  const data = await ask("GET", "/api/setup");
  for (const s of data.scenarios) $("scenario").add(new Option(s, s, false, s === data.form.scenario));
  for (const d of data.doctrines) $("doctrine").add(new Option(d, d));
  document.body.dataset.ready = "1";
}

function entered(view) {
  game.code = view.code;
  $("setup").hidden = true;
  $("board").hidden = false;
  $("code-box").hidden = false;
  $("code").textContent = view.code;
  $("who").textContent = `We play ${ROLE_NAMES[game.role]}`;
  for (const id of ["next-day", "next-decision", "end"]) $(id).hidden = false;
  game.poll = setInterval(look, 1000);
}

async function start() {
  busy(true);
  try {
    const made = await ask("POST", "/api/game", {
      scenario: $("scenario").value, doctrine: $("doctrine").value, seed: $("seed").value,
      play: $("play").value, other: $("other").value, timer: $("timer").value,
    });
    Object.assign(game, { token: made.token, role: made.role });
    entered(made);
    say("");
    await look();
  } catch (err) { say(err.message); } finally { busy(false); }
}

async function join() {
  busy(true);
  try {
    const code = $("join-code").value.trim();
    const made = await ask("POST", `/api/game/${encodeURIComponent(code)}/join`, { role: $("join-role").value });
    Object.assign(game, { token: made.token, role: made.role });
    entered(made);
    say("");
    await look();
  } catch (err) { say(err.message); } finally { busy(false); }
}

async function look() {
  if (!game.code || game.ended) return;
  try {
    render(await ask("GET", `/api/game/${game.code}?token=${encodeURIComponent(game.token)}`));
  } catch (err) { say(err.message); }
}

function row(cells, tag = "td") {
  const tr = document.createElement("tr");
  for (const c of cells) {
    const td = document.createElement(tag);
    if (Array.isArray(c)) c.forEach((line) => { const d = document.createElement("div"); d.textContent = line; td.append(d); });
    else td.textContent = c;
    tr.append(td);
  }
  return tr;
}

function render(view) {
  if (view.ended && view.debrief) return debrief(view);
  $("day").textContent = `Day ${view.day} of ${view.days}: ${view.date}`;
  const labels = { attacks: "Militia attacks", killed_us: "US killed", wounded_us: "US wounded",
                   us_strikes: "US strikes", highest_rung: "Highest rung" };
  $("so-far").tBodies[0].replaceChildren(...Object.entries(labels).map(([k, l]) => row([l, view.so_far[k]])));
  $("decisions").replaceChildren(...view.decisions.map((d) => {
    const li = document.createElement("li");
    li.textContent = `${d.date}, ${ROLE_NAMES[d.role]}: ${d.said}${d.timed_out ? " (time ran out)" : ""}`;
    return li;
  }));
  $("news").replaceChildren(...view.news.slice().reverse().map((n) => {
    const div = document.createElement("div");
    const date = document.createElement("span");
    date.className = "date"; date.textContent = n.date;
    div.append(date, n.text);
    return div;
  }));
  const p = view.pending;
  const mine = p && p.role === game.role;
  $("waiting").hidden = !p || mine;
  if (p && !mine) $("waiting").textContent = `Waiting for ${ROLE_NAMES[p.role]} to decide...`;
  $("next-day").disabled = $("next-decision").disabled = Boolean(p);
  if (!mine) { $("decision").hidden = true; game.shownMenu = null; return; }
  $("decision").hidden = false;
  $("clock").textContent = p.seconds_left == null ? "" : `${Math.ceil(p.seconds_left)} s left`;
  const key = `${p.point}:${p.menu.day}`;
  if (game.shownMenu === key) return;  // keep what the team has ticked
  game.shownMenu = key;
  const titles = { us_response: "The US command decides: today's attacks",
                   iran: "Iran decides", us_war: "The US command decides: Iranian missiles" };
  $("decision-title").textContent = `${titles[p.point]} (${p.menu.date})`;
  $("menu-events").replaceChildren(...p.menu.events.map((e) => {
    const li = document.createElement("li"); li.textContent = e.text; return li;
  }));
  $("menu-fields").replaceChildren(...Object.entries(p.menu.fields).map(([name, options]) => {
    const set = document.createElement("fieldset");
    const legend = document.createElement("legend");
    legend.textContent = { act: "Act", green: "Green light to the proxies", supply: "Supply",
                           answer: "Answer" }[name] || name;
    set.append(legend);
    for (const o of options) {
      const label = document.createElement("label");
      const input = document.createElement("input");
      Object.assign(input, { type: "radio", name, value: o.id, checked: p.menu.defaults[name] === o.id });
      label.append(input, " ", o.label);
      set.append(label);
    }
    return set;
  }));
}

function decide(event) {
  event.preventDefault();
  const choice = {};
  for (const input of $("menu-fields").querySelectorAll("input:checked")) choice[input.name] = input.value;
  act("decide", { choice });
}

function debrief(view) {
  game.ended = true;
  clearInterval(game.poll);
  const d = view.debrief;
  $("board").hidden = true;
  for (const id of ["next-day", "next-decision", "end"]) $(id).hidden = true;
  $("debrief").hidden = false;
  $("debrief-title").textContent = `Debrief: ${d.scenario}, seed ${d.seed} (${d.roles.join(" and ")} played)`;
  const q = `?token=${encodeURIComponent(game.token)}`;
  const base = `/api/game/${game.code}/`;
  $("debrief-files").innerHTML = "";
  for (const [name, label] of [["debrief.png", "Figure (PNG)"], ["handout.md", "Handout (markdown)"], ["log.csv", "Game log (CSV)"]]) {
    const a = document.createElement("a");
    a.href = base + name + q; a.textContent = label; a.download = `game-${game.code}-${name}`;
    $("debrief-files").append(a, " ");
  }
  $("debrief-png").src = base + "debrief.png" + q;
  const e = d.end;
  $("ends").tBodies[0].replaceChildren(
    ...[["outcome", "Outcome"], ["highest_rung", "Highest rung"], ["attacks", "Militia attacks"], ["killed_us", "US killed"]]
      .map(([k, l]) => row([l, e.game[k], e.doctrine[k]])));
  $("debrief-decisions").tBodies[0].replaceChildren(...d.decisions.map((x) => row([
    x.date, x.role, x.choice, x.doctrine_did.length ? x.doctrine_did : ["nothing"],
    `${x.game_after.attacks} / ${x.doctrine_after.attacks}`,
    `${x.game_after.killed_us} / ${x.doctrine_after.killed_us}`,
    `${x.game_after.us_strikes} / ${x.doctrine_after.us_strikes}`,
    `${x.game_after.highest_rung} / ${x.doctrine_after.highest_rung}`,
  ])));
  $("timeline").tBodies[0].replaceChildren(...d.timeline.map((t) => row([t.date, t.game, t.doctrine])));
}

$("start").addEventListener("click", start);
$("join").addEventListener("click", join);
$("next-day").addEventListener("click", () => act("advance", { until: "day" }));
$("next-decision").addEventListener("click", () => act("advance", { until: "decision" }));
$("end").addEventListener("click", () => act("end", {}));
$("decision").addEventListener("submit", decide);
setup().catch((err) => say(err.message));
