// Upload: files dropped or picked go to /api/upload in one request (so a CSV can label the images
// of a ZIP sent with it); each file's bar follows the bytes sent, then the per-file report shows.
(function () {
  "use strict";

  const form = document.getElementById("upload-form");
  const input = document.getElementById("upload-input");
  const list = document.getElementById("upload-list");
  const status = document.getElementById("upload-status");
  const csrfToken = document.querySelector('meta[name="csrf-token"]').content;
  const project = form.dataset.project;

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function size(bytes) {
    if (bytes < 1024) return `${bytes} B`;
    if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
    return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  }

  function errorText(data, code) {
    if (data && typeof data.detail === "string") return data.detail;
    if (data) for (const value of Object.values(data)) if (Array.isArray(value) && value.length) return String(value[0]);
    return `The upload failed (${code}).`;
  }

  function showReport(job) {
    status.textContent = job.status === "succeeded"
      ? `Done: ${job.accepted} accepted, ${job.duplicates} duplicates, ${job.rejected} rejected.`
      : `The upload failed: ${job.error || job.status}`;
    const report = job.report || {files: [], rejected: []};
    const box = document.getElementById("upload-report");
    box.replaceChildren();
    const table = element("table", "table");
    table.id = "upload-report-table";
    const head = element("thead");
    head.innerHTML = "<tr><th>File</th><th>Kind</th><th class='num'>Accepted</th><th class='num'>Duplicates</th>"
      + "<th class='num'>Rejected</th></tr>";
    const body = element("tbody");
    for (const file of report.files || []) {
      const row = element("tr");
      row.append(element("td", "", file.file), element("td", "", file.kind), element("td", "num", file.accepted),
                 element("td", "num", file.duplicates), element("td", "num", file.rejected));
      body.append(row);
    }
    table.append(head, body);
    const wrap = element("div", "table-wrap");
    wrap.append(table);
    box.append(wrap);
    if ((report.rejected || []).length) {
      box.append(element("h3", "small", "Rejected"));
      const reasons = element("ul", "small rejected-list");
      for (const row of report.rejected.slice(0, 50)) {
        const where = [row.archive, row.file].filter(Boolean).join(" › ") + (row.line ? `, line ${row.line}` : "");
        reasons.append(element("li", "", `${where}: ${row.reason}`));
      }
      box.append(reasons);
    }
    document.getElementById("upload-next").hidden = !job.accepted;
  }

  async function poll(id) {
    for (;;) {
      const response = await fetch(`/api/uploads/${id}`, {credentials: "same-origin", headers: {Accept: "application/json"}});
      const job = await response.json();
      if (!response.ok) { status.textContent = errorText(job, response.status); return; }
      status.textContent = `Importing on a worker: ${job.processed} of ${job.total}…`;
      if (job.status === "succeeded" || job.status === "failed") { showReport(job); return; }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }

  function send(files) {
    if (!files.length) return;
    document.getElementById("upload-files").hidden = false;
    document.getElementById("upload-report").replaceChildren();
    document.getElementById("upload-next").hidden = true;
    list.replaceChildren();
    const bars = [];
    let offset = 0;
    for (const file of files) {
      const row = element("li", "file-row");
      const name = element("span", "file-name", file.name);
      const bar = element("div", "progress");
      bar.setAttribute("role", "progressbar");
      bar.setAttribute("aria-label", `Upload of ${file.name}`);
      bar.setAttribute("aria-valuemin", "0");
      bar.setAttribute("aria-valuemax", "100");
      const fill = element("div", "progress-bar");
      bar.append(fill);
      const percent = element("span", "file-percent small muted", "0%");
      row.append(name, element("span", "small muted", size(file.size)), bar, percent);
      list.append(row);
      bars.push({start: offset, end: offset + file.size, bar, fill, percent});
      offset += file.size;
    }
    const data = new FormData();
    data.append("project", project);
    const whole = document.getElementById("upload-whole");
    if (whole && whole.checked) data.append("text_mode", "whole");
    for (const file of files) data.append("files", file);

    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/upload");
    xhr.setRequestHeader("X-CSRFToken", csrfToken);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", (event) => {
      // The multipart body sends the files in order: each file's share of the bytes is its bar.
      const total = event.lengthComputable ? event.total : offset;
      const sent = event.loaded * (offset / Math.max(total, 1));
      for (const b of bars) {
        const share = b.end === b.start ? (sent >= b.end ? 1 : 0)
          : Math.min(1, Math.max(0, (sent - b.start) / (b.end - b.start)));
        const value = Math.round(share * 100);
        b.fill.style.width = `${value}%`;
        b.percent.textContent = `${value}%`;
        b.bar.setAttribute("aria-valuenow", String(value));
      }
    });
    xhr.upload.addEventListener("load", () => {
      for (const b of bars) {
        b.fill.style.width = "100%";
        b.percent.textContent = "100%";
        b.bar.setAttribute("aria-valuenow", "100");
      }
      status.textContent = "Sent; importing…";
    });
    xhr.addEventListener("load", () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch (ignored) { body = null; }
      if (xhr.status === 201) showReport(body);
      else if (xhr.status === 202) poll(body.id);
      else status.textContent = errorText(body, xhr.status);
    });
    xhr.addEventListener("error", () => { status.textContent = "The connection failed; try again."; });
    status.textContent = "Sending…";
    xhr.send(data);
  }

  input.addEventListener("change", () => { send([...input.files]); input.value = ""; });
  ["dragenter", "dragover"].forEach((name) => form.addEventListener(name, (event) => {
    event.preventDefault();
    form.classList.add("is-dragging");
  }));
  ["dragleave", "drop"].forEach((name) => form.addEventListener(name, (event) => {
    event.preventDefault();
    form.classList.remove("is-dragging");
  }));
  form.addEventListener("drop", (event) => send([...event.dataTransfer.files]));
  form.addEventListener("submit", (event) => event.preventDefault());
})();
