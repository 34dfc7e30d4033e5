"use strict";
// Videos show their poster; hovering plays them inline (loaded only then).
(() => {
  for (const tile of document.querySelectorAll('.tile[data-kind="video"]')) {
    let video = null;
    tile.addEventListener("mouseenter", () => {
      if (!video) {
        video = document.createElement("video");
        Object.assign(video, { muted: true, loop: true, playsInline: true, src: `/api/assets/${tile.dataset.asset}/file` });
        video.className = "hover-play";
        tile.prepend(video);
      }
      video.hidden = false;
      video.play().catch(() => {});
    });
    tile.addEventListener("mouseleave", () => { if (video) { video.pause(); video.hidden = true; } });
  }
})();
