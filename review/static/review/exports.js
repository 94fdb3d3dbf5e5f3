// Past exports still being written: poll /api/exports/{id} until each finishes, then show its
// size and download link.
(function () {
  "use strict";

  function size(bytes) {
    const units = ["bytes", "KB", "MB", "GB"];
    let value = bytes;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
    return unit ? `${value.toFixed(1)} ${units[unit]}` : `${value} bytes`;
  }

  async function follow(row) {
    const id = row.dataset.export;
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      let data = null;
      try {
        const response = await fetch(`/api/exports/${id}`, {credentials: "same-origin", headers: {Accept: "application/json"}});
        if (!response.ok) continue;
        data = await response.json();
      } catch (ignored) { continue; }
      const badge = document.createElement("span");
      badge.className = `badge badge-${data.status}`;
      badge.textContent = data.status;
      const status = row.querySelector(".export-status");
      status.replaceChildren(badge);
      if (data.error) status.append(` ${data.error}`);
      row.querySelector(".export-written").textContent = data.written;
      row.querySelector(".export-size").textContent = size(data.size_bytes);
      if (data.download_url) {
        const link = document.createElement("a");
        link.href = data.download_url;
        link.textContent = "Download";
        link.setAttribute("download", "");
        row.querySelector(".export-link").replaceChildren(link);
      }
      if (!["queued", "running"].includes(data.status)) { delete row.dataset.pending; return; }
    }
  }

  document.querySelectorAll("tr[data-pending]").forEach(follow);
})();
