/**
 * The browser side of the `stratadb lsm --html` page, as a string the page inlines: reads the
 * embedded history (LsmHistory, lsm-history.ts) and draws one step at a time: per level the files as
 * key-range bars (x: the index of their boundary keys in the sorted key list, so skewed keys stay
 * readable; height: size; shade: age by sequence), the step's inputs (dashed red), outputs (green)
 * and moved files (blue), the per-level counts, the cumulative bytes and the write amplification.
 * Contract: plain ES2017, no library, no network, no module syntax (the page must open from a file
 * with no server). The SVG is built as markup: the HTML parser puts inline <svg> in its namespace.
 * Moving between steps applies (or undoes) steps one by one from the current one, like `pebble lsm`.
 */
export const LSM_PAGE_SCRIPT = String.raw`
'use strict';
(function () {
  var data = JSON.parse(document.getElementById('lsm-data').textContent);
  var steps = data.steps;
  var files = data.files;
  var nKeys = Math.max(1, data.keys.length);
  var $ = function (id) { return document.getElementById(id); };
  var esc = function (s) {
    return String(s).replace(/[&<>"]/g, function (c) { return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]; });
  };
  var human = function (n) {
    var u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'], v = n, i = 0;
    while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
    return i === 0 ? n + ' B' : v.toFixed(1) + ' ' + u[i];
  };
  var num = function (f) { return ('000000' + f).slice(-6); };

  var maxLevels = 1, maxSize = 1, minSeq = Infinity, maxSeq = 0;
  steps.forEach(function (s) { maxLevels = Math.max(maxLevels, s.levels.length); });
  Object.keys(files).forEach(function (k) {
    var f = files[k];
    maxSize = Math.max(maxSize, f.size);
    minSeq = Math.min(minSeq, f.largestSeq);
    maxSeq = Math.max(maxSeq, f.largestSeq);
  });

  // state: fileNumber -> level, for the step at index 'cur'.
  var state = new Map();
  var cur = -1;
  function apply(s) {
    if (s.gap) {
      s.gap.deleted.forEach(function (d) { state.delete(d[1]); });
      s.gap.added.forEach(function (a) { state.set(a[1], a[0]); });
    }
    s.deleted.forEach(function (d) { state.delete(d[1]); });
    s.moved.forEach(function (m) { state.set(m[0], m[2]); });
    s.added.forEach(function (a) { state.set(a[1], a[0]); });
  }
  function undo(s) {
    s.added.forEach(function (a) { state.delete(a[1]); });
    s.moved.forEach(function (m) { state.set(m[0], m[1]); });
    s.deleted.forEach(function (d) { state.set(d[1], d[0]); });
    if (s.gap) {
      s.gap.added.forEach(function (a) { state.delete(a[1]); });
      s.gap.deleted.forEach(function (d) { state.set(d[1], d[0]); });
    }
  }
  function goTo(i) {
    i = Math.max(0, Math.min(steps.length - 1, i));
    while (cur < i) apply(steps[++cur]);
    while (cur > i) undo(steps[cur--]);
    render();
  }

  var W = 1000, LEFT = 150, ROW = 44, LANE = 9, MAXLANES = 12;
  var xOf = function (k) { return LEFT + (k / nKeys) * (W - LEFT - 10); };
  function bar(fnum, level, y, h, cls) {
    var f = files[fnum];
    if (!f) return '';
    var x0 = xOf(f.smallest), x1 = Math.max(x0 + 1.5, xOf(f.largest + 1));
    var age = maxSeq > minSeq ? (maxSeq - f.largestSeq) / (maxSeq - minSeq) : 0;
    var light = Math.round(35 + 45 * age);
    var title = num(fnum) + ' L' + level + '  ' + human(f.size) + '\n[' + data.keys[f.smallest] + ' .. ' + data.keys[f.largest] +
      ']\nseq ' + f.smallestSeq + '..' + f.largestSeq + '  entries ' + f.entries + ' (' + f.deletions + ' del)';
    return '<rect class="' + cls + '" x="' + x0.toFixed(1) + '" y="' + y.toFixed(1) + '" width="' + (x1 - x0).toFixed(1) +
      '" height="' + h.toFixed(1) + '" style="fill:hsl(210,45%,' + light + '%)"><title>' + esc(title) + '</title></rect>';
  }
  var heightOf = function (fnum) { return 6 + 28 * Math.sqrt((files[fnum] || { size: 0 }).size / maxSize); };

  function render() {
    var s = steps[cur];
    var perLevel = [];
    for (var l = 0; l < maxLevels; l++) perLevel.push([]);
    state.forEach(function (level, f) { (perLevel[level] = perLevel[level] || []).push(f); });
    var mark = {};
    s.added.forEach(function (a) { mark[a[1]] = 'added'; });
    s.moved.forEach(function (m) { mark[m[0]] = 'moved'; });
    var out = [], y = 10, rowsY = [];
    perLevel.forEach(function (list, level) {
      var top = y, h = ROW;
      if (level === 0) {
        // L0 files overlap: newest first, each in the first lane where it fits.
        list.sort(function (a, b) { return (files[b] ? files[b].largestSeq : 0) - (files[a] ? files[a].largestSeq : 0); });
        var lanes = [];
        var placed = list.map(function (f) {
          var fm = files[f];
          var lane = 0;
          while (lane < lanes.length && lane < MAXLANES - 1 && fm && lanes[lane] >= fm.smallest) lane++;
          if (fm) lanes[lane] = Math.max(lanes[lane] === undefined ? -1 : lanes[lane], fm.largest);
          return [f, lane];
        });
        h = Math.max(ROW, Math.min(lanes.length, MAXLANES) * (LANE + 2) + 6);
        placed.forEach(function (p) { out.push(bar(p[0], 0, top + 3 + p[1] * (LANE + 2), LANE, mark[p[0]] || 'file')); });
      } else {
        list.forEach(function (f) {
          var bh = heightOf(f);
          out.push(bar(f, level, top + h - 3 - bh, bh, mark[f] || 'file'));
        });
      }
      var bytes = list.reduce(function (t, f) { return t + (files[f] ? files[f].size : 0); }, 0);
      out.unshift('<line x1="0" x2="' + W + '" y1="' + (top + h) + '" y2="' + (top + h) + '" class="sep"/>' +
        '<text x="8" y="' + (top + 18) + '" class="lvl">L' + level + '</text>' +
        '<text x="40" y="' + (top + 18) + '" class="cnt">' + list.length + ' files</text>' +
        '<text x="40" y="' + (top + 33) + '" class="cnt">' + esc(human(bytes)) + '</text>');
      rowsY[level] = [top, h];
      y += h;
    });
    // Inputs are gone after the step: drawn as outlines where they were.
    s.deleted.forEach(function (d) {
      var r = rowsY[d[0]];
      if (!r) return;
      var h = d[0] === 0 ? LANE : heightOf(d[1]);
      out.push(bar(d[1], d[0], d[0] === 0 ? r[0] + 3 : r[0] + r[1] - 3 - h, h, 'deleted'));
    });
    $('tree').innerHTML = '<svg viewBox="0 0 ' + W + ' ' + (y + 10) + '" width="' + W + '" height="' + (y + 10) + '">' + out.join('') + '</svg>';

    $('slider').value = String(cur);
    $('pos').textContent = 'step ' + (cur + 1) + ' of ' + steps.length + (data.totalSteps > steps.length ? ' shown (' + data.totalSteps + ' in all)' : '');
    $('reason').textContent = '#' + s.edit + ' @' + s.offset + '  ' + s.kind + ': ' + s.reason;
    $('gap').textContent = s.gap ? 'gap: ' + s.gap.edits + ' edits left out before this step; their net change (' + s.gap.deleted.length +
      ' files gone, ' + s.gap.added.length + ' new) is applied first' : '';
    var rows = s.levels.map(function (c, level) {
      var prev = cur > 0 ? (steps[cur - 1].levels[level] || [0, 0]) : [0, 0];
      var d = c[0] - prev[0];
      return '<tr><td>L' + level + '</td><td>' + c[0] + '</td><td>' + (d === 0 ? '' : (d > 0 ? '+' : '') + d) + '</td><td>' + esc(human(c[1])) + '</td></tr>';
    });
    $('levels').innerHTML = '<tr><th>level</th><th>files</th><th>change</th><th>bytes</th></tr>' + rows.join('');
    $('flushed').textContent = human(s.flushedBytes);
    $('compacted').textContent = human(s.compactedBytes);
    $('wamp').textContent = s.writeAmp === null ? '-' : s.writeAmp.toFixed(2);
    var c = $('cursor');
    if (c) c.setAttribute('x1', String(sparkX(cur))), c.setAttribute('x2', String(sparkX(cur)));
  }

  var sparkX = function (i) { return 4 + (i / Math.max(1, steps.length - 1)) * 392; };
  function sparkline() {
    var vals = steps.map(function (s) { return s.writeAmp === null ? 1 : s.writeAmp; });
    var top = Math.max(1.5, Math.max.apply(null, vals));
    var pts = vals.map(function (v, i) { return sparkX(i).toFixed(1) + ',' + (56 - (v / top) * 50).toFixed(1); }).join(' ');
    $('spark').innerHTML = '<svg viewBox="0 0 400 60" width="400" height="60"><polyline points="' + pts + '" class="wa"/>' +
      '<line id="cursor" y1="0" y2="60" class="cur"/><text x="4" y="10" class="cnt">max ' + top.toFixed(2) + '</text></svg>';
  }

  $('notes').innerHTML = data.notes.map(function (n) { return '<li>' + esc(n) + '</li>'; }).join('') +
    (data.problem ? '<li class="bad">MANIFEST damaged at offset ' + data.problem.offset + ': ' + esc(data.problem.detail) + ' (the history stops there)</li>' : '') +
    (data.tornTail ? '<li>torn tail at offset ' + data.tornTail.offset + ' (ignored, as an open does)</li>' : '');
  var counts = Object.keys(data.counts).filter(function (k) { return data.counts[k] > 0; }).map(function (k) { return data.counts[k] + ' ' + k; });
  $('summary').textContent = data.manifest + ': ' + data.edits + ' edits, ' + data.totalSteps + ' steps (' + counts.join(', ') + ')';
  var slider = $('slider');
  slider.max = String(steps.length - 1);
  slider.addEventListener('input', function () { goTo(Number(slider.value)); });
  var timer = null;
  function play() {
    if (timer) { clearInterval(timer); timer = null; $('play').textContent = 'play'; return; }
    if (cur >= steps.length - 1) goTo(0);
    $('play').textContent = 'pause';
    timer = setInterval(function () { if (cur >= steps.length - 1) play(); else goTo(cur + 1); }, 150);
  }
  $('first').onclick = function () { goTo(0); };
  $('prev').onclick = function () { goTo(cur - 1); };
  $('next').onclick = function () { goTo(cur + 1); };
  $('last').onclick = function () { goTo(steps.length - 1); };
  $('play').onclick = play;
  document.addEventListener('keydown', function (e) {
    if (e.key === 'ArrowRight') goTo(cur + (e.shiftKey ? 10 : 1));
    else if (e.key === 'ArrowLeft') goTo(cur - (e.shiftKey ? 10 : 1));
    else if (e.key === 'Home') goTo(0);
    else if (e.key === 'End') goTo(steps.length - 1);
    else if (e.key === ' ') { e.preventDefault(); play(); }
  });
  sparkline();
  if (steps.length > 0) goTo(steps.length - 1);
})();
`;
