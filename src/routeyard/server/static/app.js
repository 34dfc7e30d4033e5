// routeyard studio: shared helpers. Plain JS, no build step.
"use strict";
const ry = {
  // Every change goes through here: the X-Routeyard header is what the server
  // requires of state-changing requests (another site's page cannot send it).
  async send(method, url, body) {
    const opts = { method, headers: { "X-Routeyard": "1" } };
    if (body instanceof FormData) opts.body = body;
    else if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const res = await fetch(url, opts);
    const data = await res.json().catch(() => ({}));
    if (!res.ok) {
      const err = new Error(data.error || `${res.status} ${res.statusText}`);
      err.hint = data.hint;
      throw err;
    }
    return data;
  },
  post(url, body) { return ry.send("POST", url, body); },
  del(url) { return ry.send("DELETE", url); },
  async get(url) {
    const res = await fetch(url);
    const data = await res.json().catch(() => ({}));
    if (!res.ok) { const e = new Error(data.error || res.statusText); e.hint = data.hint; throw e; }
    return data;
  },
  say(el, text, isError) {
    if (!el) return;
    el.textContent = text;
    el.classList.toggle("error", !!isError);
  },
  fail(el, err) { ry.say(el, err.message + (err.hint ? ` — ${err.hint}` : ""), true); },
  esc(s) {
    return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  },
  // A per-frame curve as an SVG polyline; `marker` draws the current frame.
  plot(svg, values, marker) {
    const vals = values.map((v) => (v == null ? NaN : v));
    const finite = vals.filter((v) => Number.isFinite(v));
    const max = Math.max(1e-9, ...finite), min = Math.min(0, ...finite);
    const n = Math.max(1, vals.length - 1);
    const pts = vals.map((v, i) => Number.isFinite(v) ? `${(i / n) * 300},${58 - ((v - min) / (max - min || 1)) * 54}` : null)
      .filter(Boolean).join(" ");
    svg.innerHTML = `<polyline points="${pts}" fill="none" stroke="currentColor" stroke-width="1.5"/>` +
      (marker != null ? `<line class="marker" x1="${(marker / n) * 300}" x2="${(marker / n) * 300}" y1="0" y2="60"/>` : "");
    svg.dataset.points = String(vals.length);
  },
  // Fill the .score blocks of `root` with a gate's score and its per-frame curve.
  async scores(root, asset, marker) {
    const results = {};
    for (const block of root.querySelectorAll(".score")) {
      const gate = block.dataset.gate;
      try {
        const r = await ry.get(`/api/assets/${asset}/checks/${gate}`);
        results[gate] = r;
        block.querySelector(".value").textContent =
          `${r.score == null ? "n/a" : r.score.toFixed(3)} ${r.passed === false ? "✗" : r.passed ? "✓" : ""} ${r.message || ""}`;
        block.classList.toggle("fail", r.passed === false);
        block.dataset.score = r.score ?? "";
        if (r.per_frame) {
          block.querySelector(".plot").setAttribute("aria-label", r.per_frame.label);
          ry.plot(block.querySelector(".plot"), r.per_frame.values, marker);
        }
      } catch (err) {
        block.querySelector(".value").textContent = err.message;
      }
    }
    return results;
  },
};
window.ry = ry;
