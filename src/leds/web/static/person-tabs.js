// leds: the person page's link chart (cytoscape.js), timeline (vis-timeline) and map
// (Leaflet). Each page works without this script (the tables say the same); the data is the
// page's own JSON data block, so drawing records nothing more. Text is always set as text.
(function () {
  "use strict";

  function data(id) {
    var el = document.getElementById(id);
    if (!el) { return null; }
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }

  function text(value) {
    var span = document.createElement("span");
    span.textContent = value == null ? "" : String(value);
    return span;
  }

  // ---- link chart ------------------------------------------------------------------------
  var COLOURS = { person: "#0b4f8a", record: "#9aa5b1", vehicle: "#e07b00", address: "#2e7d4f",
                  associate: "#7b3fa0" };

  function chart() {
    var box = document.getElementById("chart");
    var elements = data("chart-data");
    if (!box || !elements || !window.cytoscape) { return; }
    box.hidden = false;
    var tools = document.getElementById("chart-tools");
    tools.hidden = false;
    var cy = window.cytoscape({
      container: box,
      elements: elements,
      style: [
        { selector: "node", style: {
          "label": "data(label)", "font-size": 10, "text-wrap": "ellipsis", "text-max-width": 140,
          "background-color": function (n) { return COLOURS[n.data("kind")] || "#555"; },
          "color": "#1b1f24", "text-valign": "bottom", "text-margin-y": 3,
          "width": 18, "height": 18 } },
        { selector: "node[kind = 'person']", style: { "width": 30, "height": 30, "font-weight": "bold" } },
        { selector: "edge", style: {
          "width": 1.5, "line-color": "#9aa5b1", "curve-style": "bezier",
          "label": "data(label)", "font-size": 8, "color": "#4a5560", "text-rotation": "autorotate" } },
        { selector: ":selected", style: { "border-width": 3, "border-color": "#f9a825" } },
        { selector: "edge.path", style: { "line-color": "#b3261e", "width": 4 } },
        { selector: "node.path", style: { "background-color": "#b3261e" } }
      ],
      layout: { name: "concentric", minNodeSpacing: 30,
        concentric: function (n) { return n.data("kind") === "person" ? 3 : n.data("kind") === "associate" ? 1 : 2; },
        levelWidth: function () { return 1; } }
    });
    var selected = document.getElementById("chart-selected");
    var expand = document.getElementById("chart-expand");
    var open = document.getElementById("chart-open");
    var current = null;

    var chooser = document.getElementById("chart-node");

    function fillSelects() {
      var keepNode = chooser.value;
      while (chooser.firstChild) { chooser.removeChild(chooser.firstChild); }
      cy.nodes().forEach(function (n) {
        var opt = document.createElement("option");
        opt.value = n.id();
        opt.textContent = n.data("label") + (n.data("expand") && !n.data("expanded") ? " (can expand)" : "");
        chooser.appendChild(opt);
      });
      if (keepNode) { chooser.value = keepNode; }
      ["path-from", "path-to"].forEach(function (id, i) {
        var sel = document.getElementById(id);
        var keep = sel.value;
        while (sel.firstChild) { sel.removeChild(sel.firstChild); }
        cy.nodes().forEach(function (n, j) {
          var opt = document.createElement("option");
          opt.value = n.id();
          opt.textContent = n.data("label");
          sel.appendChild(opt);
          if (!keep && ((i === 0 && j === 0) || (i === 1 && j === cy.nodes().length - 1))) { opt.selected = true; }
        });
        if (keep) { sel.value = keep; }
      });
    }
    fillSelects();

    function choose(node) {
      current = node;
      cy.elements().unselect();
      node.select();
      chooser.value = node.id();
      selected.textContent = "Selected: " + node.data("label");
      expand.disabled = !node.data("expand") || !!node.data("expanded");
      if (node.data("href")) { open.href = node.data("href"); open.hidden = false; } else { open.hidden = true; }
    }
    cy.on("tap", "node", function (ev) { choose(ev.target); });
    chooser.addEventListener("change", function () { choose(cy.getElementById(chooser.value)); });
    expand.addEventListener("click", function () {
      if (!current || !current.data("expand")) { return; }
      var node = current;
      expand.disabled = true;
      fetch(node.data("expand"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { if (!r.ok) { throw new Error("refused (" + r.status + ")"); } return r.json(); })
        .then(function (body) {
          var g = body.data;
          var me = "person:" + g.key;
          var added = [];
          g.nodes.forEach(function (n) {
            var id = n.id === me ? node.id() : n.id;
            if (cy.getElementById(id).empty()) { added.push({ group: "nodes", data: Object.assign({}, n, { id: id }) }); }
          });
          g.edges.forEach(function (e, i) {
            var s = e.source === me ? node.id() : e.source;
            var t = e.target === me ? node.id() : e.target;
            added.push({ group: "edges", data: { id: "x" + node.id() + ":" + i, source: s, target: t, label: e.label } });
          });
          added = added.filter(function (el) {
            return el.group === "nodes" || (!cy.getElementById(el.data.id).length);
          });
          cy.add(added);
          node.data("expanded", true);
          selected.textContent = "Expanded " + node.data("label") + " (recorded as audit entry " + body.audit_seq + ")";
          cy.layout({ name: "cose", animate: false, randomize: false }).run();
          fillSelects();
        })
        .catch(function (err) { selected.textContent = "Could not expand: " + err.message; expand.disabled = false; });
    });
    document.getElementById("chart-path").addEventListener("click", function () {
      cy.elements().removeClass("path");
      var from = cy.getElementById(document.getElementById("path-from").value);
      var to = cy.getElementById(document.getElementById("path-to").value);
      var out = document.getElementById("path-result");
      var found = cy.elements().aStar({ root: from, goal: to });
      if (!found.found) { out.textContent = "No path between them."; return; }
      found.path.addClass("path");
      out.textContent = "Path: " + found.path.nodes().map(function (n) { return n.data("label"); }).join(" → ");
    });
  }

  // ---- timeline --------------------------------------------------------------------------
  function timeline() {
    var box = document.getElementById("timeline");
    var given = data("timeline-data");
    if (!box || !given || !window.vis || !given.items.length) { return; }
    box.hidden = false;
    var items = given.items.map(function (it) {
      var item = { id: it.id, group: it.group, content: text(it.label), start: it.start,
                   title: it.label + " (" + it.source.toUpperCase() + ")" };
      if (it.end) { item.end = it.end; item.type = "range"; }
      else if (it.group === "vehicles" || it.group === "addresses") { item.end = new Date(); item.type = "range"; }
      else { item.type = "point"; }
      return item;
    });
    var groups = given.groups.map(function (g) { return { id: g.id, content: text(g.content) }; });
    new window.vis.Timeline(box, new window.vis.DataSet(items), new window.vis.DataSet(groups), {
      stack: true, zoomKey: "ctrlKey", height: "100%", orientation: "top",
      end: new Date(Date.now() + 2 * 365 * 864e5)
    });
  }

  // ---- map -------------------------------------------------------------------------------
  function map() {
    var box = document.getElementById("map");
    var given = data("map-data");
    if (!box || !given || !window.L) { return; }
    box.hidden = false;
    var L = window.L;
    var m = L.map(box, { zoomControl: true, attributionControl: true, preferCanvas: true })
      .setView([54.5, -3.5], 5);
    if (given.tiles) {
      L.tileLayer(given.tiles, { maxZoom: 18, attribution: "Map tiles: configured server" }).addTo(m);
    } else {
      box.classList.add("outline-only");
      fetch(given.outline, { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (geo) {
          L.geoJSON(geo, { style: { color: "#5c6b7a", weight: 1, fillColor: "#eef2e6", fillOpacity: 1 } })
            .addTo(m).bringToBack();
        });
      m.attributionControl.addAttribution("Coarse outline: leds (approximate)");
    }
    var points = [];
    given.places.forEach(function (p) {
      if (p.lat == null) { return; }
      var popup = document.createElement("div");
      popup.appendChild(text(p.label + (p.postcode ? ", " + p.postcode : "")));
      popup.appendChild(document.createElement("br"));
      popup.appendChild(text((p.start || "?") + " – " + (p.end || "now") + " · " + p.source.toUpperCase() + " · approximate (" + (p.area || "") + ")"));
      L.circleMarker([p.lat, p.lon], { radius: 8, color: "#0b4f8a", weight: 2, fillColor: "#3b82c4", fillOpacity: 0.8 })
        .bindPopup(popup).bindTooltip(p.postcode || p.label).addTo(m);
      points.push([p.lat, p.lon]);
    });
    if (points.length) { m.fitBounds(points, { padding: [40, 40], maxZoom: 8 }); }
    box.setAttribute("data-markers", String(points.length));
  }

  function start() { chart(); timeline(); map(); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
