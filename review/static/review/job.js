// A job's live progress: polls /api/jobs/{id} every second until it finishes; shows items done,
// failed, the rate and the time left, then reloads once to show what comes next.
(function () {
  "use strict";

  const box = document.getElementById("job");
  const id = box.dataset.job;
  const FINISHED = ["succeeded", "failed", "cancelled"];
  const csrfToken = document.querySelector('meta[name="csrf-token"]').content;
  const $ = (name) => document.getElementById(name);
  const samples = [];

  function duration(seconds) {
    if (!isFinite(seconds)) return "—";
    if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
    if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
    return `${(seconds / 3600).toFixed(1)} h`;
  }

  function show(job) {
    const processed = job.done + job.failed;
    const percent = Math.round(job.progress * 1000) / 10;
    $("job-bar").style.width = `${percent}%`;
    $("job-percent").textContent = `${percent}%`;
    $("job-progress").setAttribute("aria-valuenow", String(percent));
    $("job-status").textContent = job.status;
    $("job-done").textContent = job.done;
    $("job-failed").textContent = job.failed;
    $("job-total").textContent = job.total;
    const now = performance.now() / 1000;
    samples.push([now, processed]);
    while (samples.length > 2 && now - samples[0][0] > 30) samples.shift();
    let rate = NaN;
    if (job.started_at && job.finished_at) {
      rate = processed / Math.max((Date.parse(job.finished_at) - Date.parse(job.started_at)) / 1000, 0.001);
    } else if (samples.length > 1) {
      const [t0, n0] = samples[0];
      rate = (processed - n0) / Math.max(now - t0, 0.001);
    }
    $("job-rate").textContent = isFinite(rate) && rate > 0 ? `${rate.toFixed(1)} items/s` : "—";
    $("job-eta").textContent = FINISHED.includes(job.status) ? "finished"
      : isFinite(rate) && rate > 0 ? `about ${duration((job.total - processed) / rate)} left` : "estimating…";
  }

  async function poll() {
    try {
      const response = await fetch(`/api/jobs/${id}`, {credentials: "same-origin", headers: {Accept: "application/json"}});
      if (response.ok) {
        const job = await response.json();
        show(job);
        if (FINISHED.includes(job.status)) {
          if ($("job-cancel")) $("job-cancel").hidden = true;
          if (!FINISHED.includes(box.dataset.status)) window.location.reload();
          return;
        }
      }
    } catch (ignored) { /* the next poll tries again */ }
    setTimeout(poll, 1000);
  }

  const cancel = $("job-cancel");
  if (cancel) cancel.addEventListener("click", async () => {
    cancel.disabled = true;
    await fetch(`/api/jobs/${id}/cancel`, {method: "POST", credentials: "same-origin",
                                           headers: {"X-CSRFToken": csrfToken, Accept: "application/json"}});
  });
  poll();
})();
