"use strict";
(() => {
  const fileSel = document.getElementById("pipeline-file");
  const text = document.getElementById("pipeline-text");
  const msg = document.getElementById("form-msg");
  const planOut = document.getElementById("plan-out");
  let loaded = { path: fileSel.value || null, text: text.value };

  fileSel.addEventListener("change", async () => {
    if (!fileSel.value) { loaded = { path: null, text: "" }; return; }
    try {
      const r = await ry.get(`/api/pipelines/file?path=${encodeURIComponent(fileSel.value)}`);
      text.value = r.text;
      loaded = { path: r.path, text: r.text };
      planOut.innerHTML = "";
      ry.say(msg, "");
    } catch (err) { ry.fail(msg, err); }
  });

  document.getElementById("brief-upload").addEventListener("change", async (ev) => {
    const file = ev.target.files[0];
    if (!file) return;
    const form = new FormData();
    form.append("file", file);
    try {
      const r = await ry.post("/api/briefs", form);
      text.value = r.text;
      fileSel.value = "";
      loaded = { path: null, text: r.text };
      ry.say(msg, `uploaded ${file.name}`);
    } catch (err) { ry.fail(msg, err); }
    ev.target.value = "";
  });

  // A listed file that was not edited runs as that file (its relative paths
  // keep working); edited or uploaded text is kept in the store and run from there.
  function body() {
    return loaded.path && text.value === loaded.text ? { path: loaded.path } : { text: text.value };
  }

  document.getElementById("plan-btn").addEventListener("click", async () => {
    ry.say(msg, "planning…");
    try {
      const plan = await ry.post("/api/plan", body());
      ry.say(msg, "");
      planOut.innerHTML = renderPlan(plan);
    } catch (err) { ry.fail(msg, err); planOut.innerHTML = ""; }
  });

  document.getElementById("run-btn").addEventListener("click", async () => {
    ry.say(msg, "starting…");
    try {
      const r = await ry.post("/api/runs", body());
      window.location.href = `/runs/${r.run}`;
    } catch (err) { ry.fail(msg, err); }
  });

  function renderPlan(plan) {
    const rows = (plan.steps || []).map((s) => {
      const c = s.chosen || {};
      const now = s.with_current_keys || c;
      const alts = (s.candidates || []).filter((x) => x.model !== c.model).slice(0, 3)
        .map((x) => `${ry.esc(x.model)} ${Number(x.score).toFixed(2)}`).join(", ");
      return `<tr data-step="${ry.esc(s.step)}"><td>${ry.esc(s.step)}</td><td>${ry.esc(s.op || "")}</td>` +
        `<td><b>${ry.esc(now.model || "")}</b><div class="sub">${ry.esc(now.provider || "")}</div></td>` +
        `<td>${ry.esc(c.model || "")}<div class="sub">${ry.esc(c.reason || s.error || "")}</div></td>` +
        `<td class="sub">${alts}</td>` +
        `<td>${c.est_cost_usd != null ? "$" + Number(c.est_cost_usd).toFixed(3) : ""}</td></tr>`;
    }).join("");
    return `<h2>Plan <span class="sub">nothing is spent</span></h2>` +
      `<table class="plan"><thead><tr><th>Step</th><th>Op</th><th>Runs now on</th><th>Best route with every key</th><th>Runners-up</th><th>Estimate</th></tr></thead>` +
      `<tbody>${rows}</tbody></table>` +
      `<p>Estimated with every key <b id="plan-total">$${Number(plan.est_cost_usd || 0).toFixed(3)}</b>, about ${Number(plan.est_seconds || 0).toFixed(0)} s` +
      (plan.unroutable && plan.unroutable.length ? ` · <span class="error">unroutable: ${ry.esc(plan.unroutable.join(", "))}</span>` : "") + `</p>`;
  }
})();
