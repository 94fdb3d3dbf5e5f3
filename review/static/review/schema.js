// The label-schema editor: add, rename, reorder, nest, colour and key the labels, then save them
// all as the project's next schema version (the page posts them as one JSON field).
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("schema-config").textContent);
  const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                   "#bcbd22", "#17becf"];
  const rows = config.categories.map((c, i) => Object.assign({}, c, {color: c.color || PALETTE[i % PALETTE.length]}));
  let fresh = 0;
  const body = document.getElementById("schema-rows");
  const input = document.getElementById("schema-new");

  function element(tag, props) {
    const node = document.createElement(tag);
    Object.assign(node, props || {});
    return node;
  }

  function render(focus) {
    body.replaceChildren();
    rows.forEach((row, index) => {
      const tr = element("tr");
      tr.dataset.key = row.key;
      const name = element("input", {type: "text", value: row.name, maxLength: 200, className: "schema-name"});
      name.setAttribute("aria-label", `Name of label ${index + 1}`);
      name.addEventListener("input", () => { row.name = name.value; });
      name.addEventListener("change", () => render());
      const parent = element("select", {className: "schema-parent"});
      parent.setAttribute("aria-label", `Parent of ${row.name}`);
      parent.append(element("option", {value: "", textContent: "(top level)"}));
      rows.forEach((other) => {
        if (other !== row) parent.append(element("option", {value: other.key, textContent: other.name}));
      });
      parent.value = row.parent || "";
      parent.addEventListener("change", () => { row.parent = parent.value || null; });
      const color = element("input", {type: "color", value: row.color, className: "schema-color"});
      color.setAttribute("aria-label", `Colour of ${row.name}`);
      color.addEventListener("input", () => { row.color = color.value; });
      const key = element("input", {type: "text", value: row.shortcut || "", maxLength: 1, placeholder: "auto",
                                    className: "schema-key", size: 3});
      key.setAttribute("aria-label", `Key of ${row.name}`);
      key.addEventListener("input", () => { row.shortcut = key.value.toLowerCase(); });
      const tools = element("td", {className: "schema-tools"});
      const up = element("button", {type: "button", className: "button button-small", textContent: "↑",
                                    disabled: index === 0});
      up.setAttribute("aria-label", `Move ${row.name} up`);
      up.addEventListener("click", () => move(index, -1));
      const down = element("button", {type: "button", className: "button button-small", textContent: "↓",
                                      disabled: index === rows.length - 1});
      down.setAttribute("aria-label", `Move ${row.name} down`);
      down.addEventListener("click", () => move(index, 1));
      const remove = element("button", {type: "button", className: "button button-small button-danger",
                                        textContent: "✕"});
      remove.setAttribute("aria-label", `Remove ${row.name}`);
      remove.addEventListener("click", () => drop(index));
      tools.append(up, down, remove);
      const cells = [name, parent, color, key].map((control) => {
        const td = element("td");
        td.append(control);
        return td;
      });
      tr.append(...cells, tools);
      body.append(tr);
    });
    if (focus) {
      // Keep the focus on the row that moved: on the same button, or the other one at the top or bottom.
      const row = body.querySelector(`tr[data-key="${CSS.escape(focus.key)}"]`);
      const [up, down] = row ? row.querySelectorAll(".schema-tools button") : [];
      const target = focus.up ? (up.disabled ? down : up) : (down.disabled ? up : down);
      if (target) target.focus();
    }
  }

  function move(index, step) {
    const [row] = rows.splice(index, 1);
    rows.splice(index + step, 0, row);
    render({key: row.key, up: step < 0});
  }

  function drop(index) {
    const [row] = rows.splice(index, 1);
    rows.forEach((other) => { if (other.parent === row.key) other.parent = row.parent || null; });
    render();
  }

  function add() {
    const name = input.value.trim();
    if (!name) return;
    fresh += 1;
    rows.push({key: `new:${fresh}`, name, parent: null, color: PALETTE[rows.length % PALETTE.length],
               shortcut: "", description: ""});
    input.value = "";
    render();
    input.focus();
  }

  document.getElementById("schema-add").addEventListener("click", add);
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") { event.preventDefault(); add(); }
  });
  document.getElementById("schema-form").addEventListener("submit", () => {
    if (input.value.trim()) add();
    const multi = document.getElementById("schema-multi").checked;
    document.getElementById("schema-json").value = JSON.stringify({
      multi_label: multi,
      min_labels: multi ? config.minLabels : null,
      max_labels: multi ? config.maxLabels : null,
      categories: rows.map((row) => ({key: row.key, name: row.name, parent: row.parent || null, color: row.color,
                                      shortcut: row.shortcut || "", description: row.description || ""})),
    });
  });
  render();
})();
