"use strict";
// Mask editor: a canvas over the step's input at the image's own resolution.
// White = fill. Saving uploads the canvas as PNG (a new mask asset) and re-runs
// the step from there, so only it and its descendants execute again.
(() => {
  const root = document.getElementById("mask-editor");
  const { run, node, image } = root.dataset;
  const canvas = document.getElementById("mask-canvas");
  const ctx = canvas.getContext("2d");
  const msg = document.getElementById("mask-msg");
  const brush = document.getElementById("brush");
  const opacity = document.getElementById("opacity");
  // The visible overlay is cyan where selected; the saved PNG is white on black.
  const mask = document.createElement("canvas");
  mask.width = canvas.width; mask.height = canvas.height;
  const mctx = mask.getContext("2d");

  function render() {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(mask, 0, 0);
    ctx.globalCompositeOperation = "source-in";
    ctx.fillStyle = "#00e5ff";  // cyan reads over skin, sky and orange suits alike
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.globalCompositeOperation = "source-over";
    canvas.style.opacity = opacity.value;
  }
  async function loadCurrent() {
    const img = new Image();
    img.src = `/api/runs/${run}/steps/${encodeURIComponent(node)}/region.png?t=${Date.now()}`;
    await img.decode();
    mctx.clearRect(0, 0, mask.width, mask.height);
    mctx.drawImage(img, 0, 0);
    // black → transparent so painting and erasing work on alpha
    const data = mctx.getImageData(0, 0, mask.width, mask.height);
    for (let i = 0; i < data.data.length; i += 4) {
      const on = data.data[i] > 127;
      data.data[i] = data.data[i + 1] = data.data[i + 2] = 255;
      data.data[i + 3] = on ? 255 : 0;
    }
    mctx.putImageData(data, 0, 0);
    render();
  }

  let drawing = false, last = null;
  function point(ev) {
    const r = canvas.getBoundingClientRect();
    return { x: (ev.clientX - r.left) * (canvas.width / r.width), y: (ev.clientY - r.top) * (canvas.height / r.height) };
  }
  function stroke(p) {
    const erase = document.querySelector('input[name="tool"]:checked').value === "erase";
    mctx.globalCompositeOperation = erase ? "destination-out" : "source-over";
    mctx.strokeStyle = mctx.fillStyle = "#fff";
    mctx.lineWidth = Number(brush.value);
    mctx.lineCap = mctx.lineJoin = "round";
    mctx.beginPath();
    if (last) { mctx.moveTo(last.x, last.y); mctx.lineTo(p.x, p.y); mctx.stroke(); }
    else { mctx.arc(p.x, p.y, mctx.lineWidth / 2, 0, Math.PI * 2); mctx.fill(); }
    mctx.globalCompositeOperation = "source-over";
    last = p;
    render();
  }
  canvas.addEventListener("pointerdown", (ev) => { drawing = true; last = null; canvas.setPointerCapture(ev.pointerId); stroke(point(ev)); });
  canvas.addEventListener("pointermove", (ev) => { if (drawing) stroke(point(ev)); });
  const end = () => { drawing = false; last = null; };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  brush.addEventListener("input", () => { document.getElementById("brush-size").textContent = brush.value; });
  opacity.addEventListener("input", render);
  document.getElementById("clear-btn").addEventListener("click", () => { mctx.clearRect(0, 0, mask.width, mask.height); render(); });
  document.getElementById("reset-btn").addEventListener("click", loadCurrent);

  function maskPng() {
    const out = document.createElement("canvas");
    out.width = mask.width; out.height = mask.height;
    const o = out.getContext("2d");
    o.fillStyle = "#000"; o.fillRect(0, 0, out.width, out.height);
    o.drawImage(mask, 0, 0);
    return new Promise((resolve) => out.toBlob(resolve, "image/png"));
  }

  document.getElementById("save-btn").addEventListener("click", async () => {
    ry.say(msg, "saving mask…");
    try {
      const form = new FormData();
      form.append("file", await maskPng(), "mask.png");
      form.append("image", image);
      const saved = await ry.post("/api/masks", form);
      const sets = { mask: saved.value };
      if (document.getElementById("replace").checked) { sets.box = null; sets.polygon = null; }
      ry.say(msg, "re-running…");
      const r = await ry.post(`/api/runs/${run}/rerun`, { from: node, sets });
      window.location.href = `/runs/${r.run}`;
    } catch (err) { ry.fail(msg, err); }
  });

  loadCurrent().catch((err) => ry.fail(msg, err));
  window.ryMask = { mask, render };
})();
