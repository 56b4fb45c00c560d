/* gangmap offline map viewer.
   - All text reaches the page through textContent, never innerHTML, so names and labels cannot run script.
   - Everything the viewer needs to know comes from the data block: the words for the areas (D.geography),
     the class codes of the suppressed and no-data classes (D.codes), the drawing styles (D.style), the
     packing of the geometry (D.packing), the layers and their legends.
   - Areas are drawn by one of two renderers with the same interface: Leaflet polygons (SVG) for ordinary
     maps, or an own canvas renderer for maps of many areas (D.options.renderer), which fills each class
     with one path and finds the area under the mouse by point in polygon on the decoded geometry.
   - The map sizes and fits itself whenever it becomes visible or changes size (notebook tabs, hidden
     outputs, printing), and never fits to an empty box. */
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('gm-data').textContent);
  var CODES = D.codes, GEO = D.geography, A = D.areas, S = D.style, OPT = D.options, n = A.codes.length;
  window.gmReady = false;
  window.gmDrawn = false;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function on(target, name, fn, opts) { target.addEventListener(name, fn, opts || false); }

  // ------------------------------------------------------------------ unpacking (format: gangmap.maps.packing)
  var PK = D.packing || { alphabet: '', bits: 0 }, BASE = Math.pow(2, PK.bits), DIGIT = {};
  for (var c0 = 0; c0 < PK.alphabet.length; c0++) { DIGIT[PK.alphabet.charAt(c0)] = c0; }
  function unpackInts(text) {
    var out = new Float64Array(text.length), k = 0, z = 0, f = 1;
    for (var i = 0; i < text.length; i++) {
      var d = DIGIT[text.charAt(i)];
      if (d >= BASE) { z += (d - BASE) * f; f *= BASE; continue; }
      z += d * f;
      out[k++] = z % 2 ? -(z + 1) / 2 : z / 2;
      z = 0; f = 1;
    }
    return out.subarray(0, k);
  }
  // Arcs as one point list: ARC.off[a]..ARC.off[a+1] are arc a's points, as longitude/latitude.
  function arcsFrom(arcs, q) {
    var lists = typeof arcs === 'string' ? null : arcs, v = lists ? null : unpackInts(arcs);
    var m = 0, na = 0, i = 0, a;
    if (lists) { lists.forEach(function (l) { m += l.length / 2; }); na = lists.length; }
    else { for (i = 0; i < v.length; i += 1 + 2 * v[i]) { m += v[i]; na++; } }
    var out = { off: new Int32Array(na + 1), lon: new Float64Array(m), lat: new Float64Array(m) };
    var x = 0, y = 0, p = 0;
    for (a = 0, i = 0; a < na; a++) {
      var pts = lists ? lists[a] : v.subarray(i + 1, i + 1 + 2 * v[i]);
      if (lists) { x = 0; y = 0; } else { i += 1 + pts.length; }
      for (var j = 0; j < pts.length; j += 2) {
        x += pts[j]; y += pts[j + 1];
        out.lon[p] = q.x0 + x * q.s; out.lat[p] = q.y0 + y * q.s; p++;
      }
      out.off[a + 1] = p;
    }
    return out;
  }
  // Features as polygons of rings of arc references (~k: arc k reversed).
  function geomsFrom(g) {
    if (typeof g !== 'string') { return g; }
    var v = unpackInts(g), i = 0, prev = 0, out = [];
    function take(fn) { var r = [], c = v[i++]; for (var j = 0; j < c; j++) { r.push(fn()); } return r; }
    function ref() { var code = v[i++], rev = code % 2 !== 0; prev += (code - (rev ? 1 : 0)) / 2; return rev ? ~prev : prev; }
    while (i < v.length) { out.push(take(function () { return take(function () { return take(ref); }); })); }
    return out;
  }
  var ARC = arcsFrom(D.arcs || [], D.q), GEOMS = geomsFrom(A.geoms);
  var PARENTS = A.parents ? A.parents.of.map(function (j) { return A.parents.names[j]; }) : null;

  // [lat, lng] rings for Leaflet: from shared arcs (topo) or a ring of its own (overlays, grid q).
  function arcLatLngs(k, out) {
    var a = k >= 0 ? k : ~k, s = ARC.off[a], e = ARC.off[a + 1], j;
    if (k >= 0) { for (j = out.length ? s + 1 : s; j < e; j++) { out.push([ARC.lat[j], ARC.lon[j]]); } }
    else { for (j = out.length ? e - 2 : e - 1; j >= s; j--) { out.push([ARC.lat[j], ARC.lon[j]]); } }
  }
  function ring(r, topo, q) {
    if (!topo) { var one = arcsFrom([r], q); return Array.prototype.map.call(one.lat, function (la, j) { return [la, one.lon[j]]; }); }
    var out = [];
    for (var i = 0; i < r.length; i++) { arcLatLngs(r[i], out); }
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
  var map = L.map(mapEl, { zoomSnap: S.map.zoom_snap, attributionControl: false, scrollWheelZoom: false, trackResize: false });
  L.control.scale({ imperial: false }).addTo(map);
  if (D.tiles) {  // optional online basemap: failures leave the plain background
    var tl = L.tileLayer(D.tiles.url, { maxZoom: S.map.tile_max_zoom, attribution: '' });
    tl.on('tileerror', function (e) { if (e.tile) { e.tile.style.visibility = 'hidden'; } });
    tl.addTo(map);
  }

  var marked = {}, active = null, activeLayer = null, overlays = {}, visible = {};

  function tip(i) {
    var box = el('div', 'gm-tip');
    box.appendChild(el('b', null, A.names[i]));
    box.appendChild(el('span', 'gm-code', A.codes[i] + (PARENTS ? ' · ' + PARENTS[i] : '')));
    if (active) {
      var row = el('div');
      row.appendChild(el('span', null, active.name + (active.period !== undefined ? ', ' + active.period : '') + ': '));
      row.appendChild(el('strong', null, active.values[i]));
      box.appendChild(row);
      (active.extra || []).forEach(function (x) { box.appendChild(el('div', null, x.name + ': ' + x.values[i])); });
    }
    return box;
  }
  // The style of area i: fill by its class in the shown layer, border by suppression and search marks.
  function styleFor(i) {
    var s = { color: S.area.color, weight: S.area.weight, dashArray: null, fillColor: D.styles.nodata,
              fillOpacity: S.area.empty_opacity };
    if (active) {
      var c = active.cls[i];
      s.fillOpacity = S.area.fill_opacity;
      if (c === CODES.suppressed) {
        s.fillColor = D.styles.suppressed; s.color = S.suppressed.color; s.weight = S.suppressed.weight;
        s.dashArray = S.suppressed.dash;
      } else if (c === CODES.nodata) { s.fillColor = D.styles.nodata; } else { s.fillColor = active.colors[c]; }
    }
    if (marked[i]) { s.weight = S.marked.weight; s.color = S.marked.color; s.dashArray = null; }
    return s;
  }

  // ------------------------------------------------------------------ areas: SVG (Leaflet polygons)
  function svgAreas() {
    var polys = [], group = L.featureGroup().addTo(map);
    GEOMS.forEach(function (g, i) {
      var p = L.polygon(shape(g, true), styleFor(i));
      p.bindTooltip(function () { return tip(i); }, { sticky: true });
      p.on('mouseover', function () { p.setStyle({ weight: S.hover.weight, color: S.hover.color }); });
      p.on('mouseout', function () { p.setStyle(styleFor(i)); });
      polys.push(p);
      group.addLayer(p);
    });
    return {
      mode: 'svg',
      restyle: function (i) { polys[i].setStyle(styleFor(i)); },
      restyleAll: function () {  // an open tooltip follows too (the period's value while playing)
        for (var i = 0; i < n; i++) { polys[i].setStyle(styleFor(i)); if (polys[i].isTooltipOpen()) { polys[i].getTooltip().update(); } }
      },
      bounds: function (i) { return polys[i].getBounds(); },
      extent: function () { return n ? group.getBounds() : null; },
      openTip: function (i, at) { polys[i].openTooltip(at); },
      closeTip: function (i) { polys[i].closeTooltip(); }
    };
  }

  // ------------------------------------------------------------------ areas: own canvas renderer
  // Arc points projected once to Leaflet's world plane at scale 1 (U, V); a pixel is U * scale - origin.
  function projectArcs() {
    var SM = L.Projection.SphericalMercator, T = map.options.crs.transformation, d = Math.PI / 180;
    var t0 = T.transform(L.point(0, 0), 1), t1 = T.transform(L.point(1, 1), 1), m = ARC.lon.length;
    var U = new Float64Array(m), V = new Float64Array(m);
    for (var j = 0; j < m; j++) {
      var lat = Math.max(Math.min(SM.MAX_LATITUDE, ARC.lat[j]), -SM.MAX_LATITUDE), s = Math.sin(lat * d);
      U[j] = t0.x + (t1.x - t0.x) * SM.R * ARC.lon[j] * d;
      V[j] = t0.y + (t1.y - t0.y) * SM.R * Math.log((1 + s) / (1 - s)) / 2;
    }
    return { U: U, V: V };
  }
  // Flat rings: area i has rings ringOff[i]..ringOff[i+1]; ring r has refs refOff[r]..refOff[r+1].
  function flatRings() {
    var ringOff = [0], refOff = [0], refs = [];
    GEOMS.forEach(function (g) {
      g.forEach(function (poly) { poly.forEach(function (r) { r.forEach(function (k) { refs.push(k); }); refOff.push(refs.length); }); });
      ringOff.push(refOff.length - 1);
    });
    return { ringOff: ringOff, refOff: refOff, refs: refs };
  }
  function boxes(P, F) {  // per arc and per area: [minU, minV, maxU, maxV]
    var na = ARC.off.length - 1, arcBox = new Float64Array(4 * na), box = new Float64Array(4 * n), a, j, i, r, e;
    for (a = 0; a < na; a++) {
      arcBox.set([Infinity, Infinity, -Infinity, -Infinity], 4 * a);
      for (j = ARC.off[a]; j < ARC.off[a + 1]; j++) { grow(arcBox, a, P.U[j], P.V[j], P.U[j], P.V[j]); }
    }
    for (i = 0; i < n; i++) {
      box.set([Infinity, Infinity, -Infinity, -Infinity], 4 * i);
      for (r = F.ringOff[i]; r < F.ringOff[i + 1]; r++) {
        for (e = F.refOff[r]; e < F.refOff[r + 1]; e++) {
          a = F.refs[e] >= 0 ? F.refs[e] : ~F.refs[e];
          grow(box, i, arcBox[4 * a], arcBox[4 * a + 1], arcBox[4 * a + 2], arcBox[4 * a + 3]);
        }
      }
    }
    return { arc: arcBox, area: box };
  }
  function grow(b, i, x0, y0, x1, y1) {
    b[4 * i] = Math.min(b[4 * i], x0); b[4 * i + 1] = Math.min(b[4 * i + 1], y0);
    b[4 * i + 2] = Math.max(b[4 * i + 2], x1); b[4 * i + 3] = Math.max(b[4 * i + 3], y1);
  }
  function meets(b, i, v) { return b[4 * i] <= v[2] && b[4 * i + 2] >= v[0] && b[4 * i + 1] <= v[3] && b[4 * i + 3] >= v[1]; }
  // A uniform grid over the extent: each cell lists the areas whose box meets it.
  function hitGrid(B) {
    var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity, side = Math.max(1, Math.ceil(Math.sqrt(n))), i;
    for (i = 0; i < n; i++) {
      if (B[4 * i] > B[4 * i + 2]) { continue; }
      x0 = Math.min(x0, B[4 * i]); y0 = Math.min(y0, B[4 * i + 1]); x1 = Math.max(x1, B[4 * i + 2]); y1 = Math.max(y1, B[4 * i + 3]);
    }
    var g = { x0: x0, y0: y0, w: (x1 - x0) / side || 1, h: (y1 - y0) / side || 1, side: side, cells: [] };
    for (i = 0; i < side * side; i++) { g.cells.push([]); }
    for (i = 0; i < n; i++) {
      if (B[4 * i] > B[4 * i + 2]) { continue; }
      var c0 = cellOf(g, B[4 * i], B[4 * i + 1]), c1 = cellOf(g, B[4 * i + 2], B[4 * i + 3]);
      for (var cy = c0[1]; cy <= c1[1]; cy++) { for (var cx = c0[0]; cx <= c1[0]; cx++) { g.cells[cy * side + cx].push(i); } }
    }
    return g;
  }
  function cellOf(g, x, y) {
    return [Math.min(g.side - 1, Math.max(0, Math.floor((x - g.x0) / g.w))),
            Math.min(g.side - 1, Math.max(0, Math.floor((y - g.y0) / g.h)))];
  }

  // Paths in world units at scale 1 (C: projected points P, flat rings F, boxes B, hit grid G); a pixel is
  // U * k - origin at the map's scale k. Points closer than C.minPx to the last one drawn are dropped.
  function traceRing(ctx, C, r, k, o) {
    var first = true, lx = 0, ly = 0, F = C.F, P = C.P;
    for (var e = F.refOff[r]; e < F.refOff[r + 1]; e++) {
      var ref = F.refs[e], a = ref >= 0 ? ref : ~ref, step = ref >= 0 ? 1 : -1;
      var j = ref >= 0 ? ARC.off[a] : ARC.off[a + 1] - 1, end = ref >= 0 ? ARC.off[a + 1] - 1 : ARC.off[a];
      for (;; j += step) {
        var x = P.U[j] * k - o.x, y = P.V[j] * k - o.y;
        if (first) { ctx.moveTo(x, y); first = false; lx = x; ly = y; }
        else if (j === end || Math.abs(x - lx) >= C.minPx || Math.abs(y - ly) >= C.minPx) { ctx.lineTo(x, y); lx = x; ly = y; }
        if (j === end) { break; }
      }
    }
    ctx.closePath();
  }
  function traceArea(ctx, C, i, k, o) { for (var r = C.F.ringOff[i]; r < C.F.ringOff[i + 1]; r++) { traceRing(ctx, C, r, k, o); } }
  function traceArc(ctx, C, a, k, o) {
    var lx = 0, ly = 0, s = ARC.off[a], e = ARC.off[a + 1] - 1;
    for (var j = s; j <= e; j++) {
      var x = C.P.U[j] * k - o.x, y = C.P.V[j] * k - o.y;
      if (j === s) { ctx.moveTo(x, y); lx = x; ly = y; }
      else if (j === e || Math.abs(x - lx) >= C.minPx || Math.abs(y - ly) >= C.minPx) { ctx.lineTo(x, y); lx = x; ly = y; }
    }
  }
  // Point in polygon: even-odd over every ring of area i, on the decoded geometry.
  function insideArea(C, i, x, y) {
    var odd = false, F = C.F, P = C.P;
    for (var r = F.ringOff[i]; r < F.ringOff[i + 1]; r++) {
      var px = null, py = null, fx = null, fy = null;
      for (var e = F.refOff[r]; e < F.refOff[r + 1]; e++) {
        var ref = F.refs[e], a = ref >= 0 ? ref : ~ref;
        for (var j = ARC.off[a]; j < ARC.off[a + 1]; j++) {
          var q = ref >= 0 ? j : ARC.off[a + 1] - 1 - (j - ARC.off[a]), qx = P.U[q], qy = P.V[q];
          if (px === null) { fx = qx; fy = qy; } else if ((py > y) !== (qy > y) && x < px + (y - py) * (qx - px) / (qy - py)) { odd = !odd; }
          px = qx; py = qy;
        }
      }
      if (px !== null && (py > y) !== (fy > y) && x < px + (y - py) * (fx - px) / (fy - py)) { odd = !odd; }
    }
    return odd;
  }
  function hitArea(C, latlng) {  // the area under a point, or -1
    var crs = map.options.crs, p = crs.latLngToPoint(latlng, 0), k = crs.scale(0), x = p.x / k, y = p.y / k, B = C.B.area;
    var c = cellOf(C.G, x, y), list = C.G.cells[c[1] * C.G.side + c[0]];
    for (var t = 0; t < list.length; t++) {
      var i = list[t];
      if (B[4 * i] <= x && x <= B[4 * i + 2] && B[4 * i + 1] <= y && y <= B[4 * i + 3] && insideArea(C, i, x, y)) { return i; }
    }
    return -1;
  }
  // Fills one path per class, a few areas at a time (the cost of a canvas path grows faster than its
  // length), then the borders: every arc once, and the suppressed areas' dashed outline.
  function canvasPainter(C, renderer) {
    var painted = 0;
    function inChunks(ctx, list, add, paint) {
      ctx.beginPath();
      for (var t = 0; t < list.length; t++) {
        add(list[t]);
        if ((t + 1) % S.canvas.chunk === 0 || t === list.length - 1) { paint(); ctx.beginPath(); }
      }
    }
    function view() {  // the renderer's box in world units at scale 1
      var k = map.options.crs.scale(map.getZoom()), o = map.getPixelOrigin(), b = renderer._bounds;
      return { k: k, o: o, box: [(b.min.x + o.x) / k, (b.min.y + o.y) / k, (b.max.x + o.x) / k, (b.max.y + o.y) / k] };
    }
    function buckets(v) {  // visible areas by fill, and the suppressed ones
      var by = {}, order = [], dashed = [];
      painted = 0;
      for (var i = 0; i < n; i++) {
        if (!meets(C.B.area, i, v.box)) { continue; }
        var st = styleFor(i), key = st.fillColor + ' ' + st.fillOpacity;
        if (!by[key]) { by[key] = { st: st, list: [] }; order.push(key); }
        by[key].list.push(i);
        if (st.dashArray) { dashed.push(i); }
        painted++;
      }
      return { fills: order.map(function (key) { return by[key]; }), dashed: dashed };
    }
    function draw(ctx) {
      if (!ctx || !renderer._bounds) { return; }
      var v = view(), b = buckets(v), arcs = [];
      b.fills.forEach(function (bk) {
        ctx.globalAlpha = bk.st.fillOpacity;
        ctx.fillStyle = bk.st.fillColor;
        inChunks(ctx, bk.list, function (j) { traceArea(ctx, C, j, v.k, v.o); }, function () { ctx.fill('evenodd'); });
      });
      ctx.globalAlpha = 1;
      for (var a = 0; a < ARC.off.length - 1; a++) { if (meets(C.B.arc, a, v.box)) { arcs.push(a); } }
      ctx.strokeStyle = S.area.color; ctx.lineWidth = S.area.weight; ctx.lineJoin = 'round';
      inChunks(ctx, arcs, function (j) { traceArc(ctx, C, j, v.k, v.o); }, function () { ctx.stroke(); });
      ctx.strokeStyle = S.suppressed.color; ctx.lineWidth = S.suppressed.weight;
      ctx.setLineDash(String(S.suppressed.dash).split(/[ ,]+/).map(Number));
      inChunks(ctx, b.dashed, function (i) { traceArea(ctx, C, i, v.k, v.o); }, function () { ctx.stroke(); });
      ctx.setLineDash([]);
    }
    return { draw: draw, painted: function () { return painted; } };
  }

  function canvasAreas() {
    var P = projectArcs(), F = flatRings(), B = boxes(P, F), crs = map.options.crs;
    var C = { P: P, F: F, B: B, G: hitGrid(B.area), minPx: S.canvas.min_px };
    var hover = -1, lines = {}, tipAt = -1, painter = null;
    var Fast = L.Canvas.extend({
      _initContainer: function () { L.Canvas.prototype._initContainer.call(this); L.DomUtil.addClass(this._container, 'gm-canvas'); },
      _draw: function () { painter.draw(this._ctx); }
    });
    var fast = new Fast({ padding: S.canvas.padding }), tipLayer = L.tooltip({ sticky: true, direction: 'auto' });
    painter = canvasPainter(C, fast);
    function outline(key, i, st) {  // a thick outline over the canvas (hover, search marks): an SVG polygon
      if (lines[key]) { map.removeLayer(lines[key]); delete lines[key]; }
      if (i < 0 || !st) { return; }
      lines[key] = L.polygon(shape(GEOMS[i], true), { interactive: false, fill: false, color: st.color, weight: st.weight }).addTo(map);
    }
    function showTip(i, at) {
      tipAt = i;
      tipLayer.setContent(tip(i)).setLatLng(at);
      if (!map.hasLayer(tipLayer)) { tipLayer.openOn(map); }
    }
    function hideTip() { if (map.hasLayer(tipLayer)) { map.removeLayer(tipLayer); } }
    map.on('mousemove', function (e) {
      var i = hitArea(C, e.latlng);
      if (i !== hover) { hover = i; outline('hover', i, S.hover); }
      if (i >= 0) { showTip(i, e.latlng); } else { hideTip(); }
    });
    on(mapEl, 'mouseleave', function () { hover = -1; outline('hover', -1); hideTip(); });
    fast.addTo(map);  // Leaflet adds it (and draws) once the map has a view
    function redraw() {
      if (fast._map && fast._ctx) { fast._redraw(); }
      if (tipAt >= 0 && map.hasLayer(tipLayer)) { tipLayer.setContent(tip(tipAt)); }  // the period's value while playing
    }
    function latLngOf(x, y) { var k = crs.scale(0); return crs.pointToLatLng(L.point(x * k, y * k), 0); }
    function boundsOf(i) { return L.latLngBounds(latLngOf(B.area[4 * i], B.area[4 * i + 3]), latLngOf(B.area[4 * i + 2], B.area[4 * i + 1])); }
    return {
      mode: 'canvas',
      restyle: function (i) { outline('mark' + i, marked[i] ? i : -1, S.marked); redraw(); },
      restyleAll: redraw,
      bounds: boundsOf,
      extent: function () {
        var b = L.latLngBounds([]);
        for (var i = 0; i < n; i++) { if (B.area[4 * i] <= B.area[4 * i + 2]) { b.extend(boundsOf(i)); } }
        return b;
      },
      openTip: showTip,
      closeTip: hideTip,
      hit: function (latlng) { return hitArea(C, latlng); },
      painted: painter.painted,
      canvas: function () { return fast._container; }
    };
  }

  var areas = OPT.renderer === 'canvas' ? canvasAreas() : svgAreas();
  var bounds = areas.extent();
  if (!bounds || !bounds.isValid()) { bounds = L.latLngBounds(S.fallback_bounds); }

  // ------------------------------------------------------------------ overlays
  function labelMarker(latlng, text, cls) {
    return L.marker(latlng, { opacity: 0, interactive: false, keyboard: false,
                              icon: L.divIcon({ className: 'gm-nolabel', html: '' }) })
      .bindTooltip(el('span', null, text), { permanent: true, direction: 'center', className: cls });
  }
  function buildOverlay(ly) {
    var g = L.featureGroup();
    if (ly.kind === 'outline') {
      var topo = !!(D.arcs && ly.topo);
      geomsFrom(ly.geoms).forEach(function (gm, j) {
        var o = L.polygon(shape(gm, topo, ly.q), {
          color: ly.color, weight: ly.weight, fill: !!ly.fill, fillColor: ly.color,
          fillOpacity: ly.fill || 0, dashArray: ly.dash || null, interactive: false });
        g.addLayer(o);
        if (ly.labels && ly.labels[j]) {
          var mk = labelMarker(o.getBounds().getCenter(), ly.labels[j], 'gm-label');
          fitted.push({ m: mk, b: o.getBounds(), w: S.label.char_width * String(ly.labels[j]).length });
          g.addLayer(mk);
        }
      });
    } else if (ly.kind === 'points') {
      ly.points.forEach(function (pt) {
        var m = L.circleMarker([pt[1], pt[0]], { radius: pt[3], color: S.point.color, weight: S.point.weight,
                                                 fillColor: ly.colors[pt[2]], fillOpacity: S.point.fill_opacity });
        if (pt[4] !== undefined) { m.bindTooltip(el('span', null, pt[4])); }
        g.addLayer(m);
      });
    }
    return g;
  }
  // Labels of outlines (districts, recommended areas) show only where their outline is wide enough on
  // screen for the text, so that a map of many districts is not buried under their names.
  var fitted = [];
  function fitLabels() {
    if (!map._loaded) { return; }
    fitted.forEach(function (f) {
      var tt = f.m.getTooltip(), node = tt && tt.getElement();
      if (!node) { return; }
      var p = map.latLngToContainerPoint(f.b.getNorthWest()), q = map.latLngToContainerPoint(f.b.getSouthEast());
      node.style.display = (q.x - p.x >= f.w && q.y - p.y >= S.label.min_height) ? '' : 'none';
    });
  }
  map.on('zoomend moveend', fitLabels);
  function isArea(ly) { return ly.kind === 'area' || ly.kind === 'time'; }
  D.layers.forEach(function (ly) { if (!isArea(ly)) { overlays[ly.id] = buildOverlay(ly); } });

  // Area names (optional): permanent labels at a point inside each area, each shown only where its
  // area is wide enough on screen for it (zoom in to see the names of small areas).
  var nameLayer = null, nameMarkers = [];
  function declutter() {
    if (!nameLayer || !map.hasLayer(nameLayer) || !map._loaded) { return; }
    nameMarkers.forEach(function (mk) {
      var b = areas.bounds(mk.i), p = map.latLngToContainerPoint(b.getNorthWest()),
          q = map.latLngToContainerPoint(b.getSouthEast()), tt = mk.m.getTooltip(), node = tt && tt.getElement();
      if (node) { node.style.display = (q.x - p.x >= mk.w && q.y - p.y >= S.label.min_height) ? '' : 'none'; }
    });
  }
  function showNames(show) {
    if (!nameLayer) {
      nameLayer = L.featureGroup();
      (A.label_at || []).forEach(function (p, i) {
        var at = gridPoint(p);
        if (!at) { return; }
        var m = labelMarker(at, A.names[i], 'gm-area-label');
        nameMarkers.push({ m: m, i: i, w: S.label.char_width * String(A.names[i]).length });
        nameLayer.addLayer(m);
      });
      map.on('zoomend moveend', declutter);
    }
    if (show) { nameLayer.addTo(map); declutter(); } else { map.removeLayer(nameLayer); }
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
      if ((isArea(ly) && activeLayer === ly) || (!isArea(ly) && visible[ly.id])) {
        if (ly.legend) { d.appendChild(legendBlock(ly)); }
      }
    });
  }
  // The values and classes shown: an area layer's own, or one period of a time layer.
  function viewOf(ly, t) {
    if (ly.kind !== 'time') { return ly; }
    return { name: ly.name, values: ly.values[t], cls: ly.cls[t], colors: ly.colors, period: ly.periods[t],
             extra: (ly.extra || []).map(function (x) { return { name: x.name, values: x.values[t] }; }) };
  }
  function showArea(ly) {
    activeLayer = ly;
    active = viewOf(ly, ly.kind === 'time' ? timeControl.at(ly) : 0);
    timeControl.show(ly);
    areas.restyleAll();
    drawLegend();
  }
  function setOverlay(id, show) {
    visible[id] = show;
    if (show) { overlays[id].addTo(map); fitLabels(); } else { map.removeLayer(overlays[id]); }
    drawLegend();
  }
  function layerInput(ly, onchange) {
    var lab = el('label'), inp = el('input');
    inp.type = isArea(ly) ? 'radio' : 'checkbox';
    inp.name = isArea(ly) ? 'gm-area' : ly.id;
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
      if (isArea(ly)) { showArea(ly); } else { setOverlay(ly.id, checked); }
    }));
  });
  if (A.label_at) {
    var names = layerInput({ id: 'gm-names', kind: 'names', name: GEO.title + ' names', visible: OPT.labels },
                           showNames);
    names.className = 'gm-names-toggle';
    names.querySelector('input').id = 'gm-labels';
    layersPanel.body.appendChild(names);
  }

  // ------------------------------------------------------------------ time: slider, play, period label
  // One legend for every period (the classes come from all periods' safe values); the slider, its arrow
  // keys and the play button step through the periods; the period shows in the header (and in print).
  var timeControl = (function () {
    var box = el('div', 'gm-panel gm-time'), play = el('button', 'gm-play'), slider = el('input'),
        label = el('output', 'gm-period-label'), header = document.getElementById('gm-period');
    var now = {}, layer = null, timer = null;
    box.id = 'gm-time';
    box.setAttribute('role', 'group');
    box.setAttribute('aria-label', 'Period');
    play.type = 'button';
    play.id = 'gm-play';
    slider.type = 'range';
    slider.id = 'gm-slider';
    slider.min = 0;
    slider.step = 1;
    slider.setAttribute('aria-label', 'Period');
    label.id = 'gm-period-label';
    label.setAttribute('aria-live', 'polite');
    [play, slider, label].forEach(function (x) { box.appendChild(x); });
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box);
    function playing(yes) {
      if (timer) { clearInterval(timer); timer = null; }
      play.textContent = yes ? 'Pause' : 'Play';
      play.setAttribute('aria-pressed', yes ? 'true' : 'false');
      play.setAttribute('aria-label', yes ? 'Pause' : 'Play through the periods');
      if (yes) { timer = setInterval(step, layer.interval_ms); }
    }
    function set(t, quiet) {
      now[layer.id] = t;
      slider.value = t;
      slider.setAttribute('aria-valuetext', layer.periods[t]);
      label.textContent = layer.periods[t];
      if (header) { header.textContent = layer.period_title + ': ' + layer.periods[t]; }
      document.body.setAttribute('data-gm-period', layer.periods[t]);
      active = viewOf(layer, t);
      if (!quiet) { areas.restyleAll(); }
    }
    function step() {
      var t = now[layer.id] + 1;
      if (t >= layer.periods.length) { playing(false); return; }
      set(t);
    }
    on(slider, 'input', function () { playing(false); set(Number(slider.value)); });
    on(play, 'click', function () {
      if (timer) { playing(false); return; }
      if (now[layer.id] >= layer.periods.length - 1) { set(0); }
      playing(true);
    });
    var ctl = L.control({ position: 'bottomleft' });
    ctl.onAdd = function () { return box; };
    return {
      at: function (ly) { if (now[ly.id] === undefined) { now[ly.id] = ly.start; } return now[ly.id]; },
      show: function (ly) {
        playing(false);
        if (ly.kind !== 'time') { layer = null; ctl.remove(); if (header) { header.textContent = ''; } return; }
        layer = ly;
        slider.max = ly.periods.length - 1;
        ctl.addTo(map);
        set(this.at(ly), true);
      }
    };
  })();

  // ------------------------------------------------------------------ search
  // Names are folded (case, accents, punctuation, "&"/"and", "St"/"St."/"Saint"); names that occur
  // more than once are told apart by their parent area ("Castle (Northwold)"), then by code. The index is
  // built when first needed on maps drawn by the canvas renderer (many areas).
  function fold(s) {
    s = String(s).normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/&/g, ' and ')
      .replace(/['\u2018\u2019`]/g, '');
    return s.split(/[^a-z0-9]+/).filter(Boolean).map(function (w) { return w === 'saint' ? 'st' : w; }).join(' ');
  }
  function dups(keys) {
    var c = {};
    keys.forEach(function (k) { c[k] = (c[k] || 0) + 1; });
    return function (k) { return c[k] > 1; };
  }
  var index = null;
  function searchIndex() {
    if (index) { return index; }
    var foldedNames = A.names.map(fold), byName = dups(foldedNames);
    var labels = A.names.map(function (nm, i) { return byName(foldedNames[i]) && PARENTS ? nm + ' (' + PARENTS[i] + ')' : nm; });
    var byLabel = dups(labels.map(fold));
    labels = labels.map(function (lb, i) {
      return byLabel(fold(lb)) ? lb.replace(/\)$/, '') + (lb.slice(-1) === ')' ? ', ' : ' (') + A.codes[i] + ')' : lb;
    });
    index = { labels: labels, folded: labels.map(fold), names: foldedNames };
    return index;
  }
  var found = [];
  function clearFound() {
    found.forEach(function (i) { delete marked[i]; areas.closeTip(i); areas.restyle(i); });
    found = [];
  }
  function matches(q) {
    var f = fold(q), all = [], x = searchIndex(), i;
    if (!f) { return all; }
    var tests = [
      function (j) { return x.folded[j] === f; },
      function (j) { return x.names[j] === f || A.codes[j].toLowerCase() === q.trim().toLowerCase(); },
      function (j) { return x.folded[j].indexOf(f) === 0; },
      function (j) { return (' ' + x.folded[j]).indexOf(' ' + f) >= 0; }
    ];
    for (var t = 0; t < tests.length && !all.length; t++) {
      for (i = 0; i < n; i++) { if (tests[t](i)) { all.push(i); } }
    }
    return all;
  }
  function fillList(list) {
    if (list.firstChild) { return; }
    var x = searchIndex(), collator = new Intl.Collator();
    x.labels.slice().sort(collator.compare).forEach(function (lb) { var o = el('option'); o.value = lb; list.appendChild(o); });
  }
  function findArea(q, status) {
    clearFound();
    status.textContent = '';
    if (!q) { return; }
    var hits = matches(q);
    if (!hits.length) { status.textContent = 'No ' + GEO.label + ' matches “' + q + '”.'; return; }
    found = hits;
    var b = L.latLngBounds([]);
    hits.forEach(function (i) { marked[i] = true; areas.restyle(i); b.extend(areas.bounds(i)); });
    map.fitBounds(b, { maxZoom: S.search.max_zoom, padding: [S.search.padding, S.search.padding] });
    if (hits.length === 1) {
      areas.openTip(hits[0], gridPoint(A.label_at && A.label_at[hits[0]]) || areas.bounds(hits[0]).getCenter());
    } else {
      var shown = S.search.list_matches, lb = searchIndex().labels;
      status.textContent = hits.length + ' ' + GEO.plural + ' match: ' +
        hits.slice(0, shown).map(function (i) { return lb[i]; }).join('; ') + (hits.length > shown ? '; …' : '') +
        '. Pick one from the list.';
    }
  }
  var search = L.control({ position: 'topleft' });
  search.onAdd = function () {
    var d = el('div', 'gm-panel gm-search'), inp = el('input'), list = el('datalist'), status = el('div', 'gm-status');
    L.DomEvent.disableClickPropagation(d);
    L.DomEvent.disableScrollPropagation(d);
    list.id = 'gm-area-list';
    if (areas.mode !== 'canvas') { fillList(list); } else { on(inp, 'focus', function () { fillList(list); }); }
    inp.type = 'search';
    inp.id = 'gm-search';
    inp.placeholder = 'Find ' + GEO.a + '…';
    inp.setAttribute('list', 'gm-area-list');
    inp.setAttribute('aria-label', 'Find ' + GEO.a + ' by name or code');
    status.id = 'gm-search-status';
    status.setAttribute('aria-live', 'polite');
    var last = null;  // Enter fires both keydown and change: search once
    function goOnce() { if (inp.value !== last) { last = inp.value; findArea(inp.value.trim(), status); } }
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
    hintTimer = setTimeout(function () { hint.classList.remove('gm-show'); }, S.hint_ms);
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
    var w = mapEl.clientWidth, h = mapEl.clientHeight, d = dock.offsetWidth, F = S.fit;
    if (w < F.min_box || h < F.min_box) { return { padding: [0, 0] }; }  // never pad a tiny box down to nothing
    var right = (d && w > F.dock_share * d) ? d + F.dock_gap : F.edge;
    var tb = document.getElementById('gm-time'),  // the time control (and the scale under it)
        t = tb && tb.offsetParent ? mapEl.getBoundingClientRect().bottom - tb.getBoundingClientRect().top : 0;
    var bottom = (t && h > F.dock_share * t) ? t + F.dock_gap : F.edge;
    return { paddingTopLeft: [F.edge, F.edge], paddingBottomRight: [right, bottom] };
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
    if (changed && mapEl.clientHeight < S.fit.fold_below && !view.fitted) { layersPanel.box.open = false; }
    if (!view.fitted || !validView() || (changed && !view.user)) { fit(); }
  }
  var pending = false;
  function refresh() {
    if (pending) { return; }
    pending = true;
    setTimeout(function () { pending = false; resize(); }, S.refresh_ms);
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
  D.layers.forEach(function (ly) { if (!isArea(ly) && ly.visible) { setOverlay(ly.id, true); } });
  var first = D.layers.filter(function (ly) { return isArea(ly) && ly.visible; })[0] ||
              D.layers.filter(isArea)[0];
  if (first) { showArea(first); } else { drawLegend(); }
  resize();
  if (A.label_at && OPT.labels) { showNames(true); }
  setTimeout(refresh, S.settle_ms);
  window.gmMap = map;
  window.gmAreas = areas;
  window.gmView = { fit: fit, bounds: bounds, state: view, refresh: resize };
  window.gmReady = true;
  document.body.setAttribute('data-gm-ready', '1');
})();
