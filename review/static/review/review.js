// The review page: one item at a time from the leased queue, decided with the keyboard or a click.
// Talks to the JSON API with the session cookie and the CSRF token; never reloads the page.
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("review-config").textContent);
  const csrfToken = document.querySelector('meta[name="csrf-token"]').content;
  const $ = (id) => document.getElementById(id);

  const state = {
    buffer: [],          // leased items not shown yet
    current: null,
    shownAt: 0,
    toggled: new Set(),  // multi-label: the labels switched on for the current item
    skipped: [],         // ids left out of the next queue fetches
    gone: new Set(),     // ids decided or skipped here: a fetch already in flight may still return them
    produced: new Map(), // decision id -> the item state it produced (for undo's progress)
    progress: Object.assign({reviewed: 0, waiting: 0, mine: 0}, config.progress),
    history: [],         // the last decisions made here, newest first: {decision, item, text, undone}
    zoom: {scale: 1, x: 0, y: 0},
    fetching: null,
    busy: false,
  };

  const shortcuts = new Map();
  const buttons = new Map();
  document.querySelectorAll(".category").forEach((button) => {
    buttons.set(button.dataset.label, button);
    if (button.dataset.shortcut) shortcuts.set(button.dataset.shortcut.toLowerCase(), button.dataset.label);
    button.addEventListener("click", () => chooseLabel(button.dataset.label));
  });

  // --- the API ---------------------------------------------------------------------------------

  function errorMessage(data) {
    if (!data) return "";
    if (typeof data.detail === "string") return data.detail;
    for (const value of Object.values(data)) {
      if (Array.isArray(value) && value.length) return String(value[0]);
    }
    return "";
  }

  async function api(method, url, body) {
    const headers = {"Accept": "application/json"};
    if (method !== "GET") {
      headers["Content-Type"] = "application/json";
      headers["X-CSRFToken"] = csrfToken;
    }
    const response = await fetch(url, {
      method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try { data = await response.json(); } catch (ignored) { data = null; }
    if (!response.ok) {
      const error = new Error(errorMessage(data) || `The request failed (${response.status}).`);
      error.status = response.status;
      throw error;
    }
    return data;
  }

  function refill() {
    if (state.fetching) return state.fetching;
    const params = new URLSearchParams({project: config.project, limit: config.batch});
    if (config.strategy) params.set("strategy", config.strategy);
    if (state.skipped.length) params.set("exclude", state.skipped.slice(-400).join(","));
    state.fetching = api("GET", `/api/review/queue?${params}`)
      .then((data) => {
        const known = new Set([...state.gone, ...state.buffer.map((item) => item.id)]);
        if (state.current) known.add(state.current.id);
        for (const item of data.items) {
          if (!known.has(item.id)) state.buffer.push(item);
        }
        // a fetch that began before a skip may have leased the skipped item again: give it back
        const skipped = new Set(state.skipped);
        const again = data.items.filter((item) => skipped.has(item.id)).map((item) => item.id);
        if (again.length) {
          api("POST", "/api/review/release", {project: config.project, items: again}).catch(() => {});
        }
      })
      .finally(() => { state.fetching = null; });
    return state.fetching;
  }

  // --- showing an item -------------------------------------------------------------------------

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function percent(value) {
    return `${Math.round(value * 1000) / 10}%`;
  }

  function renderProgress() {
    const p = state.progress;
    const total = p.reviewed + p.waiting;
    const share = total ? p.reviewed / total : 0;
    $("progress-bar").style.width = percent(share);
    $("progress-percent").textContent = percent(share);
    $("progress").setAttribute("aria-valuenow", String(p.reviewed));
    $("progress").setAttribute("aria-valuemax", String(total));
    document.querySelector('[data-count="reviewed"]').textContent = p.reviewed;
    document.querySelector('[data-count="left"]').textContent = p.waiting;
    document.querySelector('[data-count="mine"]').textContent = p.mine;
  }

  function renderLabels() {
    const item = state.current;
    const predicted = new Set((item && item.predicted_labels) || []);
    buttons.forEach((button, label) => {
      button.classList.toggle("is-predicted", predicted.has(label));
      button.setAttribute("aria-pressed", config.multiLabel && state.toggled.has(label) ? "true" : "false");
    });
  }

  function render() {
    const item = state.current;
    $("loading").hidden = true;
    $("review-grid").hidden = !item;
    $("empty").hidden = Boolean(item);
    if (!item) return;

    const content = $("item-content");
    content.replaceChildren();
    const isImage = item.kind === "image" && item.file_url;
    content.classList.toggle("is-zoomable", Boolean(isImage));
    $("zoom-hint").hidden = !isImage;
    if (isImage) {
      const image = element("img", "item-image");
      image.src = item.file_url;
      image.alt = item.original_name || `Item ${item.id}`;
      image.draggable = false;
      content.append(image);
    } else {
      content.append(element("div", "item-text", item.text));
    }
    zoomReset();
    // An item handed back by undo has no queue reason: say nothing rather than an empty "queue:".
    const why = item.reason === "audit" ? "audit sample" : item.reason ? `queue: ${item.reason}` : "";
    $("item-meta").textContent = [`#${item.id}`, item.original_name, why].filter(Boolean).join(" · ");

    const list = $("predictions");
    list.replaceChildren();
    if (!item.predictions.length) list.append(element("li", "muted small", "No prediction yet: choose the labels."));
    item.predictions.slice(0, 5).forEach((prediction, index) => {
      const row = element("li", "prediction");
      const button = element("button", "prediction-button");
      button.type = "button";
      button.dataset.label = prediction.label;
      button.setAttribute("aria-label", `Choose ${prediction.label} (Shift+${index + 1})`);
      const head = element("div", "prediction-head");
      const name = element("span", "prediction-label");
      name.append(element("kbd", "", `⇧${index + 1}`), prediction.label);
      head.append(name, element("span", "prediction-value", percent(prediction.confidence)));
      const bar = element("div", "bar");
      const fill = element("div", "bar-fill");
      fill.style.width = percent(prediction.confidence);
      bar.append(fill);
      button.append(head, bar);
      button.addEventListener("click", () => chooseLabel(prediction.label));
      row.append(button);
      list.append(row);
    });
    state.toggled = new Set(item.predicted_labels || []);
    renderLabels();
    state.shownAt = performance.now();
  }

  function say(text, kind) {
    const status = $("status");
    status.textContent = text;
    status.className = `status small${kind ? ` status-${kind}` : ""}`;
  }

  async function next() {
    if (!state.buffer.length) {
      try { await refill(); } catch (error) { say(error.message, "error"); }
    }
    state.current = state.buffer.shift() || null;
    render();
    if (state.buffer.length < 2) refill().catch((error) => say(error.message, "error"));
  }

  // --- decisions -------------------------------------------------------------------------------

  function sameSet(a, b) {
    const left = new Set(a);
    return left.size === new Set(b).size && [...left].every((label) => b.includes(label));
  }

  async function decide(decision, labels) {
    const item = state.current;
    if (state.busy || !item) return;
    state.busy = true;
    const body = {item: item.id, decision, seconds_spent: Math.round((performance.now() - state.shownAt) / 100) / 10};
    if (decision === "modify") body.labels = labels;
    try {
      const result = await api("POST", "/api/review/submit", body);
      state.gone.add(item.id);
      state.produced.set(result.id, result.item_state);
      state.progress.mine += 1;
      if (result.item_state === "reviewed") {
        state.progress.reviewed += 1;
        state.progress.waiting = Math.max(0, state.progress.waiting - 1);
      }
      renderProgress();
      const verb = decision === "modify" ? `Labelled ${labels.join(", ")}:`
        : decision === "approve" ? "Approved" : "Rejected";
      say(`${verb} #${item.id}. Z to undo.`, "ok");
      const what = decision === "reject" ? "rejected"
        : decision === "approve" ? `approved ${(item.predicted_labels || []).join(", ")}` : labels.join(", ");
      remember({decision: result.id, item: item.id, text: what, undone: false});
      await next();
    } catch (error) {
      say(error.message, "error");
      if (error.status === 409) {  // someone else has it, or it is settled: move on
        state.gone.add(item.id);
        await next();
      }
    } finally {
      state.busy = false;
    }
  }

  function chooseLabel(label) {
    const item = state.current;
    if (!item || !buttons.has(label)) return;
    if (config.multiLabel) {
      if (state.toggled.has(label)) state.toggled.delete(label); else state.toggled.add(label);
      renderLabels();
      return;
    }
    if (item.predicted_labels && sameSet(item.predicted_labels, [label])) decide("approve");
    else decide("modify", [label]);
  }

  function enter() {
    const item = state.current;
    if (!item) return;
    if (config.multiLabel) {
      const labels = [...state.toggled];
      if (item.predicted_labels && sameSet(item.predicted_labels, labels)) decide("approve");
      else decide("modify", labels);
    } else if (item.predicted_labels) {
      decide("approve");
    } else {
      say("There is no prediction to approve: choose a label.", "error");
    }
  }

  async function skip() {
    const item = state.current;
    if (state.busy || !item) return;
    state.skipped.push(item.id);
    state.gone.add(item.id);
    api("POST", "/api/review/release", {project: config.project, items: [item.id]}).catch(() => {});
    say(`Skipped #${item.id}.`);
    await next();
  }

  async function undo() {
    if (state.busy) return;
    state.busy = true;
    try {
      const result = await api("POST", "/api/review/undo", {project: config.project});
      state.progress.mine = Math.max(0, state.progress.mine - 1);
      if (state.produced.get(result.undone.id) === "reviewed") {
        state.progress.reviewed = Math.max(0, state.progress.reviewed - 1);
        state.progress.waiting += 1;
      }
      renderProgress();
      if (result.item) {
        if (state.current) state.buffer.unshift(state.current);
        state.current = result.item;
        state.skipped = state.skipped.filter((id) => id !== result.item.id);
        state.gone.delete(result.item.id);
        state.buffer = state.buffer.filter((item) => item.id !== result.item.id);
        render();
      }
      const entry = state.history.find((h) => h.decision === result.undone.id);
      if (entry) entry.undone = true;
      renderHistory();
      say(`Undid your decision on #${result.undone.item}.`, "ok");
    } catch (error) {
      say(error.message, "error");
    } finally {
      state.busy = false;
    }
  }

  // --- keys and buttons ------------------------------------------------------------------------

  // --- history ---------------------------------------------------------------------------------

  function remember(entry) {
    state.history.unshift(entry);
    state.history = state.history.slice(0, 8);
    renderHistory();
  }

  function renderHistory() {
    const list = $("history");
    list.replaceChildren();
    const latest = state.history.find((entry) => !entry.undone);
    for (const entry of state.history) {
      const row = element("li");
      row.append(element("span", entry.undone ? "undone" : "", `#${entry.item}: ${entry.text}`));
      if (entry.undone) row.append(element("span", "small muted", "undone"));
      else if (entry === latest) {
        const button = element("button", "link-button small", "Undo");
        button.type = "button";
        button.setAttribute("aria-label", `Undo the decision on #${entry.item} (Z)`);
        button.addEventListener("click", undo);
        row.append(button);
      }
      list.append(row);
    }
    $("history-card").hidden = !state.history.length;
  }

  // --- label search (type-ahead) -----------------------------------------------------------------

  const search = $("label-search");

  function visibleCategories() {
    return [...buttons.values()].filter((button) => !button.hidden);
  }

  function filterCategories() {
    const words = search.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    buttons.forEach((button) => {
      button.hidden = !words.every((word) => button.dataset.search.includes(word));
    });
  }

  function clearSearch() {
    search.value = "";
    filterCategories();
  }

  if (search) {
    search.addEventListener("input", filterCategories);
    search.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        const first = visibleCategories()[0];
        if (!first) { say("No label matches the search.", "error"); return; }
        const label = first.dataset.label;
        clearSearch();
        search.blur();
        chooseLabel(label);
      } else if (event.key === "Escape") {
        event.preventDefault();
        clearSearch();
        search.blur();
      } else if (event.key === "ArrowDown") {
        const first = visibleCategories()[0];
        if (first) { event.preventDefault(); first.focus(); }
      }
    });
  }

  // --- image zoom and pan ------------------------------------------------------------------------

  function zoomApply() {
    const image = document.querySelector("#item-content .item-image");
    if (!image) return;
    const z = state.zoom;
    image.style.transform = z.scale === 1 ? "" : `translate(${z.x}px, ${z.y}px) scale(${z.scale})`;
  }

  function zoomReset() {
    state.zoom = {scale: 1, x: 0, y: 0};
    zoomApply();
  }

  function zoomBy(factor, originX, originY) {
    const image = document.querySelector("#item-content .item-image");
    if (!image) return;
    const z = state.zoom;
    const scale = Math.min(8, Math.max(1, z.scale * factor));
    const box = image.getBoundingClientRect();
    // Keep the point under the cursor (or the centre) where it is.
    const px = originX === undefined ? box.width / 2 : originX - box.left;
    const py = originY === undefined ? box.height / 2 : originY - box.top;
    const ratio = scale / z.scale;
    z.x = scale === 1 ? 0 : z.x + px * (1 - ratio);
    z.y = scale === 1 ? 0 : z.y + py * (1 - ratio);
    z.scale = scale;
    zoomApply();
  }

  function panBy(dx, dy) {
    if (state.zoom.scale === 1) return false;
    state.zoom.x += dx;
    state.zoom.y += dy;
    zoomApply();
    return true;
  }

  const viewer = $("item-content");
  viewer.addEventListener("wheel", (event) => {
    if (!viewer.classList.contains("is-zoomable")) return;
    event.preventDefault();
    zoomBy(event.deltaY < 0 ? 1.2 : 1 / 1.2, event.clientX, event.clientY);
  }, {passive: false});
  viewer.addEventListener("dblclick", zoomReset);
  viewer.addEventListener("pointerdown", (event) => {
    if (!viewer.classList.contains("is-zoomable") || state.zoom.scale === 1) return;
    let last = [event.clientX, event.clientY];
    viewer.classList.add("is-panning");
    viewer.setPointerCapture(event.pointerId);
    const move = (e) => { panBy(e.clientX - last[0], e.clientY - last[1]); last = [e.clientX, e.clientY]; };
    const up = () => {
      viewer.classList.remove("is-panning");
      viewer.removeEventListener("pointermove", move);
      viewer.removeEventListener("pointerup", up);
    };
    viewer.addEventListener("pointermove", move);
    viewer.addEventListener("pointerup", up);
  });

  // --- the keys overlay ----------------------------------------------------------------------------

  const overlay = $("keys-overlay");
  let focusBefore = null;

  function showKeys(show) {
    if (show === !overlay.hidden) return;
    overlay.hidden = !show;
    if (show) { focusBefore = document.activeElement; $("keys-close").focus(); }
    else if (focusBefore && focusBefore.focus) focusBefore.focus();
  }
  $("keys-close").addEventListener("click", () => showKeys(false));
  overlay.addEventListener("click", (event) => { if (event.target === overlay) showKeys(false); });

  // --- keys and buttons ------------------------------------------------------------------------

  const PAN = {arrowleft: [40, 0], arrowright: [-40, 0], arrowup: [0, 40], arrowdown: [0, -40]};

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (!overlay.hidden) {
      if (event.key === "Escape" || event.key === "?") { event.preventDefault(); showKeys(false); }
      return;
    }
    if (event.target.closest && event.target.closest("input, textarea, select")) return;
    if (event.repeat && !(event.key.toLowerCase() in PAN)) return;
    const key = event.key.toLowerCase();
    const top = /^Digit([1-5])$/.exec(event.code || "");
    if (event.shiftKey && top) {
      const prediction = state.current && state.current.predictions[Number(top[1]) - 1];
      if (prediction) chooseLabel(prediction.label);
    } else if (key === "?") showKeys(true);
    else if (key === "/" && search) search.focus();
    else if (key === "+" || key === "=") zoomBy(1.25);
    else if (key === "-") zoomBy(1 / 1.25);
    else if (key in PAN) { if (!panBy(...PAN[key])) return; }
    else if (key === "escape") zoomReset();
    else if (key === "enter") { if (event.target.closest && event.target.closest("button")) return; enter(); }
    else if (key === "x") decide("reject");
    else if (key === "s") skip();
    else if (key === "z") undo();
    else if (shortcuts.has(key)) chooseLabel(shortcuts.get(key));
    else return;
    event.preventDefault();
  });
  $("action-approve").addEventListener("click", enter);
  $("action-reject").addEventListener("click", () => decide("reject"));
  $("action-skip").addEventListener("click", skip);
  $("action-undo").addEventListener("click", undo);
  $("action-reload").addEventListener("click", () => { state.skipped = []; next(); });

  // Leaving the page gives back the leases of the items not decided yet, so others get them now.
  window.addEventListener("pagehide", () => {
    const held = [state.current, ...state.buffer].filter(Boolean).map((item) => item.id);
    if (!held.length || !navigator.sendBeacon) return;
    const form = new FormData();
    form.append("csrfmiddlewaretoken", csrfToken);
    form.append("project", config.project);
    held.forEach((id) => form.append("items", id));
    navigator.sendBeacon("/api/review/release", form);
  });

  renderProgress();
  next();
})();
