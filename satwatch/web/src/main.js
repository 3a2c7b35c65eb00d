// satwatch's page: a world map (Natural Earth, from the world-atlas package)
// with sites, current positions, ground tracks and footprints of chosen
// objects; a site's next passes on a timeline; conjunctions; the feed of
// alerts, manoeuvres, new objects and launches; a reported event's arc, impact
// point and economic zones.  Every request goes to this service's /api/v1.
import { geoArea, geoNaturalEarth1, geoPath, geoGraticule10, geoCircle } from "d3-geo";
import { feature } from "topojson-client";
import world from "world-atlas/countries-110m.json";

const API = "/api/v1";
const params = new URLSearchParams(location.search);
const AT = params.get("at");                // a fixed time (UTC ISO) instead of now
const svgNS = "http://www.w3.org/2000/svg";
const W = 960, H = 480;
const projection = geoNaturalEarth1().fitExtent([[4, 4], [W - 4, H - 4]], { type: "Sphere" });
const path = geoPath(projection);
const layers = {};
const state = { sites: [], siteCode: null, ids: "", minEl: 0, eventSeq: 0, eventId: null };

function el(name, attrs = {}, parent = null) {
  const node = document.createElementNS(svgNS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

function withAt(url, key = "at") {
  if (!AT) return url;
  return url + (url.includes("?") ? "&" : "?") + key + "=" + encodeURIComponent(AT);
}

async function api(url) {
  const resp = await fetch(API + url, { headers: { Accept: "application/json" } });
  const body = await resp.json().catch(() => ({}));
  if (!resp.ok) {
    const err = new Error((body.error && body.error.message) || `HTTP ${resp.status}`);
    err.status = resp.status;
    throw err;
  }
  return body;
}

function status(id, text, isError = false) {
  const node = document.getElementById(id);
  node.textContent = text;
  node.classList.toggle("error", isError);
}

function explain(err) {
  return err.status === 501 ? "not available in this installation" : err.message;
}

// -- the map -------------------------------------------------------------------
function drawBase() {
  const svg = document.getElementById("map");
  el("path", { class: "sphere", d: path({ type: "Sphere" }) }, svg);
  el("path", { class: "graticule", d: path(geoGraticule10()) }, svg);
  const countries = el("g", { id: "countries" }, svg);
  for (const f of feature(world, world.objects.countries).features) {
    const d = path(f);
    if (d) el("path", { class: "country", d, "data-name": f.properties.name || "" }, countries);
  }
  for (const name of ["zones", "sites", "footprints", "tracks", "positions", "event"]) {
    layers[name] = el("g", { id: `layer-${name}` }, svg);
  }
  svg.setAttribute("data-drawn", "true");
}

function dot(layer, lon, lat, r, cls, title) {
  const p = projection([lon, lat]);
  if (!p) return null;
  const c = el("circle", { cx: p[0].toFixed(1), cy: p[1].toFixed(1), r, class: cls }, layer);
  if (title) el("title", {}, c).textContent = title;
  return c;
}

function drawSites() {
  clear(layers.sites);
  for (const s of state.sites) {
    const c = dot(layers.sites, s.lon_deg, s.lat_deg, 3.5,
                  "site" + (s.code === state.siteCode ? " site-selected" : ""), `${s.name} (${s.code})`);
    if (c) c.addEventListener("click", () => selectSite(s.code));
  }
}

// -- objects: positions, tracks, footprints --------------------------------------
// The form as submitted (Show, or ?ids= at start): what the panels and the
// 10 s refresh show, never the field while it is being typed.
function readForm() {
  // ids separated by commas, spaces or semicolons (a pasted list): never run
  // together ("25544 48274" is two objects, not 2554448274); each one encoded
  state.ids = document.getElementById("ids").value.split(/[\s,;]+/).filter(Boolean)
    .map(encodeURIComponent).join(",");
  state.minEl = Number(document.getElementById("min-el").value) || 0;
}

async function showObjects() {
  const ids = state.ids, minEl = state.minEl;
  const clearObjects = () => {
    clear(layers.tracks); clear(layers.footprints); clear(layers.positions);
    clear(document.querySelector("#positions tbody"));
  };
  if (!ids) { clearObjects(); status("objects-status", ""); return; }
  status("objects-status", "loading…");
  try {
    const [pos, tracks, fps] = await Promise.all([
      api(withAt(`/positions?ids=${ids}`)),
      api(withAt(`/tracks?ids=${ids}&duration_s=5400&step_s=60`, "start")),
      api(withAt(`/footprints?ids=${ids}&min_elevation_deg=${minEl}`)),
    ]);
    clearObjects();
    for (const t of tracks.tracks) {
      // one line per run of positions: a missing one (SGP4 failed there) is a gap,
      // never a straight line across it
      const runs = [];
      let run = [];
      t.lon_deg.forEach((lon, i) => {
        if (lon === null) {
          if (run.length > 1) runs.push(run);
          run = [];
        } else {
          run.push([lon, t.lat_deg[i]]);
        }
      });
      if (run.length > 1) runs.push(run);
      if (runs.length) {
        el("path", { class: "track", d: path({ type: "MultiLineString", coordinates: runs }),
                     "data-norad": t.norad_id }, layers.tracks);
      }
    }
    for (const f of fps.footprints) {
      if (f.radius_deg === null) continue;
      const circle = geoCircle().center([f.lon_deg, f.lat_deg]).radius(f.radius_deg)();
      el("path", { class: "footprint", d: path(circle), "data-norad": f.norad_id }, layers.footprints);
    }
    const body = document.querySelector("#positions tbody");
    pos.norad_id.forEach((n, i) => {
      if (pos.lat_deg[i] !== null) {
        dot(layers.positions, pos.lon_deg[i], pos.lat_deg[i], 4, "position", `${pos.name[i]} (${n})`);
      }
      const tr = document.createElement("tr");
      const why = pos.error_text[i] || "";      // not drawn: say why (the API's words)
      for (const v of [n, pos.name[i], pos.lat_deg[i], pos.lon_deg[i], pos.alt_km[i], pos.age_days[i], why]) {
        const td = document.createElement("td"); td.textContent = v === null ? "—" : v; tr.appendChild(td);
      }
      body.appendChild(tr);
    });
    const bad = pos.error.filter((code) => code !== 0).length;
    status("objects-status", `at ${pos.at}` + (bad ? `; ${bad} of ${pos.error.length} objects `
      + "could not be propagated (not on the map; see the table)" : ""), bad > 0);
  } catch (err) {
    // what is drawn would read as the objects asked for: show none of them
    clearObjects();
    status("objects-status", explain(err), true);
  }
}

// The form's Show: the chosen objects' positions, and their passes over the
// selected site and their conjunctions (those panels are about the same objects).
async function showChosen() {
  readForm();
  await showObjects();
  await Promise.all([state.siteCode ? selectSite(state.siteCode) : null, showConjunctions()]);
}

// -- a site's next passes ------------------------------------------------------------
async function selectSite(code) {
  state.siteCode = code;
  document.getElementById("site-select").value = code;
  drawSites();
  const svg = document.getElementById("timeline");
  clear(svg);
  if (!state.ids) return;
  status("passes-status", "loading passes…");
  try {
    const res = await api(withAt(`/sites/${encodeURIComponent(code)}/passes?ids=${state.ids}&hours=24`, "start"));
    drawTimeline(svg, res);
    // objects SGP4 could not propagate have no passes: say so, or "0 passes"
    // reads as "not over this site"
    const failed = (res.failed || []).map((f) => `${f.name || f.norad_id} (${f.norad_id}): ${f.error}`);
    status("passes-status", `${res.passes.length} passes in the next ${res.hours} h`
      + (failed.length ? `; no passes computed for ${failed.join("; ")}` : ""), failed.length > 0);
  } catch (err) {
    status("passes-status", explain(err), true);
  }
}

// One labelled row per object with passes (its NORAD id: names repeat, e.g.
// "SCOUT X-1 DEB"), bars on a 24 h axis; the box grows with the rows.
function drawTimeline(svg, res) {
  const LEFT = 112, RIGHT = 410, TOP = 6, ROW = 12;
  const t0 = Date.parse(res.start), t1 = t0 + res.hours * 3600e3;
  const x = (t) => LEFT + (RIGHT - LEFT) * (Date.parse(t) - t0) / (t1 - t0);
  const rows = new Map();
  for (const p of res.passes) if (!rows.has(p.norad_id)) rows.set(p.norad_id, { i: rows.size, name: p.name });
  const axisY = TOP + ROW * Math.max(rows.size, 1) + 4;
  svg.setAttribute("viewBox", `0 0 420 ${axisY + 14}`);
  for (const [norad, row] of rows) {
    const label = `${norad} ${row.name || ""}`;
    const text = el("text", { x: 4, y: TOP + ROW * row.i + 8, class: "timeline-label timeline-row",
                              "data-norad": norad }, svg);
    text.textContent = label.length > 22 ? label.slice(0, 21) + "…" : label;
    el("title", {}, text).textContent = label;
  }
  el("line", { x1: LEFT, x2: RIGHT, y1: axisY, y2: axisY, class: "timeline-axis" }, svg);
  for (let h = 0; h <= res.hours; h += 6) {
    const xx = LEFT + (RIGHT - LEFT) * h / res.hours;
    el("text", { x: xx, y: axisY + 10, class: "timeline-label",
                 "text-anchor": h === 0 ? "start" : (h + 6 > res.hours ? "end" : "middle") },
       svg).textContent = `+${h}h`;
  }
  res.passes.forEach((p) => {
    const y = TOP + ROW * rows.get(p.norad_id).i;
    const x0 = Math.max(LEFT, x(p.rise)), x1 = Math.min(RIGHT, x(p.set));
    const bar = el("rect", { class: "pass-bar", x: x0.toFixed(1), y, "data-norad": p.norad_id,
      width: Math.max(2, x1 - x0).toFixed(1), height: ROW - 3 }, svg);
    el("title", {}, bar).textContent =
      `${p.name || ""} (${p.norad_id}): ${p.rise} – ${p.set}, max ${p.max_elevation_deg}°`;
  });
}

// -- lists -------------------------------------------------------------------------------
async function showConjunctions() {
  const body = document.querySelector("#conjunctions tbody");
  clear(body);
  try {
    if (!state.ids) { status("conjunctions-status", ""); return; }
    const res = await api(withAt(`/conjunctions?ids=${state.ids}&hours=6&threshold_km=10&limit=50`, "start"));
    for (const c of res.items) {
      const tr = document.createElement("tr");
      for (const v of [c.tca, `${c.name_1 || c.norad_id_1} × ${c.name_2 || c.norad_id_2}`, c.miss_km]) {
        const td = document.createElement("td"); td.textContent = v; tr.appendChild(td);
      }
      body.appendChild(tr);
    }
    status("conjunctions-status", `${res.total} conjunctions under 10 km in the next 6 h`);
  } catch (err) {
    status("conjunctions-status", explain(err), true);
  }
}

async function showFeed() {
  try {
    const res = await api(`/feed?limit=50`);
    const list = document.getElementById("feed");
    clear(list);
    for (const item of res.items) {
      const li = document.createElement("li");
      li.textContent = `${item.time} · ${item.kind} · ${item.message}`;
      li.dataset.kind = item.kind;
      list.appendChild(li);
    }
    status("feed-status", res.items.length ? "" : "nothing yet");
  } catch (err) {
    status("feed-status", explain(err), true);
  }
}

// An event reported by date only (flag time_unknown) comes with a placeholder
// time (noon UTC): show its date, never that time.
function eventTime(ev) {
  const unknown = (ev.flags || []).includes("time_unknown");
  if (unknown || !ev.time) return ev.date ? `${ev.date} (time unknown)` : "";
  return ev.time;
}

const EVENTS_PAGE = 100;

function eventItem(ev) {
  const li = document.createElement("li");
  li.textContent = `${eventTime(ev)} ${ev.name}`;
  li.dataset.id = ev.id;
  if (ev.id === state.eventId) li.classList.add("selected");
  li.addEventListener("click", () => showEvent(ev.id));
  return li;
}

// The newest page of events first; "older events" appends the next page, so
// that every event the API lists can be reached (the list said 339 and showed 100).
async function showEvents(more = false) {
  const list = document.getElementById("events");
  const button = document.getElementById("events-more");
  const offset = more ? list.children.length : 0;
  button.disabled = true;
  try {
    const res = await api(`/events?limit=${EVENTS_PAGE}&offset=${offset}`);
    if (!more) clear(list);
    const shown = new Set(Array.from(list.children, (li) => li.dataset.id));
    for (const ev of res.items) if (!shown.has(ev.id)) list.appendChild(eventItem(ev));
    const n = list.children.length;
    status("events-status", n < res.total ? `${res.total} events (newest ${n} shown)` : `${res.total} events`);
    button.hidden = !(n < res.total && res.items.length > 0);
    const wanted = params.get("event");
    if (wanted && !more) showEvent(wanted);
  } catch (err) {
    status("events-status", explain(err), true);
  } finally {
    button.disabled = false;
  }
}

// GeoJSON (RFC 7946) winds outer rings anticlockwise; d3-geo reads that as
// "everything but the polygon".  Rewind any polygon larger than a hemisphere.
function rewind(feature) {
  const g = feature.geometry;
  if (!g) return feature;
  const fix = (poly) => (geoArea({ type: "Polygon", coordinates: poly }) > 2 * Math.PI
    ? poly.map((ring) => ring.slice().reverse()) : poly);
  if (g.type === "Polygon") g.coordinates = fix(g.coordinates);
  else if (g.type === "MultiPolygon") g.coordinates = g.coordinates.map(fix);
  return feature;
}

async function showEvent(id) {
  const seq = ++state.eventSeq;          // a later click wins over a slower answer
  state.eventId = String(id);
  const detail = document.getElementById("event-detail");
  clear(layers.event); clear(layers.zones);
  detail.textContent = "loading…";
  detail.classList.remove("error");
  for (const li of document.querySelectorAll("#events li")) {
    li.classList.toggle("selected", li.dataset.id === String(id));
  }
  try {
    const ev = await api(`/events/${encodeURIComponent(id)}/analysis`);
    if (seq !== state.eventSeq) return;
    for (const z of (ev.zones && ev.zones.features) || []) {
      const props = z.properties || {};
      el("path", { class: "zone" + (props.hit ? " zone-hit" : ""), d: path(rewind(z)),
                   "data-name": props.name || "" }, layers.zones);
    }
    // Without a reported bearing the impact is a ring and the API's arc is only
    // the core's due-east example profile: drawing it would read as the flight path.
    const bearingKnown = !(ev.analysis && ev.analysis.bearing_known === false);
    if (ev.arc && bearingKnown) el("path", { class: "arc", d: path(ev.arc) }, layers.event);
    if (ev.impact_ring) {
      const ring = el("path", { class: "arc impact-ring", d: path(ev.impact_ring) }, layers.event);
      el("title", {}, ring).textContent = "possible impact points (bearing unknown)";
    }
    if (ev.impact) dot(layers.event, ev.impact.lon_deg, ev.impact.lat_deg, 5, "impact", "impact point");
    if (ev.launch) dot(layers.event, ev.launch.lon_deg, ev.launch.lat_deg, 4, "site site-selected", "launch point");
    detail.textContent = ev.summary || "";
  } catch (err) {
    if (seq !== state.eventSeq) return;
    detail.textContent = explain(err);
    detail.classList.add("error");
  }
}

// -- start ------------------------------------------------------------------------------------
async function start() {
  drawBase();
  if (params.get("ids")) document.getElementById("ids").value = params.get("ids");
  document.getElementById("objects-form").addEventListener("submit", (e) => { e.preventDefault(); showChosen(); });
  try {
    const cat = await api("/catalog");
    document.getElementById("catalog-info").textContent =
      `${cat.objects} objects · ${cat.source || ""} · median epoch ${cat.epoch_median || "—"}`;
  } catch (err) {
    document.getElementById("catalog-info").textContent = explain(err);
  }
  try {
    state.sites = (await api("/sites?limit=500")).items;
  } catch (err) { state.sites = []; }
  const select = document.getElementById("site-select");
  for (const s of state.sites) {
    const o = document.createElement("option"); o.value = s.code; o.textContent = `${s.name} (${s.code})`;
    select.appendChild(o);
  }
  select.addEventListener("change", () => selectSite(select.value));
  document.getElementById("events-more").addEventListener("click", () => showEvents(true));
  drawSites();
  readForm();
  await showObjects();
  const site = params.get("site") || (state.sites[0] && state.sites[0].code);
  await Promise.all([site ? selectSite(site) : null, showConjunctions(), showFeed(), showEvents()]);
  document.body.dataset.ready = "true";
  if (!AT) setInterval(showObjects, 10000);
  setInterval(showFeed, 30000);
}

start();
