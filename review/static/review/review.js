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
    if (item.kind === "image" && item.file_url) {
      const image = element("img", "item-image");
      image.src = item.file_url;
      image.alt = item.original_name || `Item ${item.id}`;
      content.append(image);
    } else {
      content.append(element("div", "item-text", item.text));
    }
    const why = item.reason === "audit" ? "audit sample" : `queue: ${item.reason}`;
    $("item-meta").textContent = [`#${item.id}`, item.original_name, why].filter(Boolean).join(" · ");

    const list = $("predictions");
    list.replaceChildren();
    if (!item.predictions.length) list.append(element("li", "muted small", "No prediction yet: choose the labels."));
    for (const prediction of item.predictions) {
      const row = element("li", "prediction");
      const head = element("div", "prediction-head");
      head.append(element("span", "prediction-label", prediction.label),
                  element("span", "prediction-value", percent(prediction.confidence)));
      const bar = element("div", "bar");
      const fill = element("div", "bar-fill");
      fill.style.width = percent(prediction.confidence);
      bar.append(fill);
      row.append(head, bar);
      list.append(row);
    }
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
    if (!item) return;
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
      say(`Undid your decision on #${result.undone.item}.`, "ok");
    } catch (error) {
      say(error.message, "error");
    } finally {
      state.busy = false;
    }
  }

  // --- keys and buttons ------------------------------------------------------------------------

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    if (event.target.closest && event.target.closest("input, textarea, select")) return;
    const key = event.key.toLowerCase();
    if (key === "enter") enter();
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
