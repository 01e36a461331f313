/*
 * revokd incident console (docs/CONSOLE.md).
 *
 * Talks only to its own origin: the admin API under /admin/v1/ with the
 * admin token as "Authorization: Bearer", and /metrics (no token).
 * The token lives in one variable of this script, nowhere else: no
 * cookie, no storage; reloading the page forgets it.
 *
 * Every value that comes from the server is put in the page as text
 * (textContent, text nodes): nothing here parses HTML or builds markup
 * from strings, so an ID or a reason can never become markup.
 */
"use strict";

(function () {
  const POLL_MS = 5000;
  const HISTORY_MS = 10 * 60 * 1000;
  const PAGE = 50;
  const FIELD = { token: "jti", session: "sid", subject: "sub", key: "kid" };
  const HELP = {
    subject: "Denies every token of this subject issued up to now.",
    session: "Denies every token of this session issued up to now.",
    token: "Denies this one token (its jti).",
    key: "Denies every token signed with this key, whatever its age, until the revocation is lifted. Asks for confirmation.",
    issuer: "Denies every token of this issuer issued up to now: everybody logs in again. Asks for confirmation.",
  };

  let token = null;          // the admin token: memory only
  let issuers = [];
  let pollTimer = null;
  let lastSample = null;     // previous /metrics counters
  let history = [];          // {t, allow, deny}
  let lastRates = { allow: null, deny: null, hit: null };
  let jwksLast = {};         // issuer -> last fetch outcome seen
  let cursor = null;         // next page of the current listing
  let listing = null;        // {type, iss} of the current listing

  const $ = (id) => document.getElementById(id);

  /* el("p", {class: "x"}, "text", child...): strings become text nodes.
   * Attributes that load or run something are refused outright, so no
   * value can ever become a URL or a handler. */
  const UNSAFE_ATTR = /^(on|href$|src|action$|formaction$|style$)/i;
  function el(tag, attrs, ...kids) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (UNSAFE_ATTR.test(k)) throw new Error("el: attribute " + k + " refused");
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") n.className = v;
      else n.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of kids) {
      if (c === null || c === undefined || c === false) continue;
      n.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return n;
  }

  function setText(id, text, cls) {
    const n = $(id);
    n.textContent = text;
    if (cls !== undefined) n.className = cls;
  }

  /* ---------------------------------------------------------------- API */

  class ApiError extends Error {
    constructor(status, msg) { super(msg); this.status = status; }
  }

  async function api(method, path, body) {
    const headers = { Authorization: "Bearer " + token, Accept: "application/json" };
    const init = { method, headers, cache: "no-store", credentials: "omit", redirect: "error" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let r;
    try {
      r = await fetch(path, init);
    } catch (e) {
      throw new ApiError(0, "revokd cannot be reached");
    }
    if (r.status === 204) return null;
    let doc = null;
    try { doc = await r.json(); } catch (e) { doc = null; }
    if (!r.ok) {
      const why = doc && (doc.error_description || doc.error);
      if (r.status === 401 && token !== null)
        lockOut("revokd refused the admin token (401): it may have been rotated. Paste the current one.");
      throw new ApiError(r.status, why ? `${r.status}: ${why}` : `HTTP ${r.status}`);
    }
    return doc;
  }

  function onePath(type, id, iss) {
    return "/admin/v1/revocations/" + encodeURIComponent(type) + "/" +
      (type === "issuer" ? "" : encodeURIComponent(id)) +
      "?iss=" + encodeURIComponent(iss);
  }

  /* -------------------------------------------------------- formatting */

  function utc(sec) {
    if (sec === null || sec === undefined) return "–";
    return new Date(sec * 1000).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
  }

  function span(sec) {
    const s = Math.abs(Math.round(sec));
    if (s < 90) return s + " s";
    if (s < 90 * 60) return Math.round(s / 60) + " min";
    if (s < 48 * 3600) return (s / 3600).toFixed(1) + " h";
    return Math.round(s / 86400) + " days";
  }

  function timeLeft(expires) {
    if (expires === null || expires === undefined) return "never expires: lasts until lifted";
    const left = expires - Date.now() / 1000;
    return left > 0 ? span(left) + " left" : "expired " + span(left) + " ago";
  }

  function fmtRate(v) {
    if (v === null || !isFinite(v)) return "–";
    return v >= 100 ? Math.round(v).toLocaleString("en-US") : v.toFixed(1);
  }

  /* ------------------------------------------------------ revocations */

  /* The per-source contributions, when the API gives more than one
   * ("sources"); one source (or none given) is the "revoked ... by" line. */
  function sourceList(rv) {
    if (!Array.isArray(rv.sources) || rv.sources.length < 2) return null;
    const ul = el("ul", { class: "sources", "aria-label": "sources" });
    for (const s of rv.sources) {
      const inForce = s.source === rv.source && s.revoked_at === rv.revoked_at;
      ul.append(el("li", null,
        el("span", { class: "src" }, s.source || "unknown"),
        "revoked " + utc(s.revoked_at),
        " · " + (s.expires_at === null || s.expires_at === undefined ? "no expiry" : "until " + utc(s.expires_at)),
        s.reason ? " · reason: " + s.reason : " · no reason given",
        inForce ? el("span", { class: "in-force" }, "in force") : null));
    }
    return el("div", { class: "src-block" }, el("p", { class: "src-h" }, "Sources (" + rv.sources.length + ")"), ul);
  }

  function revCard(rv) {
    const expired = rv.expires_at !== null && rv.expires_at !== undefined && rv.expires_at < Date.now() / 1000;
    const lift = el("button", { type: "button", class: "small outline-danger" }, "Lift");
    lift.setAttribute("aria-label", "Lift the " + rv.type + " revocation " + (rv.type === "issuer" ? "of " + rv.iss : rv.id));
    lift.addEventListener("click", () => liftOne(rv, card));
    const dl = el("dl", null,
      el("dt", null, "issuer"), el("dd", { class: "mono" }, rv.iss),
      el("dt", null, "reason"), el("dd", null, rv.reason === null || rv.reason === undefined ? "none given" : rv.reason),
      el("dt", null, "revoked"), el("dd", null, utc(rv.revoked_at) + " by " + (rv.source || "unknown")),
      el("dt", null, "time left"), el("dd", null, timeLeft(rv.expires_at)));
    if (rv.origin) dl.append(el("dt", null, "origin"), el("dd", { class: "mono" }, "replica " + rv.origin));
    const card = el("article", { class: "rev" + (expired ? " expired" : "") },
      el("div", { class: "rev-head" },
        el("span", { class: "badge" }, rv.type),
        el("span", { class: "rev-id" }, rv.type === "issuer" ? "(whole issuer)" : rv.id),
        lift),
      dl, sourceList(rv));
    return card;
  }

  function showResults(items, append) {
    const box = $("results");
    if (!append) box.replaceChildren();
    for (const rv of items) box.append(revCard(rv));
  }

  async function find(ev) {
    if (ev) ev.preventDefault();
    const type = $("find-type").value, id = $("find-id").value.trim();
    // With one issuer configured, "any issuer" can only mean that one.
    const iss = $("find-iss").value || (issuers.length === 1 ? issuers[0] : "");
    setText("find-status", "Searching…", "status");
    $("more").hidden = true;
    try {
      if (type === "issuer" || (type && id)) {
        if (!iss) {
          setText("find-status", "Choose the issuer to look one revocation up.", "status bad");
          return;
        }
        listing = null;
        try {
          const rv = await api("GET", onePath(type, id, iss));
          showResults([rv], false);
          setText("find-status", "1 revocation in force.", "status");
        } catch (e) {
          if (e.status !== 404) throw e;
          showResults([], false);
          setText("find-status", type === "issuer"
            ? "No issuer revocation for " + iss + ": its tokens are not revoked as a whole."
            : "Not revoked: no " + type + " revocation with ID " + id + ".", "status");
        }
        return;
      }
      if (id) {
        setText("find-status", "Choose the type of the ID (subject, session, token or key).", "status bad");
        return;
      }
      listing = { type, iss };
      cursor = null;
      await page(false);
    } catch (e) {
      setText("find-status", "Search failed: " + e.message, "status bad");
    }
  }

  async function page(append) {
    let q = "?limit=" + PAGE;
    if (listing.type) q += "&type=" + encodeURIComponent(listing.type);
    if (listing.iss) q += "&iss=" + encodeURIComponent(listing.iss);
    if (append && cursor) q += "&cursor=" + encodeURIComponent(cursor);
    const doc = await api("GET", "/admin/v1/revocations" + q);
    showResults(doc.items, append);
    cursor = doc.next_cursor;
    $("more").hidden = !cursor;
    const shown = $("results").children.length;
    setText("find-status", shown === 0 ? "No revocations match."
      : shown + " revocation" + (shown === 1 ? "" : "s") + " shown" + (cursor ? "; more on the next page." : "."), "status");
  }

  async function more() {
    try { await page(true); } catch (e) { setText("find-status", "Next page failed: " + e.message, "status bad"); }
  }

  async function liftOne(rv, card) {
    const what = rv.type === "issuer" ? "the issuer revocation of " + rv.iss : "the " + rv.type + " revocation " + rv.id;
    const ok = await confirmBox("Lift " + what + "?",
      "Tokens it denies are allowed again at once (if nothing else denies them).",
      rv.type + " · " + rv.iss + (rv.type === "issuer" ? "" : " · " + rv.id), "Lift");
    if (!ok) return;
    try {
      await api("DELETE", onePath(rv.type, rv.id, rv.iss));
      // The focus was on the card's button: give it the next card's, or
      // the search field, rather than lose it with the card.
      const next = card.nextElementSibling || card.previousElementSibling;
      card.remove();
      (next ? next.querySelector("button") : $("find-id")).focus();
      setText("find-status", "Lifted " + what + ".", "status ok");
      poll();
    } catch (e) {
      setText("find-status", "Lift failed: " + e.message, "status bad");
    }
  }

  async function revoke(ev) {
    ev.preventDefault();
    const type = $("rv-type").value, iss = $("rv-iss").value;
    const id = $("rv-id").value.trim(), reason = $("rv-reason").value.trim();
    if (type !== "issuer" && !id) {
      setText("revoke-status", "The ID is required.", "status bad");
      $("rv-id").focus();
      return;
    }
    if (type === "issuer" || type === "key") {
      const ok = await confirmBox(type === "issuer"
        ? "Revoke every token of this issuer issued up to now?"
        : "Revoke every token signed with this key, until lifted?",
        type === "issuer" ? "Every user of this issuer has to log in again."
          : "Tokens signed with this key are denied whatever their age.",
        type + " · " + iss + (type === "key" ? " · " + id : ""), "Revoke");
      if (!ok) return;
    }
    const event = { type: type + ".revoked", iss };
    if (FIELD[type]) event[FIELD[type]] = id;
    if (reason) event.reason = reason;
    setText("revoke-status", "Revoking…", "status");
    const button = $("revoke-form").querySelector("button[type=submit]");
    button.disabled = true;  // one request at a time (a repeat would be harmless)
    try {
      const doc = await api("POST", "/admin/v1/revocations", event);
      const rv = doc.revocations[0];
      setText("revoke-status", "Revoked " + type + (type === "issuer" ? " " + iss : " " + id) + ". It is in force now.", "status ok");
      $("rv-id").value = "";
      $("rv-reason").value = "";
      listing = null;
      $("more").hidden = true;
      showResults([rv], false);
      setText("find-status", "Just revoked:", "status");
      poll();
    } catch (e) {
      setText("revoke-status", "Not revoked: " + e.message, "status bad");
    } finally {
      button.disabled = false;
    }
  }

  function revokeTypeChanged() {
    const t = $("rv-type").value;
    $("rv-id-field").hidden = t === "issuer";
    $("rv-id").required = t !== "issuer";
    $("rv-help").textContent = HELP[t];
  }

  /* ------------------------------------------------------ confirmation */

  function confirmBox(title, text, detail, okLabel) {
    const d = $("confirm");
    $("confirm-h").textContent = title;
    $("confirm-text").textContent = text;
    $("confirm-detail").textContent = detail;
    $("confirm-ok").textContent = okLabel;
    return new Promise((resolve) => {
      const done = (v) => {
        $("confirm-ok").removeEventListener("click", yes);
        $("confirm-cancel").removeEventListener("click", no);
        d.removeEventListener("cancel", no);
        if (d.open) d.close();
        resolve(v);
      };
      const yes = () => done(true);
      const no = (e) => { if (e) e.preventDefault(); done(false); };
      $("confirm-ok").addEventListener("click", yes);
      $("confirm-cancel").addEventListener("click", no);
      d.addEventListener("cancel", no);
      d.showModal();
      $("confirm-cancel").focus();
    });
  }

  /* -------------------------------------------------------------- live */

  /* Prometheus text: [{name, labels, value}] (comments skipped). */
  function parseMetrics(text) {
    const out = [];
    const line = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
    const label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
    for (const l of text.split("\n")) {
      if (!l || l[0] === "#") continue;
      const m = line.exec(l);
      if (!m) continue;
      const labels = {};
      if (m[2]) for (const x of m[2].matchAll(label))
        labels[x[1]] = x[2].replace(/\\n/g, "\n").replace(/\\(.)/g, "$1");
      out.push({ name: m[1], labels, value: Number(m[3]) });
    }
    return out;
  }

  function sum(ms, name, pred) {
    let s = 0;
    for (const m of ms) if (m.name === name && (!pred || pred(m.labels))) s += m.value;
    return s;
  }

  function kv(id, rows) {
    const dl = $(id);
    dl.replaceChildren();
    for (const [k, v, cls] of rows) dl.append(el("dt", null, k), el("dd", { class: cls || null }, v));
  }

  async function poll() {
    let stats, ms;
    try {
      stats = await api("GET", "/admin/v1/stats");
      const r = await fetch("/metrics", { cache: "no-store", credentials: "omit" });
      if (!r.ok) throw new ApiError(r.status, "/metrics: HTTP " + r.status);
      ms = parseMetrics(await r.text());
    } catch (e) {
      if (token === null) return;
      $("live-error").hidden = false;
      $("live-error").textContent = "Live data unavailable: " + e.message + " (retrying)";
      setConn("Unreachable", "pill bad");
      return;
    }
    $("live-error").hidden = true;
    setConn("Connected", "pill ok");
    const now = Date.now();
    const sample = {
      t: now,
      allow: sum(ms, "revokd_decisions_total", (l) => l.result === "allow"),
      deny: sum(ms, "revokd_decisions_total", (l) => l.result !== "allow"),
      hits: sum(ms, "revokd_verified_cache_hits_total"),
      misses: sum(ms, "revokd_verified_cache_misses_total"),
    };
    let allowRate = lastRates.allow, denyRate = lastRates.deny, hit = null;
    if (lastSample && now - lastSample.t < 2000) {
      // an extra refresh (after a revocation): tables only, no rate sample
    } else if (lastSample) {
      const dt = (now - lastSample.t) / 1000;
      allowRate = Math.max(0, sample.allow - lastSample.allow) / dt;
      denyRate = Math.max(0, sample.deny - lastSample.deny) / dt;
      const dh = sample.hits - lastSample.hits, dm = sample.misses - lastSample.misses;
      if (dh + dm > 0) hit = dh / (dh + dm);
      history.push({ t: now, allow: allowRate, deny: denyRate });
      history = history.filter((p) => p.t >= now - HISTORY_MS);
      lastRates = { allow: allowRate, deny: denyRate, hit: dh + dm > 0 ? hit : null };
      lastSample = sample;
    } else {
      lastSample = sample;
    }
    if (hit === null) hit = lastRates.hit;
    if (hit === null) hit = stats.verified_cache && stats.verified_cache.hit_ratio;
    setText("m-allow", fmtRate(allowRate));
    setText("m-deny", fmtRate(denyRate));
    setText("m-hit", hit === null || hit === undefined ? "–" : (hit * 100).toFixed(1) + " %");
    const revs = stats.revocations || {};
    setText("m-total", String(revs.total ?? "–"));
    kv("tables", [
      ["subject", String(revs.subject ?? 0)], ["session", String(revs.session ?? 0)],
      ["token", String(revs.token ?? 0)], ["key", String(revs.key ?? 0)],
      ["issuer", String(revs.issuer ?? 0)],
      ["cached tokens", String(stats.verified_cache ? stats.verified_cache.entries : "–")],
    ]);
    const st = stats.store || {};
    const cluster = String(stats.cluster || "unknown");
    const rows = [
      ["store", String(st.state || "unknown"), st.state === "ok" ? "state-ok" : "state-bad"],
      ["rows on disk", String(st.rows ?? "–")],
      ["failed commits", String(st.failed_commits ?? "–"), st.failed_commits ? "state-bad" : null],
      ["replication", cluster, cluster === "disabled" ? null : cluster === "ok" || cluster === "connected" ? "state-ok" : "state-warn"],
    ];
    if (ms.some((m) => m.name === "revokd_replication_lag_seconds")) {
      const lag = sum(ms, "revokd_replication_lag_seconds");
      rows.push(["replication lag", lag.toFixed(1) + " s", lag > 5 ? "state-warn" : null]);
      rows.push(["outbox", String(sum(ms, "revokd_replication_outbox"))]);
    }
    kv("repl", rows);
    if (Array.isArray(stats.issuers)) setIssuers(stats.issuers);
    renderJwks(ms);
    drawChart();
    setText("live-updated", "updated " + new Date(now).toISOString().slice(11, 19) + " UTC");
  }

  function renderJwks(ms) {
    const ul = $("jwks");
    ul.replaceChildren();
    const names = issuers.length ? issuers : [];
    for (const iss of names) {
      const c = (r) => sum(ms, "revokd_jwks_fetches_total", (l) => l.issuer === iss && l.result === r);
      const remote = ms.some((m) => m.name === "revokd_jwks_fetches_total" && m.labels.issuer === iss);
      let state, cls;
      if (!remote) {
        state = "static keys (no JWKS)"; cls = "muted";
      } else {
        const cur = { ok: c("ok"), unchanged: c("unchanged"), error: c("error") };
        const prev = jwksLast[iss];
        let last = prev ? prev.last : null;
        if (prev) {
          if (cur.error > prev.error) last = "error";
          if (cur.ok > prev.ok || cur.unchanged > prev.unchanged) last = "ok";
        } else {
          last = cur.ok + cur.unchanged > 0 ? "ok" : cur.error > 0 ? "error" : "pending";
        }
        jwksLast[iss] = Object.assign(cur, { last });
        state = last === "error" ? "JWKS: last fetch failed (keeps the last good set)"
          : last === "ok" ? "JWKS: fetched" : "JWKS: not fetched yet";
        state += ` · ${cur.ok} new, ${cur.unchanged} unchanged, ${cur.error} failed`;
        cls = last === "error" ? "state-bad" : last === "ok" ? "state-ok" : "state-warn";
      }
      ul.append(el("li", null, el("span", { class: "mono" }, iss), el("br"), el("span", { class: cls }, state)));
    }
  }

  function drawChart() {
    const cv = $("chart");
    const dpr = window.devicePixelRatio || 1;
    const w = cv.clientWidth || 360, h = cv.clientHeight || 140;
    if (cv.width !== Math.round(w * dpr) || cv.height !== Math.round(h * dpr)) {
      cv.width = Math.round(w * dpr);
      cv.height = Math.round(h * dpr);
    }
    const g = cv.getContext("2d");
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    const css = getComputedStyle(document.documentElement);
    const color = (v) => css.getPropertyValue(v).trim();
    const pad = { l: 38, r: 8, t: 10, b: 18 };
    const now = Date.now();
    let max = 1;
    for (const p of history) max = Math.max(max, p.allow, p.deny);
    max = niceCeil(max);
    g.font = "11px system-ui, sans-serif";
    g.fillStyle = color("--muted");
    g.strokeStyle = color("--line");
    g.lineWidth = 1;
    for (let i = 0; i <= 2; i++) {
      const y = pad.t + (h - pad.t - pad.b) * (i / 2);
      g.beginPath(); g.moveTo(pad.l, y + .5); g.lineTo(w - pad.r, y + .5); g.stroke();
      g.fillText(fmtRate(max * (1 - i / 2)), 2, y + 4);
    }
    // The window grows with the history: the last minute at first, up to
    // ten minutes, so that the first points are not a speck at the edge.
    const span = history.length ? now - history[0].t : 0;
    const win = Math.min(HISTORY_MS, Math.max(60 * 1000, Math.ceil(span / 60000) * 60000));
    g.fillText("−" + Math.round(win / 60000) + " min", pad.l, h - 4);
    g.fillText("now", w - pad.r - 20, h - 4);
    const x = (t) => pad.l + (w - pad.l - pad.r) * (1 - (now - t) / win);
    const y = (v) => pad.t + (h - pad.t - pad.b) * (1 - v / max);
    cv.dataset.points = String(history.length);
    if (history.length === 0) {
      g.fillText("collecting…", pad.l + 8, pad.t + 16);
      return;
    }
    for (const [key, col] of [["allow", "--allow"], ["deny", "--deny"]]) {
      g.strokeStyle = g.fillStyle = color(col);
      g.lineWidth = 2;
      g.beginPath();
      history.forEach((p, i) => (i ? g.lineTo(x(p.t), y(p[key])) : g.moveTo(x(p.t), y(p[key]))));
      g.stroke();
      const last = history[history.length - 1];
      g.beginPath();
      g.arc(x(last.t), y(last[key]), 3, 0, 2 * Math.PI);
      g.fill();
    }
  }

  function niceCeil(v) {
    const e = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 5, 10]) if (v <= m * e) return m * e;
    return 10 * e;
  }

  /* ------------------------------------------------------------ issuers */

  function setIssuers(list) {
    if (JSON.stringify(list) === JSON.stringify(issuers)) return;
    issuers = list.slice();
    for (const sel of document.querySelectorAll(".iss-select")) {
      const keep = sel.value;
      sel.replaceChildren();
      if (sel.dataset.any) sel.append(el("option", { value: "" }, sel.dataset.any));
      for (const iss of issuers) sel.append(el("option", { value: iss }, iss));
      if (keep && issuers.includes(keep)) sel.value = keep;
      else if (!sel.dataset.any && issuers.length) sel.value = issuers[0];
    }
  }

  /* ------------------------------------------------------------- login */

  function setConn(text, cls) {
    setText("conn", text, cls);
  }

  async function login(ev) {
    ev.preventDefault();
    const input = $("token");
    const candidate = input.value.trim();
    input.value = "";
    const err = $("login-error");
    err.hidden = true;
    if (!candidate) return;
    let r;
    try {
      r = await fetch("/admin/v1/stats", {
        headers: { Authorization: "Bearer " + candidate, Accept: "application/json" },
        cache: "no-store", credentials: "omit",
      });
    } catch (e) {
      r = null;
    }
    if (!r || !r.ok) {
      err.hidden = false;
      err.textContent = !r ? "revokd cannot be reached from this page."
        : r.status === 401 ? "Wrong admin token: revokd refused it (401). Nothing was kept; paste it again."
        : r.status === 403 ? "The admin API is disabled on this server: no admin token is configured (403)."
        : "Unexpected answer from revokd: HTTP " + r.status + ".";
      input.focus();
      return;
    }
    token = candidate;
    const stats = await r.json();
    setIssuers(stats.issuers || []);
    $("login").hidden = true;
    $("app").hidden = false;
    $("logout").hidden = false;
    setConn("Connected", "pill ok");
    revokeTypeChanged();
    await poll();
    setTimeout(() => { if (token !== null) poll(); }, 2500);  // a first rate soon
    pollTimer = setInterval(poll, POLL_MS);
    $("rv-type").focus();
  }

  function lockOut(message) {
    token = null;
    if (pollTimer) clearInterval(pollTimer);
    pollTimer = null;
    lastSample = null;
    lastRates = { allow: null, deny: null, hit: null };
    history = [];
    jwksLast = {};
    $("results").replaceChildren();
    setText("find-status", "", "status");
    setText("revoke-status", "", "status");
    $("app").hidden = true;
    $("logout").hidden = true;
    $("login").hidden = false;
    setConn("Locked", "pill");
    const err = $("login-error");
    err.hidden = !message;
    err.textContent = message || "";
    $("token").focus();
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("login-form").addEventListener("submit", login);
    $("find-form").addEventListener("submit", find);
    $("revoke-form").addEventListener("submit", revoke);
    $("rv-type").addEventListener("change", revokeTypeChanged);
    $("more").addEventListener("click", more);
    $("logout").addEventListener("click", () => lockOut("Token forgotten."));
    window.addEventListener("resize", drawChart);
    revokeTypeChanged();
    $("token").focus();
  });
})();
