"use strict";
// Frame review: exact frames decoded on the server, the gates' per-frame
// curves under the scrubber, and flags stored as annotations on the asset.
(() => {
  const root = document.getElementById("review");
  const asset = root.dataset.asset;
  const frames = Number(root.dataset.frames);
  const img = document.getElementById("frame-img");
  const scrub = document.getElementById("scrub");
  const no = document.getElementById("frame-no");
  const flags = document.querySelector("#flags tbody");
  let curves = {};

  function go(i) {
    i = Math.max(0, Math.min(frames - 1, i));
    scrub.value = String(i);
    no.textContent = String(i);
    img.src = `/api/assets/${asset}/frames/${i}.jpg`;
    for (const block of root.querySelectorAll(".score")) {
      const r = curves[block.dataset.gate];
      if (r && r.per_frame) ry.plot(block.querySelector(".plot"), r.per_frame.values, i * (r.per_frame.values.length - 1) / Math.max(1, frames - 1));
    }
  }
  scrub.addEventListener("input", () => go(Number(scrub.value)));
  document.getElementById("prev-btn").addEventListener("click", () => go(Number(scrub.value) - 1));
  document.getElementById("next-btn").addEventListener("click", () => go(Number(scrub.value) + 1));
  document.addEventListener("keydown", (ev) => {
    if (ev.target.matches("input, textarea, select")) return;
    if (ev.key === "ArrowLeft") go(Number(scrub.value) - 1);
    if (ev.key === "ArrowRight") go(Number(scrub.value) + 1);
  });
  flags.addEventListener("click", async (ev) => {
    const tr = ev.target.closest("tr");
    if (ev.target.matches(".goto")) { ev.preventDefault(); go(Number(tr.dataset.frame)); }
    if (ev.target.matches(".del")) {
      await ry.del(`/api/assets/${asset}/annotations/${tr.dataset.id}`);
      tr.remove();
    }
  });
  document.getElementById("flag-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    const frame = Number(scrub.value);
    const a = await ry.post(`/api/assets/${asset}/annotations`, { frame, label: form.label.value, note: form.note.value });
    const tr = document.createElement("tr");
    tr.dataset.id = a.id; tr.dataset.frame = frame;
    tr.innerHTML = `<td><a href="#" class="goto">${frame}</a></td><td>${ry.esc(a.label)}</td><td>${ry.esc(a.note)}</td><td><button type="button" class="del">Remove</button></td>`;
    flags.appendChild(tr);
    form.note.value = "";
  });
  ry.scores(root, asset, 0).then((r) => { curves = r; root.dataset.scored = "true"; });
})();
