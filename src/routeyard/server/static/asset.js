"use strict";
// Lineage graph: nodes are laid out by the server on a grid; edges are drawn
// here between the rendered cards. Clicking a node shows its details and a
// re-run form with its parameters.
(() => {
  const graph = JSON.parse(document.getElementById("graph-data").textContent);
  const box = document.getElementById("graph");
  const svg = document.getElementById("edges");

  function draw() {
    const origin = box.getBoundingClientRect();
    svg.setAttribute("width", box.scrollWidth);
    svg.setAttribute("height", box.scrollHeight);
    const card = (id) => box.querySelector(`.node[data-asset="${id}"]`).getBoundingClientRect();
    svg.innerHTML = graph.edges.map((e) => {
      const a = card(e.from), b = card(e.to);
      const x1 = a.right - origin.left, y1 = a.top + a.height / 2 - origin.top;
      const x2 = b.left - origin.left, y2 = b.top + b.height / 2 - origin.top;
      const mx = (x1 + x2) / 2;
      return `<path data-from="${e.from}" data-to="${e.to}" d="M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}"/>`;
    }).join("");
  }
  window.addEventListener("resize", draw);
  box.querySelectorAll("img").forEach((img) => img.addEventListener("load", draw));
  draw();

  function show(asset) {
    box.querySelectorAll(".node").forEach((n) => n.classList.toggle("on", n.dataset.asset === asset));
    document.querySelectorAll(".node-detail").forEach((d) => { d.hidden = d.dataset.asset !== asset; });
  }
  box.addEventListener("click", (ev) => {
    const node = ev.target.closest(".node");
    if (node) show(node.dataset.asset);
  });
  show(graph.asset);

  for (const form of document.querySelectorAll("form.rerun")) {
    const original = form.params.value;
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const msg = form.querySelector(".msg");
      ry.say(msg, "starting…");
      try {
        const r = await ry.post(`/api/runs/${form.dataset.run}/rerun`, {
          from: form.dataset.node,
          params_yaml: form.params.value === original ? null : form.params.value,
        });
        window.location.href = `/runs/${r.run}`;
      } catch (err) { ry.fail(msg, err); }
    });
  }
})();
