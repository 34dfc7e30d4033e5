"use strict";
// Variants side by side: synced playback, each branch's gate scores and
// per-frame curves, and "choose this one" (re-runs the select step with
// that branch; nothing upstream runs again).
(() => {
  const root = document.getElementById("variants");
  const videos = [...root.querySelectorAll("video")];
  const scrub = document.getElementById("sync-scrub");
  const msg = document.getElementById("variants-msg");
  const lead = videos[0];

  document.getElementById("play-all").addEventListener("click", () => {
    const t = lead ? lead.currentTime : 0;
    videos.forEach((v) => { v.currentTime = t; v.play().catch(() => {}); });
  });
  document.getElementById("pause-all").addEventListener("click", () => videos.forEach((v) => v.pause()));
  scrub.addEventListener("input", () => {
    videos.forEach((v) => { if (v.duration) v.currentTime = (scrub.value / 1000) * v.duration; });
  });
  // Keep followers within a frame of the lead.
  lead?.addEventListener("timeupdate", () => {
    if (lead.duration) scrub.value = String(Math.round((lead.currentTime / lead.duration) * 1000));
    for (const v of videos.slice(1)) {
      if (Math.abs(v.currentTime - lead.currentTime) > 0.05) v.currentTime = lead.currentTime;
    }
  });

  (async () => {
    for (const art of root.querySelectorAll(".variant[data-asset]")) {
      if (art.dataset.asset) await ry.scores(art, art.dataset.asset, null);
    }
    root.dataset.scored = "true";
  })();

  root.addEventListener("click", async (ev) => {
    const btn = ev.target.closest("button.choose");
    if (!btn) return;
    const art = btn.closest(".variant");
    ry.say(msg, `choosing ${art.dataset.node}…`);
    try {
      const r = await ry.post(`/api/runs/${root.dataset.run}/rerun`, {
        from: root.dataset.chooser,
        sets: { by: "index", index: Number(art.dataset.choice) },
      });
      window.location.href = `/runs/${r.run}`;
    } catch (err) { ry.fail(msg, err); }
  });
})();
