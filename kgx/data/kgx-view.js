/* kgx graph view: draws the embedded graph with vis-network; all text goes through textContent. */
(function () {
  "use strict";

  var data = JSON.parse(document.getElementById("kgx-data").textContent);
  var body = document.body;
  var view = data.view;
  var byId = new Map();
  var edgeById = new Map();
  var groupById = new Map();
  var incident = new Map();
  var typeColor = new Map();
  // labels drawn smaller than this (screen px) are hidden: they would only be noise
  var LABEL_MIN_PX = 10;
  // the first view zooms no further out than this, so that the smallest labels (14 px) stay legible
  var LEGIBLE_SCALE = 0.8;
  var FONT_MIN = 14, FONT_MAX = 24;

  data.types.forEach(function (t) { typeColor.set(t.type, t.color); });
  data.nodes.forEach(function (n) { byId.set(n.id, n); incident.set(n.id, []); });
  data.edges.forEach(function (e) {
    edgeById.set(e.id, e);
    incident.get(e.from).push(e);
    if (e.to !== e.from) incident.get(e.to).push(e);
  });
  data.groups.forEach(function (g) {
    g.members = g.edges.map(function (id) { return edgeById.get(id); });
    groupById.set(g.id, g);
  });
  var maxDegree = data.nodes.reduce(function (m, n) { return Math.max(m, n.degree); }, 0);

  var first = { how: "all", focus: view.focus }; // how the first view was framed (see fitFirstView)
  var state = {
    minScore: data.stats.min_score,
    hiddenTypes: new Set(),
    hideIsolated: true,
    selected: null,
  };

  // --- small DOM helpers -----------------------------------------------------------------------

  function el(tag, props) {
    var node = document.createElement(tag);
    if (props) {
      Object.keys(props).forEach(function (k) {
        if (k === "text") node.textContent = props[k];
        else if (k === "className") node.className = props[k];
        else node.setAttribute(k, props[k]);
      });
    }
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined) continue;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function fmt(x) { return typeof x === "number" ? x.toFixed(3) : "n/a"; }

  function plural(n, one, many) { return n.toLocaleString("en") + " " + (n === 1 ? one : many); }

  function darker(hex) {
    var v = parseInt(hex.slice(1), 16);
    var r = Math.round(((v >> 16) & 255) * 0.7), g = Math.round(((v >> 8) & 255) * 0.7);
    var b = Math.round((v & 255) * 0.7);
    return "#" + ((1 << 24) + (r << 16) + (g << 8) + b).toString(16).slice(1);
  }

  function swatch(type) {
    var s = el("span", { className: "kgx-swatch" });
    s.style.background = typeColor.get(type) || "#999999";
    return s;
  }

  // --- the network -----------------------------------------------------------------------------

  // the most connected entities get the largest labels, so they stay readable when zoomed out
  // (hubs of a small graph only a little larger: the denominator is at least 8)
  function fontSize(n) {
    var k = Math.sqrt(Math.max(0, n.degree - 1) / Math.max(maxDegree - 1, 8));
    return Math.round(FONT_MIN + (FONT_MAX - FONT_MIN) * k);
  }

  var nodes = new vis.DataSet(data.nodes.map(function (n) {
    var c = typeColor.get(n.type) || "#999999";
    return {
      id: n.id,
      label: n.name,
      title: n.name + " (" + n.type + ")",
      value: n.mentions,
      font: { size: fontSize(n) },
      color: {
        background: c, border: darker(c),
        highlight: { background: c, border: "#1d2330" },
        hover: { background: c, border: "#1d2330" },
      },
    };
  }));

  // a group is the one drawn edge for all relations between two entities
  function groupLabel(members) {
    var names = [];
    members.forEach(function (e) { if (names.indexOf(e.relation) < 0) names.push(e.relation); });
    if (names.length > 3) return names.slice(0, 2).join(" · ") + " +" + (names.length - 2);
    return names.join(" · ");
  }

  function groupTitle(g, members) {
    var box = el("div", { className: "kgx-tip" });
    members.forEach(function (e) {
      box.appendChild(el("div", { text: byId.get(e.from).name + " —" + e.relation + "→ " + byId.get(e.to).name +
        " · confidence " + fmt(e.score) + " · " + plural(e.count, "evidence item", "evidence items") }));
    });
    if (members.length < g.members.length) {
      box.appendChild(el("div", { className: "kgx-muted", text: (g.members.length - members.length) + " more hidden by the filters" }));
    }
    return box;
  }

  function groupItem(g, members) {
    var fwd = false, back = false, best = 0;
    members.forEach(function (e) {
      if (e.from === g.from) fwd = true; else back = true;
      best = Math.max(best, e.score);
    });
    return {
      id: g.id, from: g.from, to: g.to,
      text: groupLabel(members),
      title: groupTitle(g, members),
      width: (view.edge_labels === "always" ? 1 + 3 * best : 0.5 + 1.5 * best) + Math.min(3, members.length - 1),
      arrows: { to: { enabled: fwd, scaleFactor: 0.55 }, from: { enabled: back && g.from !== g.to, scaleFactor: 0.55 } },
    };
  }

  // the groups whose relation labels are drawn: all of them in a small graph, else those around
  // the hovered or selected entity or edge (see focusLabels)
  var labelled = new Set(view.edge_labels === "always" ? data.groups.map(function (g) { return g.id; }) : []);

  var edges = new vis.DataSet(data.groups.map(function (g) {
    var item = groupItem(g, g.members);
    g.text = item.text;
    g.shown = g.members.length;
    item.label = labelled.has(g.id) ? item.text : " ";
    delete item.text;
    return item;
  }));

  var container = document.getElementById("kgx-graph");
  var options = {
    autoResize: true,
    layout: { improvedLayout: view.improved_layout, randomSeed: 7 },
    nodes: {
      shape: "dot",
      borderWidth: 1.5,
      scaling: { min: 9, max: 28, label: { enabled: false, drawThreshold: LABEL_MIN_PX } },
      font: { size: FONT_MIN, color: "#1d2330", strokeWidth: 4, strokeColor: "#ffffff" },
    },
    edges: {
      arrows: { to: { enabled: true, scaleFactor: 0.55 } },
      color: { color: "#9aa1ab", highlight: "#1d2330", hover: "#1d2330", inherit: false,
        opacity: view.edge_labels === "always" ? 1 : 0.6 },
      font: { size: 13, align: "horizontal", color: "#3b4250", strokeWidth: 3, strokeColor: "#ffffff" },
      scaling: { label: { drawThreshold: LABEL_MIN_PX } },
      smooth: view.smooth_edges ? { enabled: true, type: "continuous", roundness: 0.3 } : false,
      selectionWidth: 1.5,
    },
    physics: {
      solver: "forceAtlas2Based",
      forceAtlas2Based: { gravitationalConstant: -70, springLength: 140, springConstant: 0.05, avoidOverlap: 0.3 },
      stabilization: { enabled: true, iterations: view.stabilization_iterations, updateInterval: 50, fit: false },
      minVelocity: 0.75,
    },
    interaction: {
      hover: true, tooltipDelay: 150, keyboard: false,
      hideEdgesOnDrag: view.large, hideEdgesOnZoom: view.large,
    },
  };
  var network = new vis.Network(container, { nodes: nodes, edges: edges }, options);

  // --- filters ---------------------------------------------------------------------------------

  var visible = { nodes: 0, edges: 0 };

  function applyFilters() {
    var shownDegree = new Map();
    var edgeUpdates = [];
    var nodeUpdates = [];
    visible.edges = 0;
    data.edges.forEach(function (e) {
      var hide = e.score < state.minScore ||
        state.hiddenTypes.has(byId.get(e.from).type) || state.hiddenTypes.has(byId.get(e.to).type);
      if (!hide) {
        visible.edges++;
        shownDegree.set(e.from, (shownDegree.get(e.from) || 0) + 1);
        shownDegree.set(e.to, (shownDegree.get(e.to) || 0) + 1);
      }
      e.hidden = hide;
    });
    data.groups.forEach(function (g) {
      var members = g.members.filter(function (e) { return !e.hidden; });
      if (members.length === g.shown) return; // the filters are monotone: same count, same set
      g.shown = members.length;
      var item = groupItem(g, members.length ? members : g.members);
      g.text = item.text;
      item.label = labelled.has(g.id) ? item.text : " ";
      delete item.text;
      item.hidden = members.length === 0;
      edgeUpdates.push(item);
    });
    visible.nodes = 0;
    data.nodes.forEach(function (n) {
      var hide = state.hiddenTypes.has(n.type) ||
        (state.hideIsolated && n.degree > 0 && !shownDegree.get(n.id));
      if (!hide) visible.nodes++;
      if (hide !== Boolean(n.hidden)) { n.hidden = hide; nodeUpdates.push({ id: n.id, hidden: hide }); }
    });
    if (edgeUpdates.length) edges.update(edgeUpdates);
    if (nodeUpdates.length) nodes.update(nodeUpdates);
    body.dataset.visibleNodes = String(visible.nodes);
    body.dataset.visibleEdges = String(visible.edges);
    document.getElementById("kgx-counts").textContent =
      "showing " + plural(visible.nodes, "entity", "entities") + ", " +
      plural(visible.edges, "relation", "relations");
    if (state.selected !== null) showNode(state.selected);
  }

  var slider = document.getElementById("kgx-min-score");
  var sliderValue = document.getElementById("kgx-min-score-value");
  slider.min = String(data.stats.min_score);
  slider.value = String(data.stats.min_score);

  function setMinScore(value) {
    slider.value = String(value);
    state.minScore = parseFloat(slider.value);
    sliderValue.textContent = state.minScore.toFixed(2);
    applyFilters();
  }
  slider.addEventListener("input", function () { setMinScore(slider.value); });

  var isolated = document.getElementById("kgx-hide-isolated");
  isolated.addEventListener("change", function () {
    state.hideIsolated = isolated.checked;
    applyFilters();
  });

  // --- legend ----------------------------------------------------------------------------------

  var legend = document.getElementById("kgx-legend-list");
  data.types.forEach(function (t) {
    var item = el("li", { title: "Show or hide " + t.type, "data-type": t.type },
      swatch(t.type), el("span", { text: t.type }), el("span", { className: "kgx-count", text: String(t.count) }));
    item.addEventListener("click", function () {
      if (state.hiddenTypes.has(t.type)) state.hiddenTypes.delete(t.type);
      else state.hiddenTypes.add(t.type);
      item.classList.toggle("kgx-off", state.hiddenTypes.has(t.type));
      applyFilters();
    });
    legend.appendChild(item);
  });

  // --- side panel ------------------------------------------------------------------------------

  var panel = document.getElementById("kgx-panel");

  function entityLink(id) {
    var n = byId.get(id);
    var b = el("button", { type: "button", className: "kgx-entity-link", title: id }, swatch(n.type), " ", n.name);
    b.addEventListener("click", function () { selectNode(id, true); });
    return b;
  }

  function highlighted(ev) {
    var div = el("div", { className: "kgx-ev-text" });
    if (typeof ev.sentence !== "string") {
      div.append(el("mark", { className: "kgx-head", text: ev.head_text || "" }), " … ",
        el("mark", { className: "kgx-tail", text: ev.tail_text || "" }));
      return div;
    }
    var chars = Array.from(ev.sentence); // offsets count code points, as Python does
    var spans = [];
    [[ev.head_start, ev.head_end, ev.head_text, "kgx-head"], [ev.tail_start, ev.tail_end, ev.tail_text, "kgx-tail"]]
      .forEach(function (s) {
        if (typeof s[0] !== "number" || typeof ev.sent_start !== "number") return;
        var a = s[0] - ev.sent_start, b = s[1] - ev.sent_start;
        if (a >= 0 && b > a && b <= chars.length && chars.slice(a, b).join("") === s[2]) spans.push([a, b, s[3]]);
      });
    spans.sort(function (x, y) { return x[0] - y[0]; });
    var pos = 0;
    spans.forEach(function (s) {
      if (s[0] < pos) return;
      div.append(chars.slice(pos, s[0]).join(""), el("mark", { className: s[2], text: chars.slice(s[0], s[1]).join("") }));
      pos = s[1];
    });
    div.append(chars.slice(pos).join(""));
    return div;
  }

  function evidenceList(e) {
    var shown = e.evidence.length;
    var summary = "Evidence (" + (shown < e.evidence_total ? shown + " best of " + e.evidence_total : String(shown)) + ")";
    var details = el("details", null, el("summary", { text: summary }));
    if (shown <= 3) details.open = true;
    e.evidence.forEach(function (ev) {
      var meta = "doc " + ev.doc_id + " · score " + fmt(ev.score) + (ev.model ? " · " + ev.model : "");
      details.appendChild(el("div", { className: "kgx-ev" }, el("div", { className: "kgx-ev-meta", text: meta }), highlighted(ev)));
    });
    return details;
  }

  function fact(e, nodeId) {
    var outgoing = e.from === nodeId;
    var other = outgoing ? e.to : e.from;
    var div = el("div", { className: "kgx-fact" + (e.hidden ? " kgx-hidden-fact" : ""), "data-edge": e.id },
      el("div", { className: "kgx-fact-head" },
        el("span", { className: "kgx-dir", text: outgoing ? "→" : "←", title: outgoing ? "outgoing" : "incoming" }),
        el("span", { className: "kgx-rel", text: e.relation }),
        entityLink(other),
        el("span", { className: "kgx-score",
          text: "confidence " + fmt(e.score) + " · count " + e.count + (e.hidden ? " · hidden by filters" : "") })),
      evidenceList(e));
    return div;
  }

  function showNode(id) {
    var n = byId.get(id);
    clear(panel);
    panel.append(el("h2", { text: n.name }),
      el("p", { className: "kgx-meta" }, swatch(n.type), " " + n.type + " · " + plural(n.mentions, "mention", "mentions")),
      el("p", { className: "kgx-meta" }, el("code", { text: n.id })));
    if (n.aliases.length) panel.append(el("p", { className: "kgx-meta", text: "Also: " + n.aliases.join(", ") }));
    if (n.docs.length) {
      var docs = "Documents: " + n.docs.join(", ") + (n.docs_total > n.docs.length ? " … (" + n.docs_total + " in all)" : "");
      panel.append(el("p", { className: "kgx-meta", text: docs }));
    }
    var facts = incident.get(id).slice().sort(function (a, b) {
      return b.score - a.score || (a.relation < b.relation ? -1 : a.relation > b.relation ? 1 : 0);
    });
    panel.append(el("h3", { text: "Facts (" + facts.length + ")" }));
    if (!facts.length) panel.append(el("p", { className: "kgx-muted", text: "No relations in this view." }));
    facts.forEach(function (e) { panel.appendChild(fact(e, id)); });
  }

  function showEdge(groupId) {
    var g = groupById.get(groupId);
    clear(panel);
    panel.append(el("h2", { text: groupLabel(g.members) }),
      el("p", { className: "kgx-meta" }, entityLink(g.from), g.from === g.to ? "" : " — ", g.from === g.to ? null : entityLink(g.to)),
      el("h3", { text: "Facts (" + g.members.length + ")" }));
    g.members.forEach(function (e) { panel.appendChild(fact(e, e.from)); });
  }

  function showOverview() {
    clear(panel);
    var s = data.stats;
    panel.append(el("h2", { text: "Overview" }),
      el("p", { className: "kgx-meta", text: plural(s.nodes_shown, "entity", "entities") + " and " +
        plural(s.edges_shown, "relation", "relations") + " in this page" +
        (s.min_score > 0 ? " (relations with confidence ≥ " + s.min_score + ")" : "") + "." }),
      el("p", { className: "kgx-muted", text: "Click an entity to list its facts and their evidence; click a relation " +
        "to see its evidence. Use Find to locate an entity by name or alias, the slider to hide weak relations, " +
        "and the legend to hide entity types." }));
    if (view.focus !== null) {
      panel.append(el("p", { className: "kgx-meta" }, "Most connected: ", entityLink(view.focus),
        " (" + plural(byId.get(view.focus).degree, "relation", "relations") + ")" +
        (first.how === "all" ? "" : ": the view opens on it; scroll to zoom out, or press “Whole graph”.")));
    }
    if (view.edge_labels !== "always") {
      panel.append(el("p", { className: "kgx-muted", text: "Relation labels show when you point at or select an " +
        "entity or an edge; labels too small to read appear as you zoom in." }));
    }
  }

  function selectNode(id, focus) {
    if (!byId.has(id)) return false;
    state.selected = id;
    body.dataset.selected = id;
    network.selectNodes([id]);
    focusLabels();
    if (focus) network.focus(id, { scale: Math.max(network.getScale(), 1.0), animation: { duration: 300 } });
    showNode(id);
    return true;
  }

  network.on("click", function (params) {
    if (params.nodes.length) selectNode(params.nodes[0], false);
    else if (params.edges.length) { state.selected = null; delete body.dataset.selected; showEdge(params.edges[0]); }
    else { state.selected = null; delete body.dataset.selected; showOverview(); }
    focusLabels();
  });

  // --- relation labels on hover and selection ----------------------------------------------------

  var hovered = { node: null, edge: null };

  function groupsAround(id) {
    var out = [];
    incident.get(id).forEach(function (e) { if (out.indexOf(e.group) < 0) out.push(e.group); });
    return out;
  }

  function setLabelled(ids) {
    var want = new Set(ids), updates = [];
    labelled.forEach(function (id) { if (!want.has(id)) updates.push({ id: id, label: " " }); });
    want.forEach(function (id) { if (!labelled.has(id)) updates.push({ id: id, label: groupById.get(id).text }); });
    labelled = want;
    if (updates.length) edges.update(updates);
  }

  function focusLabels() {
    if (view.edge_labels === "always") return;
    var ids = [];
    if (state.selected !== null) ids = ids.concat(groupsAround(state.selected));
    if (hovered.node !== null) ids = ids.concat(groupsAround(hovered.node));
    ids = ids.concat(network.getSelectedEdges());
    if (hovered.edge !== null) ids.push(hovered.edge);
    setLabelled(ids);
  }

  network.on("hoverNode", function (p) { hovered.node = p.node; focusLabels(); });
  network.on("blurNode", function () { hovered.node = null; focusLabels(); });
  network.on("hoverEdge", function (p) { hovered.edge = p.edge; focusLabels(); });
  network.on("blurEdge", function () { hovered.edge = null; focusLabels(); });

  // --- search ----------------------------------------------------------------------------------

  function norm(s) { return String(s).normalize("NFKC").toLowerCase().replace(/\s+/g, " ").trim(); }

  var searchIndex = [];
  data.nodes.forEach(function (n) {
    searchIndex.push([norm(n.name), n]);
    n.aliases.forEach(function (a) { searchIndex.push([norm(a), n]); });
  });

  function findNode(query) {
    if (byId.has(query)) return byId.get(query);
    var q = norm(query);
    if (!q) return null;
    var best = null, bestRank = 3;
    searchIndex.forEach(function (entry) {
      var key = entry[0], n = entry[1];
      var rank = key === q ? 0 : key.startsWith(q) ? 1 : key.indexOf(q) >= 0 ? 2 : 3;
      if (rank < bestRank || (rank === bestRank && best !== null && rank < 3 &&
          (n.degree > best.degree || (n.degree === best.degree && n.name < best.name)))) {
        best = n; bestRank = rank;
      }
    });
    return bestRank < 3 ? best : null;
  }

  var status = document.getElementById("kgx-status");
  function say(text, miss) { status.textContent = text; status.classList.toggle("kgx-miss", Boolean(miss)); }

  function search(query) {
    var n = findNode(query);
    if (!n) { say("no entity matches “" + query + "”", true); return null; }
    selectNode(n.id, true);
    say("found " + n.name + " (" + n.type + ")" + (n.hidden ? ", hidden by the filters" : ""), false);
    return n.id;
  }

  var names = document.getElementById("kgx-names");
  var seen = new Set();
  var candidates = data.nodes.map(function (n) { return n.name; });
  data.nodes.forEach(function (n) { candidates.push.apply(candidates, n.aliases); });
  candidates.forEach(function (value) {
    if (seen.size >= 5000 || seen.has(value)) return;
    seen.add(value);
    names.appendChild(el("option", { value: value }));
  });

  var searchBox = document.getElementById("kgx-search");
  document.getElementById("kgx-search-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    search(searchBox.value);
  });

  // --- start -----------------------------------------------------------------------------------

  if (data.stats.truncated) {
    var st = data.stats, parts = [];
    if (st.nodes_truncated) {
      parts.push("the " + plural(st.max_nodes, "entity", "entities") + " with the most relations out of " +
        st.nodes_total.toLocaleString("en"));
    }
    if (st.edges_truncated) {
      parts.push("the " + plural(st.max_edges, "strongest relation", "strongest relations") +
        (st.nodes_truncated ? " among them" : ""));
    }
    var notice = document.getElementById("kgx-notice");
    notice.textContent = "Large graph: showing " + parts.join(" and ") + " (" +
      plural(st.nodes_shown, "entity", "entities") + " and " + st.edges_shown.toLocaleString("en") + " of " +
      plural(st.edges_total, "relation", "relations") + " in this page). Raise --min-score, or " +
      "--max-nodes / --max-edges of kgx view, to change this.";
    notice.hidden = false;
  }

  var headerCounts = el("span", { id: "kgx-counts", className: "kgx-muted" });
  document.querySelector("header").insertBefore(headerCounts, status);
  sliderValue.textContent = state.minScore.toFixed(2);
  showOverview();
  applyFilters();

  // --- the first view: the most connected part of the graph, at a zoom where labels are legible --

  function fitFirstView() {
    network.fit({ animation: false });
    if (network.getScale() >= LEGIBLE_SCALE || view.focus === null) return "all";
    network.fit({ nodes: [view.focus].concat(network.getConnectedNodes(view.focus)), animation: false });
    if (network.getScale() >= LEGIBLE_SCALE) return "neighbours";
    network.moveTo({ position: network.getPosition(view.focus), scale: LEGIBLE_SCALE, animation: false });
    return "entity";
  }

  // where an entity's label is drawn, in CSS pixels of the window (tests and screenshots read it)
  function labelBox(id) {
    var node = network.body.nodes[id];
    if (!node || !node.labelModule) return null;
    var lm = node.labelModule, size = lm.size;
    var canvas = network.canvas.frame.canvas, r = canvas.getBoundingClientRect();
    var a = network.canvasToDOM({ x: size.left, y: size.top });
    var b = network.canvasToDOM({ x: size.left + size.width, y: size.top + size.height });
    var box = { x: r.left + a.x, y: r.top + a.y, width: b.x - a.x, height: b.y - a.y,
      font_px: lm.fontOptions.size * network.getScale(), drawn: Boolean(lm.visible()) && !node.options.hidden };
    box.inside = box.x >= r.left && box.y >= r.top && box.x + box.width <= r.right && box.y + box.height <= r.bottom;
    var hit = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
    box.uncovered = hit !== null && (hit === canvas || hit.contains(canvas));
    return box;
  }

  function describe() {
    var out = { how: first.how, focus: view.focus, scale: network.getScale() };
    if (view.focus !== null) {
      out.name = byId.get(view.focus).name;
      out.label = labelBox(view.focus);
    }
    return out;
  }

  document.getElementById("kgx-fit").addEventListener("click", function () {
    network.fit({ animation: { duration: 300 } });
  });

  function ready() {
    body.dataset.nodeCount = String(network.body.data.nodes.length);
    body.dataset.edgeCount = String(network.body.data.edges.length);
    body.dataset.layout = "stable";
    first = describe();
    var heading = panel.querySelector("h2");
    if (heading && heading.textContent === "Overview") showOverview(); // now it knows the first view
    body.dataset.firstView = JSON.stringify(first);
    body.dataset.state = "ready";
    window.kgxReady = true; // kgx view --screenshot waits for this
    window.dispatchEvent(new Event("kgx:ready"));
  }
  // data-layout: "moving" while the layout is computed, "stable" once it is drawn; the physics
  // simulation is switched off then, so the first view (and a screenshot of it) stays put
  body.dataset.layout = "moving";
  if (data.nodes.length === 0) {
    ready();
  } else {
    network.once("stabilizationIterationsDone", function () {
      network.setOptions({ physics: { enabled: false } });
      first.how = fitFirstView();
      network.once("afterDrawing", ready);
      network.redraw();
    });
  }

  window.kgxView = {
    data: data, network: network, nodes: nodes, edges: edges, state: state, visible: visible,
    search: search, findNode: findNode, selectNode: selectNode, setMinScore: setMinScore, applyFilters: applyFilters,
    groups: groupById, labelBox: labelBox, firstView: function () { return first; },
  };
})();
