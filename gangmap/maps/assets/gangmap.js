/* gangmap offline map viewer.
   - All text reaches the page through textContent, never innerHTML, so names and labels cannot run script.
   - Everything the viewer needs to know comes from the data block: the words for the areas (D.geography),
     the class codes of the suppressed and no-data classes (D.codes), the layers and their legends.
   - The map sizes and fits itself whenever it becomes visible or changes size (notebook tabs, hidden
     outputs, printing), and never fits to an empty box. */
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('gm-data').textContent);
  var CODES = D.codes, GEO = D.geography, A = D.areas, n = A.codes.length;
  window.gmReady = false;
  window.gmDrawn = false;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function on(target, name, fn, opts) { target.addEventListener(name, fn, opts || false); }

  // ------------------------------------------------------------------ geometry
  // Quantised, delta-encoded integer rings (optionally built from shared arcs, D.arcs).
  function decodeArc(a, q) {
    var out = [], x = 0, y = 0;
    for (var i = 0; i < a.length; i += 2) {
      x += a[i]; y += a[i + 1];
      out.push([q.y0 + y * q.s, q.x0 + x * q.s]);
    }
    return out;
  }
  var ARCS = (D.arcs || []).map(function (a) { return decodeArc(a, D.q); });
  // topo: the ring is a list of arc indices into D.arcs (areas, district outlines);
  // otherwise it is its own delta-encoded ring (overlays such as campaign areas), on grid q.
  function ring(r, topo, q) {
    if (!topo) { return decodeArc(r, q); }
    var out = [];
    for (var i = 0; i < r.length; i++) {
      var k = r[i], pts = k >= 0 ? ARCS[k] : ARCS[~k].slice().reverse();
      for (var j = (out.length ? 1 : 0); j < pts.length; j++) { out.push(pts[j]); }
    }
    return out;
  }
  function shape(g, topo, q) {
    return g.map(function (poly) { return poly.map(function (r) { return ring(r, topo, q || D.q); }); });
  }
  function gridPoint(p) { return p ? L.latLng(D.q.y0 + p[1] * D.q.s, D.q.x0 + p[0] * D.q.s) : null; }

  // ------------------------------------------------------------------ the map
  var mapEl = document.getElementById('gm-map');
  // Wheel zoom only once the map has focus (a click), so scrolling a notebook never zooms it; Leaflet's
  // own resize tracking is off: refresh() below sizes the map, and never to an empty box.
  var map = L.map(mapEl, { zoomSnap: 0.25, preferCanvas: n > 1500, attributionControl: false,
                           scrollWheelZoom: false, trackResize: false });
  L.control.scale({ imperial: false }).addTo(map);
  if (D.tiles) {  // optional online basemap: failures leave the plain background
    var tl = L.tileLayer(D.tiles.url, { maxZoom: 18, attribution: '' });
    tl.on('tileerror', function (e) { if (e.tile) { e.tile.style.visibility = 'hidden'; } });
    tl.addTo(map);
  }

  var polys = [], marked = {}, active = null, overlays = {}, visible = {};
  var group = L.featureGroup().addTo(map);

  function tip(i) {
    var box = el('div', 'gm-tip');
    box.appendChild(el('b', null, A.names[i]));
    box.appendChild(el('span', 'gm-code', A.codes[i] + (A.parents ? ' · ' + A.parents[i] : '')));
    if (active) {
      var row = el('div');
      row.appendChild(el('span', null, active.name + ': '));
      row.appendChild(el('strong', null, active.values[i]));
      box.appendChild(row);
      (active.extra || []).forEach(function (x) { box.appendChild(el('div', null, x.name + ': ' + x.values[i])); });
    }
    return box;
  }
  function styleFor(i) {
    var s = { color: '#555', weight: 0.6, dashArray: null, fillColor: '#fff', fillOpacity: 0.6 };
    if (active) {
      var c = active.cls[i];
      s.fillOpacity = 0.85;
      if (c === CODES.suppressed) { s.fillColor = D.styles.suppressed; s.color = '#888'; s.weight = 0.9; s.dashArray = '3'; }
      else if (c === CODES.nodata) { s.fillColor = D.styles.nodata; }
      else { s.fillColor = active.colors[c]; }
    }
    if (marked[i]) { s.weight = 4; s.color = '#000'; s.dashArray = null; }
    return s;
  }
  A.geoms.forEach(function (g, i) {
    var p = L.polygon(shape(g, !!D.arcs), styleFor(i));
    p.bindTooltip(function () { return tip(i); }, { sticky: true });
    p.on('mouseover', function () { p.setStyle({ weight: 2.5, color: '#000' }); });
    p.on('mouseout', function () { p.setStyle(styleFor(i)); });
    polys.push(p);
    group.addLayer(p);
  });
  var bounds = n ? group.getBounds() : null;
  if (!bounds || !bounds.isValid()) { bounds = L.latLngBounds([[49.9, -6.4], [55.8, 1.8]]); }

  // ------------------------------------------------------------------ overlays
  function labelMarker(latlng, text, cls) {
    return L.marker(latlng, { opacity: 0, interactive: false, keyboard: false,
                              icon: L.divIcon({ className: 'gm-nolabel', html: '' }) })
      .bindTooltip(el('span', null, text), { permanent: true, direction: 'center', className: cls });
  }
  function buildOverlay(ly) {
    var g = L.featureGroup();
    if (ly.kind === 'outline') {
      ly.geoms.forEach(function (gm, j) {
        var o = L.polygon(shape(gm, !!(D.arcs && ly.topo), ly.q), {
          color: ly.color || '#000', weight: ly.weight || 2, fill: !!ly.fill, fillColor: ly.color,
          fillOpacity: ly.fill || 0, dashArray: ly.dash || null, interactive: false });
        g.addLayer(o);
        if (ly.labels && ly.labels[j]) { g.addLayer(labelMarker(o.getBounds().getCenter(), ly.labels[j], 'gm-label')); }
      });
    } else if (ly.kind === 'points') {
      ly.points.forEach(function (pt) {
        var m = L.circleMarker([pt[1], pt[0]], { radius: pt[3] || 5, color: '#222', weight: 1,
                                                 fillColor: ly.colors[pt[2]] || '#333', fillOpacity: 0.9 });
        if (pt[4] !== undefined) { m.bindTooltip(el('span', null, pt[4])); }
        g.addLayer(m);
      });
    }
    return g;
  }
  D.layers.forEach(function (ly) { if (ly.kind !== 'area') { overlays[ly.id] = buildOverlay(ly); } });

  // Area names (optional): permanent labels at a point inside each area, each shown only where its
  // area is wide enough on screen for it (zoom in to see the names of small areas).
  var nameLayer = null, nameMarkers = [];
  function declutter() {
    if (!nameLayer || !map.hasLayer(nameLayer) || !map._loaded) { return; }
    nameMarkers.forEach(function (mk) {
      var b = polys[mk.i].getBounds(), p = map.latLngToContainerPoint(b.getNorthWest()),
          q = map.latLngToContainerPoint(b.getSouthEast()), tt = mk.m.getTooltip(), node = tt && tt.getElement();
      if (node) { node.style.display = (q.x - p.x >= mk.w && q.y - p.y >= 12) ? '' : 'none'; }
    });
  }
  function showNames(on) {
    if (!nameLayer) {
      nameLayer = L.featureGroup();
      (A.label_at || []).forEach(function (p, i) {
        var at = gridPoint(p);
        if (!at) { return; }
        var m = labelMarker(at, A.names[i], 'gm-area-label');
        nameMarkers.push({ m: m, i: i, w: 5.5 * String(A.names[i]).length });
        nameLayer.addLayer(m);
      });
      map.on('zoomend moveend', declutter);
    }
    if (on) { nameLayer.addTo(map); declutter(); } else { map.removeLayer(nameLayer); }
  }

  // ------------------------------------------------------------------ panels: layers and legend
  // One column on the right holds both panels (flex, each scrolls), so they can never overlap,
  // whatever the frame size; each panel folds away with its header.
  var dock = el('div', 'gm-dock');
  dock.id = 'gm-dock';
  mapEl.appendChild(dock);
  L.DomEvent.disableClickPropagation(dock);
  L.DomEvent.disableScrollPropagation(dock);
  function panel(id, title) {
    var d = el('details', 'gm-panel ' + id);
    d.id = id;
    d.open = true;
    d.appendChild(el('summary', 'gm-summary', title));
    var body = el('div', 'gm-body');
    d.appendChild(body);
    dock.appendChild(d);
    return { box: d, body: body };
  }
  var layersPanel = panel('gm-layers', 'Layers');
  var legendPanel = panel('gm-legend', 'Legend');

  function swatch(color, style) {
    var s = el('span', 'gm-swatch' + (style ? ' gm-' + style : ''));
    if (style === 'line') { s.style.borderTopColor = color; } else { s.style.background = color; }
    return s;
  }
  function legendBlock(ly) {
    var b = el('div', 'gm-legend-block');
    b.setAttribute('data-layer', ly.id);
    b.appendChild(el('h4', null, ly.legend.title));
    ly.legend.items.forEach(function (it) {
      var r = el('div', 'gm-item');
      r.appendChild(swatch(it.color, it.style));
      r.appendChild(el('span', null, it.label));
      b.appendChild(r);
    });
    if (ly.legend.note) { b.appendChild(el('div', 'gm-notice', ly.legend.note)); }
    return b;
  }
  function drawLegend() {
    var d = legendPanel.body;
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
  function setOverlay(id, show) {
    visible[id] = show;
    if (show) { overlays[id].addTo(map); } else { map.removeLayer(overlays[id]); }
    drawLegend();
  }
  function layerInput(ly, onchange) {
    var lab = el('label'), inp = el('input');
    inp.type = ly.kind === 'area' ? 'radio' : 'checkbox';
    inp.name = ly.kind === 'area' ? 'gm-area' : ly.id;
    inp.value = ly.id;
    inp.setAttribute('data-layer', ly.id);
    inp.checked = !!ly.visible;
    on(inp, 'change', function () { onchange(inp.checked); });
    lab.appendChild(inp);
    lab.appendChild(el('span', null, ' ' + ly.name));
    lab.title = ly.name;
    return lab;
  }
  D.layers.forEach(function (ly) {
    layersPanel.body.appendChild(layerInput(ly, function (checked) {
      if (ly.kind === 'area') { showArea(ly); } else { setOverlay(ly.id, checked); }
    }));
  });
  if (A.label_at) {
    var names = layerInput({ id: 'gm-names', kind: 'names', name: GEO.title + ' names', visible: D.options.labels },
                           showNames);
    names.className = 'gm-names-toggle';
    names.querySelector('input').id = 'gm-labels';
    layersPanel.body.appendChild(names);
  }

  // ------------------------------------------------------------------ search
  // Names are folded (case, accents, punctuation, "&"/"and", "St"/"St."/"Saint"); names that occur
  // more than once are told apart by their parent area ("Castle (Northwold)"), then by code.
  function fold(s) {
    s = String(s).normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/&/g, ' and ')
      .replace(/['\u2018\u2019`]/g, '');
    return s.split(/[^a-z0-9]+/).filter(Boolean).map(function (w) { return w === 'saint' ? 'st' : w; }).join(' ');
  }
  var labels = A.names.map(function (nm, i) { return nm; });
  (function disambiguate() {
    function dups(keys) {
      var c = {};
      keys.forEach(function (k) { c[k] = (c[k] || 0) + 1; });
      return function (k) { return c[k] > 1; };
    }
    var byName = dups(A.names.map(fold));
    labels = A.names.map(function (nm, i) { return byName(fold(nm)) && A.parents ? nm + ' (' + A.parents[i] + ')' : nm; });
    var byLabel = dups(labels.map(fold));
    labels = labels.map(function (lb, i) { return byLabel(fold(lb)) ? lb.replace(/\)$/, '') + (lb.slice(-1) === ')' ? ', ' : ' (') + A.codes[i] + ')' : lb; });
  })();
  var folded = labels.map(fold), foldedNames = A.names.map(fold);
  var found = [];
  function clearFound() {
    found.forEach(function (i) { delete marked[i]; polys[i].closeTooltip(); polys[i].setStyle(styleFor(i)); });
    found = [];
  }
  function matches(q) {
    var f = fold(q), all = [], i;
    if (!f) { return all; }
    var tests = [
      function (j) { return folded[j] === f; },
      function (j) { return foldedNames[j] === f || A.codes[j].toLowerCase() === q.trim().toLowerCase(); },
      function (j) { return folded[j].indexOf(f) === 0; },
      function (j) { return (' ' + folded[j]).indexOf(' ' + f) >= 0; }
    ];
    for (var t = 0; t < tests.length && !all.length; t++) {
      for (i = 0; i < n; i++) { if (tests[t](i)) { all.push(i); } }
    }
    return all;
  }
  var search = L.control({ position: 'topleft' });
  search.onAdd = function () {
    var d = el('div', 'gm-panel gm-search'), inp = el('input'), list = el('datalist'), status = el('div', 'gm-status');
    L.DomEvent.disableClickPropagation(d);
    L.DomEvent.disableScrollPropagation(d);
    list.id = 'gm-area-list';
    labels.map(function (lb, i) { return [lb, i]; })
      .sort(function (a, b) { return a[0].localeCompare(b[0]); })
      .forEach(function (p) { var o = el('option'); o.value = p[0]; list.appendChild(o); });
    inp.type = 'search';
    inp.id = 'gm-search';
    inp.placeholder = 'Find ' + GEO.a + '…';
    inp.setAttribute('list', 'gm-area-list');
    inp.setAttribute('aria-label', 'Find ' + GEO.a + ' by name or code');
    status.id = 'gm-search-status';
    status.setAttribute('aria-live', 'polite');
    function go() {
      clearFound();
      status.textContent = '';
      var q = inp.value.trim();
      if (!q) { return; }
      var hits = matches(q);
      if (!hits.length) { status.textContent = 'No ' + GEO.label + ' matches “' + q + '”.'; return; }
      found = hits;
      var b = L.latLngBounds([]);
      hits.forEach(function (i) { marked[i] = true; polys[i].setStyle(styleFor(i)); b.extend(polys[i].getBounds()); });
      map.fitBounds(b, { maxZoom: 14, padding: [20, 20] });
      if (hits.length === 1) {
        var at = gridPoint(A.label_at && A.label_at[hits[0]]) || polys[hits[0]].getBounds().getCenter();
        polys[hits[0]].openTooltip(at);
      } else {
        status.textContent = hits.length + ' ' + GEO.plural + ' match: ' +
          hits.slice(0, 6).map(function (i) { return labels[i]; }).join('; ') + (hits.length > 6 ? '; …' : '') +
          '. Pick one from the list.';
      }
    }
    var last = null;  // Enter fires both keydown and change: search once
    function goOnce() { if (inp.value !== last) { last = inp.value; go(); } }
    on(inp, 'change', goOnce);
    on(inp, 'input', function () { last = null; });
    on(inp, 'keydown', function (e) { if (e.key === 'Enter') { last = null; goOnce(); } });
    on(inp, 'search', function () { if (!inp.value) { clearFound(); status.textContent = ''; } });
    d.appendChild(inp);
    d.appendChild(list);
    d.appendChild(status);
    return d;
  };
  search.addTo(map);

  // ------------------------------------------------------------------ buttons: reset view, full screen
  function button(cls, title, onclick) {
    var c = L.control({ position: 'topleft' });
    c.onAdd = function () {
      var b = el('button', 'gm-btn leaflet-bar ' + cls);
      b.type = 'button';
      b.title = title;
      b.setAttribute('aria-label', title);
      L.DomEvent.disableClickPropagation(b);
      on(b, 'click', onclick);
      return b;
    };
    c.addTo(map);
  }
  button('gm-reset-btn', 'Reset view: show every ' + GEO.label, function () { fit(); });
  button('gm-full-btn', 'Full screen', function () {
    var full = document.body.classList.toggle('gm-full');
    if (full && document.documentElement.requestFullscreen) {
      document.documentElement.requestFullscreen().catch(function () {});
    } else if (!full && document.fullscreenElement) { document.exitFullscreen(); }
    refresh();
  });
  document.querySelector('.gm-reset-btn').id = 'gm-reset';

  // ------------------------------------------------------------------ wheel: zoom only with focus
  var hint = el('div', 'gm-hint', 'Click the map, then scroll to zoom');
  mapEl.appendChild(hint);
  var hintTimer = null;
  // Focus is on the map itself or on an area in it (a click), not on its search box or panels.
  function wheelFollowsFocus() {
    var a = document.activeElement;
    var inMap = document.hasFocus() && a && mapEl.contains(a) && !dock.contains(a) &&
                !(a.closest && a.closest('.leaflet-control'));
    if (inMap) { map.scrollWheelZoom.enable(); hint.classList.remove('gm-show'); } else { map.scrollWheelZoom.disable(); }
  }
  on(mapEl, 'focusin', wheelFollowsFocus);
  on(mapEl, 'focusout', function () { setTimeout(wheelFollowsFocus, 0); });
  on(window, 'blur', function () { map.scrollWheelZoom.disable(); });
  on(mapEl, 'wheel', function (e) {
    if (map.scrollWheelZoom.enabled() || dock.contains(e.target)) { return; }
    hint.classList.add('gm-show');
    clearTimeout(hintTimer);
    hintTimer = setTimeout(function () { hint.classList.remove('gm-show'); }, 1500);
  }, { passive: true });

  // ------------------------------------------------------------------ size and fit
  var view = { fitted: false, user: false, quiet: false, size: null }, printing = null;
  function sized() { return mapEl.clientWidth > 0 && mapEl.clientHeight > 0; }
  function validView() {
    if (!map._loaded) { return false; }
    var c = map.getCenter(), z = map.getZoom();
    return isFinite(c.lat) && isFinite(c.lng) && isFinite(z);
  }
  function padding() {  // keep the areas clear of the panel column where the map is wide enough
    var w = mapEl.clientWidth, h = mapEl.clientHeight, d = dock.offsetWidth;
    if (w < 60 || h < 60) { return { padding: [0, 0] }; }  // never pad a tiny box down to nothing
    var right = (d && w > 2.5 * d) ? d + 16 : 8;
    return { paddingTopLeft: [8, 8], paddingBottomRight: [right, 8] };
  }
  function fit() {
    if (!sized()) { return; }
    var snap = map.options.zoomSnap;
    if (printing) { map.options.zoomSnap = 0; }
    view.quiet = true;
    try {
      map.fitBounds(bounds, L.extend({ animate: false, reset: true }, padding()));
    } finally {
      view.quiet = false;
      map.options.zoomSnap = snap;
    }
    view.fitted = true;
    view.user = false;
    if (!window.gmDrawn) { window.gmDrawn = true; document.body.setAttribute('data-gm-drawn', '1'); }
  }
  map.on('zoomstart movestart', function () { if (!view.quiet) { view.user = true; } });
  function resize() {
    if (!sized()) { return; }  // hidden (a notebook tab, a folded output): nothing to size
    var s = mapEl.clientWidth + 'x' + mapEl.clientHeight, changed = s !== view.size;
    view.size = s;
    if (changed && map._loaded) { map.invalidateSize({ pan: false }); }
    if (changed && mapEl.clientHeight < 300 && !view.fitted) { layersPanel.box.open = false; }
    if (!view.fitted || !validView() || (changed && !view.user)) { fit(); }
  }
  var pending = false;
  function refresh() {
    if (pending) { return; }
    pending = true;
    setTimeout(function () { pending = false; resize(); }, 30);
  }
  if (window.ResizeObserver) { new ResizeObserver(refresh).observe(mapEl); }
  if (window.IntersectionObserver) {
    new IntersectionObserver(function (es) {
      if (es.some(function (e) { return e.isIntersecting; })) { refresh(); }
    }).observe(mapEl);
  }
  on(window, 'resize', refresh);
  on(window, 'pageshow', refresh);
  on(window, 'focus', function () { refresh(); wheelFollowsFocus(); });
  on(document, 'visibilitychange', function () { if (!document.hidden) { refresh(); } });

  // ------------------------------------------------------------------ print: the whole area on the page
  function beforePrint() {
    if (printing) { return; }
    printing = { user: view.user, center: validView() ? map.getCenter() : null, zoom: map._loaded ? map.getZoom() : null,
                 legend: legendPanel.box.open };
    legendPanel.box.open = true;
    document.body.classList.add('gm-printing');  // the page box of @media print, applied before printing starts
    view.size = null;
    resize();
    fit();
    var b = map.getBounds();
    window.gmPrintView = { south: b.getSouth(), west: b.getWest(), north: b.getNorth(), east: b.getEast(),
                           width: mapEl.clientWidth, height: mapEl.clientHeight };
  }
  function afterPrint() {
    if (!printing) { return; }
    var p = printing;
    printing = null;
    legendPanel.box.open = p.legend;
    document.body.classList.remove('gm-printing');
    view.size = null;
    resize();
    if (p.user && p.center) {
      view.quiet = true;
      map.setView(p.center, p.zoom, { animate: false, reset: true });
      view.quiet = false;
      view.user = true;
    } else { fit(); }
  }
  on(window, 'beforeprint', beforePrint);
  on(window, 'afterprint', afterPrint);
  if (window.matchMedia) {
    var mq = window.matchMedia('print');
    var onMedia = function (e) { if (e.matches) { beforePrint(); } else { afterPrint(); } };
    if (mq.addEventListener) { mq.addEventListener('change', onMedia); } else if (mq.addListener) { mq.addListener(onMedia); }
  }

  // ------------------------------------------------------------------ start
  D.layers.forEach(function (ly) { if (ly.kind !== 'area' && ly.visible) { setOverlay(ly.id, true); } });
  var first = D.layers.filter(function (ly) { return ly.kind === 'area' && ly.visible; })[0] ||
              D.layers.filter(function (ly) { return ly.kind === 'area'; })[0];
  if (first) { showArea(first); } else { drawLegend(); }
  resize();
  if (A.label_at && D.options.labels) { showNames(true); }
  setTimeout(refresh, 250);
  window.gmMap = map;
  window.gmView = { fit: fit, bounds: bounds, state: view, refresh: resize };
  window.gmReady = true;
  document.body.setAttribute('data-gm-ready', '1');
})();
