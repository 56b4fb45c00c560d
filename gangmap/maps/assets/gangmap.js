/* gangmap offline map viewer. All text reaches the page through textContent,
   never innerHTML, so names and labels cannot run script. */
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('gm-data').textContent);
  window.gmReady = false;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }

  // Geometry: quantised, delta-encoded integer rings (optionally built from shared arcs).
  var Q = D.q;
  function decodeArc(a) {
    var out = [], x = 0, y = 0;
    for (var i = 0; i < a.length; i += 2) {
      x += a[i]; y += a[i + 1];
      out.push([Q.y0 + y * Q.s, Q.x0 + x * Q.s]);
    }
    return out;
  }
  var ARCS = (D.arcs || []).map(decodeArc);
  // topo: the ring is a list of arc indices into D.arcs (wards, district outlines);
  // otherwise it is its own delta-encoded ring (overlays such as campaign areas).
  function ring(r, topo) {
    if (!topo) { return decodeArc(r); }
    var out = [];
    for (var i = 0; i < r.length; i++) {
      var k = r[i], pts = k >= 0 ? ARCS[k] : ARCS[~k].slice().reverse();
      for (var j = (out.length ? 1 : 0); j < pts.length; j++) { out.push(pts[j]); }
    }
    return out;
  }
  function shape(g, topo) {
    return g.map(function (poly) { return poly.map(function (r) { return ring(r, topo); }); });
  }

  var W = D.wards, n = W.codes.length;
  var big = n > 1500;
  // Attribution is printed in the page footer (text, not HTML), so Leaflet's control is off.
  var map = L.map('gm-map', { zoomSnap: 0.25, preferCanvas: big, attributionControl: false });
  L.control.scale({ imperial: false }).addTo(map);

  if (D.tiles) {  // optional online basemap: failures leave the plain background
    var tl = L.tileLayer(D.tiles.url, { maxZoom: 18, attribution: '' });
    tl.on('tileerror', function (e) { if (e.tile) { e.tile.style.visibility = 'hidden'; } });
    tl.addTo(map);
  }

  var geoms = W.geoms.map(function (g) { return shape(g, !!D.arcs); });
  var polys = [];
  var group = L.featureGroup().addTo(map);
  var active = null;          // the visible area layer (radio)
  var overlays = {};           // id -> Leaflet layer
  var visible = {};            // id -> bool

  function tip(i) {
    var box = el('div', 'gm-tip');
    box.appendChild(el('b', null, W.names[i]));
    box.appendChild(el('span', 'gm-code', W.codes[i] + (W.districts ? ' · ' + W.districts[i] : '')));
    if (active) {
      var row = el('div');
      row.appendChild(el('span', null, active.name + ': '));
      row.appendChild(el('strong', null, active.values[i]));
      box.appendChild(row);
      if (active.extra) {
        active.extra.forEach(function (x) {
          box.appendChild(el('div', null, x.name + ': ' + x.values[i]));
        });
      }
    }
    return box;
  }
  function styleFor(i) {
    if (!active) { return { color: '#555', weight: 0.6, fillColor: '#fff', fillOpacity: 0.6 }; }
    var c = active.cls[i];
    var fill = c === -1 ? D.suppressed_color : c === -2 ? D.nodata_color : active.colors[c];
    return { color: c === -1 ? '#888' : '#555', weight: c === -1 ? 0.9 : 0.6, dashArray: c === -1 ? '3' : null,
             fillColor: fill, fillOpacity: 0.85 };
  }
  for (var i = 0; i < n; i++) {
    (function (i) {
      var p = L.polygon(geoms[i], styleFor(i));
      p.bindTooltip(function () { return tip(i); }, { sticky: true });
      p.on('mouseover', function () { p.setStyle({ weight: 2.5, color: '#000' }); });
      p.on('mouseout', function () { p.setStyle(styleFor(i)); });
      polys.push(p);
      group.addLayer(p);
    })(i);
  }
  var bounds = group.getBounds();
  map.fitBounds(bounds, { padding: [8, 8] });

  // Overlays: outlines (districts, campaign areas, catchments) and points (schools, hubs).
  function buildOverlay(ly) {
    var g = L.featureGroup();
    if (ly.kind === 'outline') {
      ly.geoms.forEach(function (gm, j) {
        var o = L.polygon(shape(gm, !!(D.arcs && ly.topo)), { color: ly.color || '#000', weight: ly.weight || 2, fill: !!ly.fill,
                                       fillColor: ly.color, fillOpacity: ly.fill || 0, dashArray: ly.dash || null,
                                       interactive: false });
        g.addLayer(o);
        if (ly.labels && ly.labels[j]) {
          var c = o.getBounds().getCenter();
          g.addLayer(L.marker(c, { opacity: 0, interactive: false, keyboard: false, icon: L.divIcon({ className: 'gm-nolabel', html: '' }) })
            .bindTooltip(el('span', null, ly.labels[j]), { permanent: true, direction: 'center', className: 'gm-label' }));
        }
      });
    } else if (ly.kind === 'points') {
      ly.points.forEach(function (pt) {
        var m = L.circleMarker([pt[1], pt[0]], { radius: pt[3] || ly.radius || 5, color: '#222', weight: 1,
                                                 fillColor: ly.colors[pt[2]] || ly.color || '#333', fillOpacity: 0.9 });
        if (pt[4] !== undefined) { m.bindTooltip(el('span', null, pt[4])); }
        g.addLayer(m);
      });
    }
    return g;
  }
  D.layers.forEach(function (ly) { if (ly.kind !== 'area') { overlays[ly.id] = buildOverlay(ly); } });

  // Legend: the visible area layer's classes, then each visible overlay's.
  var legend = L.control({ position: 'bottomright' });
  legend.onAdd = function () { this._div = el('div', 'gm-panel gm-legend'); this._div.id = 'gm-legend'; return this._div; };
  legend.addTo(map);
  function swatch(color, cls) {
    var s = el('span', 'gm-swatch' + (cls ? ' ' + cls : ''));
    if (cls === 'gm-line') { s.style.borderTopColor = color; } else { s.style.background = color; }
    return s;
  }
  function legendBlock(ly) {
    var b = el('div', 'gm-legend-block');
    b.setAttribute('data-layer', ly.id);
    b.appendChild(el('h4', null, ly.legend.title));
    ly.legend.items.forEach(function (it) {
      var r = el('div', 'gm-item');
      r.appendChild(swatch(it.color, it.style === 'hatch' ? 'gm-hatch' : it.style === 'line' ? 'gm-line' :
                                     it.style === 'dot' ? 'gm-dot' : null));
      r.appendChild(el('span', null, it.label));
      b.appendChild(r);
    });
    if (ly.legend.note) { b.appendChild(el('div', 'gm-notice', ly.legend.note)); }
    return b;
  }
  function drawLegend() {
    var d = legend._div;
    while (d.firstChild) { d.removeChild(d.firstChild); }
    D.layers.forEach(function (ly) {
      if ((ly.kind === 'area' && active === ly) || (ly.kind !== 'area' && visible[ly.id])) {
        if (ly.legend) { d.appendChild(legendBlock(ly)); }
      }
    });
  }
  function showArea(ly) {
    active = ly;
    for (var i = 0; i < n; i++) { polys[i].setStyle(styleFor(i)); }
    drawLegend();
  }
  function setOverlay(id, on) {
    visible[id] = on;
    if (on) { overlays[id].addTo(map); } else { map.removeLayer(overlays[id]); }
    drawLegend();
  }

  // Layer control (own, so that names are text, never HTML).
  var ctl = L.control({ position: 'topright' });
  ctl.onAdd = function () {
    var d = el('div', 'gm-panel gm-layers');
    d.id = 'gm-layers';
    L.DomEvent.disableClickPropagation(d);
    L.DomEvent.disableScrollPropagation(d);
    d.appendChild(el('h4', null, 'Layers'));
    D.layers.forEach(function (ly) {
      var lab = el('label'), inp = el('input');
      inp.type = ly.kind === 'area' ? 'radio' : 'checkbox';
      inp.name = ly.kind === 'area' ? 'gm-area' : ly.id;
      inp.value = ly.id;
      inp.setAttribute('data-layer', ly.id);
      inp.checked = !!ly.visible;
      inp.addEventListener('change', function () {
        if (ly.kind === 'area') { showArea(ly); } else { setOverlay(ly.id, inp.checked); }
      });
      lab.appendChild(inp);
      lab.appendChild(el('span', null, ' ' + ly.name));
      lab.title = ly.name;
      d.appendChild(lab);
    });
    return d;
  };
  ctl.addTo(map);

  // Search a ward by name.
  var search = L.control({ position: 'topleft' });
  search.onAdd = function () {
    var d = el('div', 'gm-panel gm-search'), inp = el('input'), list = el('datalist');
    L.DomEvent.disableClickPropagation(d);
    list.id = 'gm-ward-list';
    var sorted = W.names.map(function (nm, i) { return [nm, i]; }).sort(function (a, b) { return a[0] < b[0] ? -1 : 1; });
    sorted.forEach(function (p) { var o = el('option'); o.value = p[0]; list.appendChild(o); });
    inp.type = 'search'; inp.placeholder = 'Find a ward…'; inp.id = 'gm-search';
    inp.setAttribute('list', 'gm-ward-list');
    inp.setAttribute('aria-label', 'Find a ward by name');
    function go() {
      var q = inp.value.trim().toLowerCase();
      if (!q) { return; }
      for (var i = 0; i < n; i++) {
        if (W.names[i].toLowerCase() === q || (W.names[i].toLowerCase().indexOf(q) === 0)) {
          map.fitBounds(polys[i].getBounds(), { maxZoom: 14 });
          polys[i].setStyle({ weight: 4, color: '#000' });
          polys[i].openTooltip(polys[i].getBounds().getCenter());
          return;
        }
      }
      inp.setCustomValidity('No ward named ' + inp.value);
      inp.reportValidity();
    }
    inp.addEventListener('change', go);
    inp.addEventListener('keydown', function (e) { inp.setCustomValidity(''); if (e.key === 'Enter') { go(); } });
    d.appendChild(inp); d.appendChild(list);
    return d;
  };
  search.addTo(map);

  // Full screen (falls back to a full-window view where the API is blocked).
  var full = L.control({ position: 'topleft' });
  full.onAdd = function () {
    var b = el('button', 'gm-btn gm-full-btn leaflet-bar');
    b.type = 'button'; b.title = 'Full screen'; b.setAttribute('aria-label', 'Full screen');
    L.DomEvent.disableClickPropagation(b);
    b.addEventListener('click', function () {
      var on = document.body.classList.toggle('gm-full');
      if (on && document.documentElement.requestFullscreen) {
        document.documentElement.requestFullscreen().catch(function () {});
      } else if (!on && document.fullscreenElement) { document.exitFullscreen(); }
      setTimeout(function () { map.invalidateSize(); }, 50);
    });
    return b;
  };
  full.addTo(map);

  D.layers.forEach(function (ly) {
    if (ly.kind !== 'area' && ly.visible) { setOverlay(ly.id, true); }
  });
  var first = D.layers.filter(function (ly) { return ly.kind === 'area' && ly.visible; })[0] ||
              D.layers.filter(function (ly) { return ly.kind === 'area'; })[0];
  if (first) { showArea(first); } else { drawLegend(); }
  window.addEventListener('beforeprint', function () { map.invalidateSize(); map.fitBounds(bounds); });
  window.gmMap = map;
  window.gmReady = true;
  document.body.setAttribute('data-gm-ready', '1');
})();
