"use strict";
// Live run page: events arrive over Server-Sent Events as the engine emits them.
(() => {
  const root = document.getElementById("run");
  const runId = root.dataset.run;
  const tbody = document.querySelector("#steps tbody");
  const statusEl = document.getElementById("run-status");
  const errEl = document.getElementById("run-error");
  const cancelBtn = document.getElementById("cancel-btn");
  window.ryEvents = [];  // what reached the page, with arrival times (read by tests and benchmarks)

  function row(node, step, op) {
    let tr = tbody.querySelector(`tr[data-node="${CSS.escape(node)}"]`);
    if (!tr) {
      tbody.querySelector("tr.pending")?.remove();
      tr = document.createElement("tr");
      tr.dataset.node = node;
      tr.innerHTML = `<td>${ry.esc(node)}</td><td>${ry.esc(op || "")}</td><td class="model"></td>` +
        `<td class="status-cell"><span class="status">queued</span></td><td><progress max="1" value="0"></progress></td>` +
        `<td class="secs"></td><td class="cost"></td><td class="outs"></td>`;
      tbody.appendChild(tr);
    }
    return tr;
  }
  function setStatus(tr, status, extra) {
    const cell = tr.querySelector(".status-cell");
    cell.innerHTML = `<span class="status s-${status}">${status}</span>` + (extra ? `<div class="sub ${status === "failed" ? "error" : ""}">${ry.esc(extra)}</div>` : "");
    tr.className = `st-${status}`;
  }

  const STATUS = { queued: "queued", started: "running", finished: "executed", cached: "cached", failed: "failed", skipped: "skipped", cancelled: "cancelled" };

  function onEvent(ev) {
    window.ryEvents.push({ kind: ev.kind, node: ev.node, ts: ev.ts, at: Date.now() / 1000 });
    const d = ev.data || {};
    if (ev.kind === "run_finished") {
      statusEl.textContent = d.status;
      statusEl.className = `status s-${d.status}`;
      cancelBtn.hidden = true;
      document.getElementById("run-cost").textContent = "$" + Number(d.cost_usd || 0).toFixed(4);
      refresh();
      return;
    }
    if (!ev.node) return;
    const tr = row(ev.node, d.step, d.op);
    if (ev.kind === "progress") {
      tr.querySelector("progress").value = d.fraction ?? d.progress ?? 0;
      return;
    }
    if (STATUS[ev.kind]) {
      setStatus(tr, STATUS[ev.kind], d.error || d.reason || (d.model ? `${d.model}` : ""));
      if (d.model) tr.querySelector("td:nth-child(3)").textContent = d.model;
      if (["finished", "cached"].includes(ev.kind)) tr.querySelector("progress").value = 1;
    } else if (["retry", "fallback", "gate_failed", "repair"].includes(ev.kind)) {
      setStatus(tr, "running", `${ev.kind}: ${d.reason || d.error || d.model || ""}`);
    }
  }

  // Once the run ends, the server's own rendering of the run is the truth: swap it in.
  async function refresh() {
    try {
      const res = await fetch(`/runs/${runId}`);
      const html = new DOMParser().parseFromString(await res.text(), "text/html");
      const fresh = html.getElementById("run");
      if (fresh) { root.replaceWith(fresh); fresh.dataset.done = "true"; }
      document.body.dataset.runDone = "true";
    } catch (err) { ry.fail(errEl, err); }
  }

  cancelBtn?.addEventListener("click", async () => {
    cancelBtn.disabled = true;
    try { await ry.post(`/api/runs/${runId}/cancel`); } catch (err) { ry.fail(errEl, err); }
  });

  if (root.dataset.live === "true") {
    const source = new EventSource(`/api/runs/${runId}/events`);
    source.onopen = () => { window.ryStreamOpenedAt = Date.now() / 1000; };
    source.onmessage = (m) => onEvent(JSON.parse(m.data));
    source.addEventListener("end", () => { source.close(); if (!document.body.dataset.runDone) refresh(); });
    source.onerror = () => { if (source.readyState === EventSource.CLOSED) refresh(); };
  } else {
    document.body.dataset.runDone = "true";
  }
})();
