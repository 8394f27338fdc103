// shardlift's operator page. Polls GET /status every second and draws what it answers; nothing is fetched from
// anywhere but this server. Every text from the server goes in through textContent, never as markup.
'use strict';

(function () {
  const POLL_MS = 1000;
  const TIMEOUT_MS = 4000;
  /** The lag chart's window. */
  const WINDOW_MS = 5 * 60 * 1000;
  /** Rates are measured over this much history (shorter right after the page opened). */
  const RATE_MS = 10 * 1000;
  /** WAL waiting while nothing more is acknowledged for this long: the capture is stalled. */
  const STALL_MS = 15 * 1000;
  const COLORS = ['#0969da', '#cf222e', '#1a7f37', '#8250df', '#bf8700', '#1b7c83', '#bc4c00', '#6e7781'];

  const samples = [];          // {t, e2e, nodes: {i: lagMs}, tables: {name: rows}, nodeRows: {i: rows}}
  let lastGood = 0;
  let unreachableSince = 0;
  let stall = {lsn: -1, since: 0};
  let cutoverDoc = null;       // the last GET /cutover answer

  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs, ...children) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') e.className = v; else if (k === 'text') e.textContent = v; else e.setAttribute(k, v);
    }
    for (const c of children) if (c != null) e.append(c);
    return e;
  };
  const svg = (tag, attrs) => {
    const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    return e;
  };

  // ---- formatting ---------------------------------------------------------------------------------------------
  const num = (n) => n == null ? '–' : Math.round(n).toLocaleString('en-US');
  function bytes(n) {
    if (n == null) return '–';
    const u = ['B', 'kB', 'MB', 'GB', 'TB'];
    let i = 0;
    while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
    return (i === 0 ? n : n.toFixed(1)) + ' ' + u[i];
  }
  function ms(n) {
    if (n == null) return '–';
    if (n < 1000) return Math.round(n) + ' ms';
    if (n < 60000) return (n / 1000).toFixed(1) + ' s';
    return duration(n);
  }
  function duration(n) {
    if (n == null || !isFinite(n)) return '–';
    const s = Math.round(n / 1000);
    if (s < 60) return s + ' s';
    const m = Math.floor(s / 60);
    if (m < 60) return m + ' min ' + (s % 60) + ' s';
    return Math.floor(m / 60) + ' h ' + (m % 60) + ' min';
  }
  const clock = (t) => new Date(t).toLocaleTimeString('en-GB');

  // ---- polling ------------------------------------------------------------------------------------------------
  async function getJson(path) {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), TIMEOUT_MS);
    try {
      const r = await fetch(path, {cache: 'no-store', signal: ctl.signal});
      let body = null;
      try { body = await r.json(); } catch (e) { body = null; }
      return {status: r.status, body};
    } finally {
      clearTimeout(timer);
    }
  }

  async function poll() {
    try {
      const s = await getJson('/status');
      if (s.status !== 200 || !s.body) {
        const e = new Error('GET /status answered ' + s.status + (s.body && s.body.error ? ': ' + s.body.error : ''));
        e.answered = true;
        throw e;
      }
      try {
        const c = await getJson('/cutover');
        if (c.status === 200 && c.body) cutoverDoc = c.body;
      } catch (e) { /* the status carries the cutover too */ }
      reachable();
      render(s.body);
    } catch (e) {
      unreachable(e);
    } finally {
      setTimeout(poll, POLL_MS);
    }
  }

  function reachable() {
    lastGood = Date.now();
    unreachableSince = 0;
    $('unreachable').hidden = true;
    $('data').hidden = false;
    $('conn').className = 'conn';
    $('conn').textContent = 'live · updated ' + clock(lastGood);
    document.body.dataset.connection = 'live';
  }

  function unreachable(e) {
    if (!unreachableSince) unreachableSince = Date.now();
    // a page that goes on showing the last numbers would be lying: hide them
    $('data').hidden = true;
    $('unreachable').hidden = false;
    const why = e && e.name === 'AbortError' ? 'no answer within ' + TIMEOUT_MS / 1000 + ' s' : (e && e.message) || String(e);
    $('unreachable-title').textContent = e && e.answered ? 'The control plane answers, but not with the status.'
      : 'Control plane unreachable.';
    $('unreachable-text').textContent = (e && e.answered ? 'No status from ' : 'No answer from ') + location.origin + ' since '
      + clock(unreachableSince) + (lastGood ? ' (last good answer ' + clock(lastGood) + ')' : '') + ': ' + why + '.';
    $('conn').className = 'conn down';
    $('conn').textContent = 'unreachable';
    document.body.dataset.connection = 'unreachable';
  }

  // ---- rendering ----------------------------------------------------------------------------------------------
  function render(s) {
    const now = s.serverTime || Date.now();
    const sample = {t: now, e2e: s.endToEndLagMs, nodes: {}, tables: {}, nodeRows: {}};
    for (const n of s.nodes || []) { sample.nodes[n.node] = n.lagMs; sample.nodeRows[n.node] = n.rowsApplied; }
    for (const t of s.tables || []) sample.tables[t.table] = t.rows;
    if (!samples.length || samples[samples.length - 1].t < now) samples.push(sample);
    while (samples.length && samples[0].t < now - WINDOW_MS) samples.shift();

    const phase = $('phase');
    phase.textContent = s.phase;
    phase.className = 'phase ' + s.phase;
    document.body.dataset.phase = s.phase;

    renderHistory(s.phaseHistory || []);
    renderTables(s.tables || [], now);
    renderStream(s, now);
    renderChart(now);
    renderNodes(s.nodes || [], now);
    renderWindow(s.reverse);
    renderPreflight(s.preflight);
    const cut = cutoverDoc || s.cutover || {};
    renderCutover(cut);
    renderVerify(cut);
    renderAlerts(s, cut, now);
  }

  function renderHistory(h) {
    const ol = $('history');
    ol.replaceChildren(...h.map((p) => el('li', {title: p.since}, p.phase + ' · ' + clock(p.since))));
  }

  /** Rows per second of {@code pick(sample)} over the last RATE_MS, or null without two samples. */
  function rate(pick, now) {
    const last = samples[samples.length - 1];
    let first = null;
    for (const x of samples) {
      if (x.t >= now - RATE_MS && pick(x) != null) { first = x; break; }
    }
    if (!first || first === last || pick(last) == null) return null;
    return Math.max(0, (pick(last) - pick(first)) / ((last.t - first.t) / 1000));
  }

  function renderTables(tables, now) {
    const body = $('tables').tBodies[0];
    body.replaceChildren(...tables.map((t) => {
      const done = t.copy === 'DONE' || t.copy === 'INDEXING';
      const est = done ? t.rows : Math.max(t.estimatedRows || 0, t.rows);
      const pct = est > 0 ? Math.min(100, 100 * t.rows / est) : (done ? 100 : 0);
      const r = t.copy === 'COPYING' ? rate((x) => x.tables[t.table], now) : null;
      const eta = t.copy === 'COPYING' && r > 0 && est > t.rows ? duration(1000 * (est - t.rows) / r) : (done ? '0 s' : '–');
      const bar = el('div', {class: 'bar ' + t.copy, role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100',
        'aria-valuenow': pct.toFixed(1), 'data-rows': String(t.rows)}, el('span'));
      bar.firstChild.style.width = pct.toFixed(1) + '%';
      return el('tr', {'data-table': t.table},
        el('td', {text: t.table}),
        el('td', {text: t.copy + (t.chunks ? ' ' + t.chunksDone + '/' + t.chunks : '')}),
        el('td', {}, bar),
        el('td', {class: 'num', text: num(t.rows) + ' / ' + num(est)}),
        el('td', {class: 'num', text: bytes(t.bytes)}),
        el('td', {class: 'num', text: r == null ? '–' : num(r) + ' rows/s'}),
        el('td', {class: 'num eta', text: eta}));
    }));
  }

  function renderStream(s, now) {
    const c = s.capture || {};
    const a = s.apply || {};
    $('e2e').textContent = s.endToEndLagMs == null ? 'not measured yet' : ms(s.endToEndLagMs);
    $('capture').textContent = (c.state || '–') + ' · ' + num(c.events) + ' events · ' + ms(c.lagMs);
    $('wal').textContent = c.walLagBytes == null ? 'unknown yet' : bytes(c.walLagBytes);
    $('queued').textContent = num(a.queued) + ' records';
    const r = rate((x) => Object.values(x.nodeRows).reduce((p, q) => p + (q || 0), 0), now);
    $('apply').textContent = (a.state || '–') + ' · ' + (r == null ? '–' : num(r) + ' rows/s');
  }

  /** The rollback window, from the point of no return to complete: the reverse stream and what its slots retain. */
  function renderWindow(r) {
    $('window').hidden = !r;
    if (!r) return;
    $('reverse-state').textContent = r.state + (r.captures && r.captures.length ? ' · ' + r.captures.join(', ') : '');
    $('reverse-state').dataset.state = r.state;
    $('reverse-lag').textContent = ms(r.lagMs);
    $('reverse-queued').textContent = num(r.queued) + ' records';
    $('reverse-events').textContent = num(r.events) + ' changes';
    $('reverse-slots').replaceChildren(...(r.slots || []).map((x) => el('li', {text: x})));
  }

  function renderNodes(nodes, now) {
    const body = $('nodes').tBodies[0];
    body.replaceChildren(...nodes.map((n) => {
      const r = rate((x) => x.nodeRows[n.node], now);
      const down = !!n.error;
      const tr = el('tr', {'data-node': String(n.node), class: down ? 'down' : ''},
        el('td', {text: String(n.node)}),
        el('td', {text: n.label}),
        el('td', {class: 'state', text: down ? 'FAILING' : 'ok'}),
        el('td', {class: 'num', text: num(n.rowsApplied)}),
        el('td', {class: 'num', text: r == null ? '–' : num(r) + ' rows/s'}),
        el('td', {class: 'num', text: n.lagMs == null ? '–' : ms(n.lagMs)}),
        el('td', {text: n.lastAppliedAt ? clock(n.lastAppliedAt) : 'none yet'}));
      if (down) tr.title = n.error;
      return tr;
    }));
  }

  function renderChart(now) {
    const chart = $('lag-chart');
    const W = 800, H = 220, L = 52, R = 8, T = 10, B = 22;
    const series = [{name: 'end to end', pick: (x) => x.e2e}];
    const nodeIds = new Set();
    for (const x of samples) for (const k of Object.keys(x.nodes)) nodeIds.add(k);
    for (const k of [...nodeIds].sort((a, b) => a - b)) series.push({name: 'node ' + k, pick: (x) => x.nodes[k]});
    let max = 1000;
    for (const x of samples) for (const sr of series) { const v = sr.pick(x); if (v != null && v > max) max = v; }
    max = niceCeil(max);
    const t0 = now - WINDOW_MS;
    const X = (t) => L + (W - L - R) * (t - t0) / WINDOW_MS;
    const Y = (v) => T + (H - T - B) * (1 - v / max);
    const parts = [];
    for (let i = 0; i <= 4; i++) {
      const v = max * i / 4;
      parts.push(svg('line', {class: 'gridline', x1: L, x2: W - R, y1: Y(v), y2: Y(v)}));
      const label = svg('text', {x: L - 6, y: Y(v) + 4, 'text-anchor': 'end'});
      label.textContent = ms(v);
      parts.push(label);
    }
    for (let m = 0; m <= 5; m++) {
      const label = svg('text', {x: X(now - m * 60000), y: H - 6, 'text-anchor': m === 0 ? 'end' : 'middle'});
      label.textContent = m === 0 ? 'now' : '-' + m + ' min';
      parts.push(label);
    }
    const legend = [];
    series.forEach((sr, i) => {
      const color = COLORS[i % COLORS.length];
      const pts = samples.filter((x) => sr.pick(x) != null).map((x) => X(x.t).toFixed(1) + ',' + Y(sr.pick(x)).toFixed(1));
      if (pts.length) {
        parts.push(svg('polyline', {class: 'series', stroke: color, points: pts.join(' '), 'data-series': sr.name}));
      }
      const last = [...samples].reverse().find((x) => sr.pick(x) != null);
      const i_ = el('i');
      i_.style.background = color;
      legend.push(el('span', {}, i_, sr.name + ' ' + (last ? ms(sr.pick(last)) : '–')));
    });
    chart.replaceChildren(...parts);
    chart.setAttribute('data-samples', String(samples.filter((x) => x.e2e != null || Object.keys(x.nodes).length).length));
    $('lag-legend').replaceChildren(...legend);
  }

  function niceCeil(v) {
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }

  function renderPreflight(p) {
    const box = $('preflight');
    if (!p) { box.replaceChildren(el('p', {class: 'muted', text: 'not reported by this version'})); return; }
    const items = [el('p', {text: (p.problems || []).length ? 'Problems:' : 'Passed at ' + clock(p.passedAt)
      + ' (shardlift run starts only when its preflight finds no problem; `shardlift plan` runs it on demand).'})];
    for (const x of p.problems || []) items.push(el('div', {class: 'alert error', text: x}));
    for (const x of p.warnings || []) items.push(el('div', {class: 'alert warn', text: x}));
    box.replaceChildren(...items);
  }

  /** Every report in the cutover answer that has steps: the cutover's, and whatever a later version adds (rollback). */
  function reports(cut) {
    const out = [];
    for (const [key, v] of Object.entries(cut || {})) {
      if (v && typeof v === 'object' && Array.isArray(v.steps)) out.push({key, report: v});
    }
    return out;
  }

  function renderCutover(cut) {
    const st = cut.state;
    $('cutover-state').replaceChildren(el('p', {text: st && typeof st === 'object'
      ? 'Recorded state: ' + st.state + (st.at ? ' at ' + st.at : '') + (st.note ? ' (' + st.note + ')' : '')
      : 'No cutover has begun.'}));
    $('timelines').replaceChildren(...reports(cut).map(({key, report}) =>
      timeline((key === 'last' ? 'Last cutover' : key) + (report.dryRun ? ' (dry run)' : ''), report)));
  }

  /** A report's steps as a timeline: each bar starts where the one before ended, as long as the step took. */
  function timeline(title, r) {
    const steps = r.steps || [];
    const total = Math.max(1, steps.reduce((a, s) => a + (s.ms || 0), 0));
    const box = el('div', {class: 'timeline', 'data-outcome': String(r.outcome)});
    box.append(el('h3', {text: title + ': ' + r.outcome + (r.reason ? ' — ' + r.reason : '')}));
    box.append(el('div', {class: 'summary'},
      el('span', {}, 'writes frozen ', el('b', {text: r.writeFreezeMs == null ? '–' : ms(r.writeFreezeMs)})),
      el('span', {}, 'clients paused (PgBouncer) ', el('b', {class: 'pooler-pause',
        text: r.poolerPauseMs == null ? 'no pooler' : ms(r.poolerPauseMs)})),
      el('span', {}, 'steps ', el('b', {text: ms(r.stepsMs != null ? r.stepsMs : total)}))));
    let at = 0;
    for (const s of steps) {
      const bar = el('span');
      bar.style.left = (100 * at / total).toFixed(2) + '%';
      bar.style.width = (100 * (s.ms || 0) / total).toFixed(2) + '%';
      const row = el('div', {class: 'step ' + s.status, 'data-step': s.name},
        el('span', {text: s.name}), el('span', {text: s.status}), el('div', {class: 'track'}, bar),
        el('span', {class: 'num', text: '+' + ms(at) + ' · ' + ms(s.ms)}));
      if (s.detail) row.append(el('div', {class: 'detail', text: s.detail}));
      box.append(row);
      at += s.ms || 0;
    }
    if (!steps.length) box.append(el('p', {class: 'muted', text: 'no steps reported'}));
    return box;
  }

  function renderVerify(cut) {
    const r = cut.last;
    const box = $('verify');
    const steps = r && Array.isArray(r.steps) ? r.steps.filter((s) => s.name === 'verify' || s.name === 'content') : [];
    if (!steps.length) {
      box.replaceChildren(el('p', {class: 'muted', text: 'No verification yet: the cutover and its dry run prove the '
        + 'content (steps content and verify); `shardlift verify` compares row by row at any time.'}));
      return;
    }
    box.replaceChildren(...steps.map((s) => el('div', {class: 'alert ' + (s.status === 'FAILED' || s.status === 'REFUSED' ? 'error' : 'info')},
      el('b', {text: s.name + ' ' + s.status + ' (' + ms(s.ms) + (r.dryRun ? ', dry run' : '') + ')'}), el('br'), s.detail || '')));
  }

  function renderAlerts(s, cut, now) {
    const list = [];
    const add = (level, what, todo) => list.push({level, what, todo});
    const c = s.capture || {};
    const a = s.apply || {};
    if (s.phase === 'FAILED') {
      add('error', 'The migration stopped: ' + (s.lastError || 'see the log of shardlift run'),
        'Fix what the message names, then start the same shardlift run again: it resumes where it stopped.');
    } else if (s.lastError && !(s.nodes || []).some((n) => n.error
        && s.lastError.startsWith('node ' + n.node + ' (')) && !(s.reverse && (s.lastError === s.reverse.waiting
        || (s.reverse.error && s.lastError.endsWith(s.reverse.error))))) {
      // a node failing is said below, once, with what to do
      add('error', s.lastError, 'shardlift retries within its budget; the message says what to fix.');
    }
    for (const n of s.nodes || []) {
      if (n.error) add('error', 'Node ' + n.node + ' (' + n.label + ') is failing: ' + n.error,
        'Bring the node back before the retry budget runs out; the applier resumes by itself and applies nothing twice.');
    }
    if (c.error) add('error', 'Capture: ' + c.error, 'Check the source, its replication slot and the Kafka broker.');
    // WAL waits on the source while the capture acknowledges nothing more: stalled, whatever its state says
    if (c.ackedLsn !== stall.lsn) stall = {lsn: c.ackedLsn, since: now};
    if (c.state === 'STREAMING' && (c.walLagBytes || 0) > 0 && now - stall.since > STALL_MS) {
      add('error', 'Capture stalled: ' + bytes(c.walLagBytes) + ' of source WAL wait and nothing more was acknowledged by '
        + 'Kafka for ' + duration(now - stall.since) + '.', 'Check the Kafka broker and the source (slot ' +
        'confirmed_flush_lsn in pg_replication_slots); the log of shardlift run names what fails.');
    }
    if (a.retrying && !(s.nodes || []).some((n) => n.error)) add('error', a.retrying, 'Bring the target back; the applier resumes by itself.');
    for (const w of c.shardingKeyChanges || []) add('warn', w, '');
    if (s.takingOn) add('info', 'Taking on tables created on the source: ' + s.takingOn + '.',
      'The stream pauses for a few seconds; a cutover, rollback or complete asked now is refused: ask again in a moment.');
    const r = s.reverse;
    if (r && r.error) add('error', 'Reverse stream: ' + r.error, 'A rollback waits for the reverse stream; the log of shardlift run says what fails.');
    else if (r && r.waiting) add('warn', 'Reverse stream waiting: ' + r.waiting,
      'Bring the node back: its slot keeps the cluster\'s changes meanwhile, and a rollback waits until they are on the source.');
    const last = cut.last;
    if (last && last.outcome === 'REFUSED') {
      add('warn', 'The last cutover' + (last.dryRun ? ' dry run' : '') + ' was refused: ' + (last.reason || ''),
        'Nothing was changed. Wait for what the reason names (the phase shows READY once the stream has caught up), then ask again.');
    }
    if (last && last.outcome === 'FAILED') {
      add('error', 'The last cutover failed and was rolled back: ' + (last.reason || ''), 'The source stays writable; fix what the reason names and try again.');
    }
    if (s.phase === 'CATCHING_UP') {
      add('info', 'Catching up: the cutover\'s lag gate would refuse now (end-to-end lag '
        + (s.endToEndLagMs == null ? 'not measured yet' : ms(s.endToEndLagMs)) + ').', 'Wait for READY.');
    }
    $('alerts').replaceChildren(...list.map((x) => el('div', {class: 'alert ' + x.level, 'data-level': x.level},
      x.what, x.todo ? el('span', {class: 'todo', text: x.todo}) : null)));
  }

  // ---- actions ------------------------------------------------------------------------------------------------
  const ACTIONS = {
    'dry-run': {title: 'Cutover dry run', path: '/cutover', body: {dryRun: true},
      text: 'Walks every cutover step, takes the fence lock for a moment and releases it: nothing is changed.'},
    'cutover': {title: 'Cut over', path: '/cutover', body: {dryRun: false}, understand: 'I understand that writes move to '
      + 'the cluster and the source is fenced at the point of no return.',
      text: 'Fences the source, drains the stream, verifies, and commits the switch to the cluster.'},
    'rollback': {title: 'Roll back', path: '/rollback', body: null, understand: 'I understand that the application goes '
      + 'back to the source.', text: 'Moves the application back to the source through the reverse stream.'},
    'complete': {title: 'Complete', path: '/complete', body: null, understand: 'I understand that the way back closes: '
      + 'no rollback after this.', text: 'Ends the rollback window and stops the reverse stream.'},
  };

  let pending = null;

  function ask(name) {
    const a = ACTIONS[name];
    pending = name;
    $('confirm-title').textContent = a.title;
    $('confirm-text').textContent = a.text;
    $('token').value = '';
    $('understand').checked = false;
    $('understand-row').hidden = !a.understand;
    $('understand-text').textContent = a.understand || '';
    $('confirm').showModal();
    $('token').focus();
  }

  function close() {
    $('token').value = '';
    pending = null;
    if ($('confirm').open) $('confirm').close();
  }

  async function act(ev) {
    ev.preventDefault();
    const a = ACTIONS[pending];
    if (!a) return close();
    const token = $('token').value.trim();
    if (!token) { $('token').focus(); return; }
    if (a.understand && !$('understand').checked) { $('understand').focus(); return; }
    const name = pending;
    close();
    // the token lives in this function only: in the header of one request, never in a URL, storage or the page
    const init = {method: 'POST', cache: 'no-store', headers: {'Authorization': 'Bearer ' + token}};
    if (a.body) { init.headers['Content-Type'] = 'application/json'; init.body = JSON.stringify(a.body); }
    const out = $('result');
    out.replaceChildren(el('p', {text: a.title + ': running since ' + clock(Date.now()) + '…'}));
    out.dataset.state = 'running';
    setBusy(true);
    try {
      const r = await fetch(a.path, init);
      let body = null;
      try { body = await r.json(); } catch (e) { body = null; }
      showAnswer(name, a, r.status, body);
    } catch (e) {
      out.replaceChildren(el('div', {class: 'alert error', text: a.title + ': no answer from the control plane (' + e.message
        + '). Whether it ran is unknown: GET /cutover shows the recorded state.'}));
      out.dataset.state = 'unreachable';
    } finally {
      setBusy(false);
    }
  }

  function showAnswer(name, a, status, body) {
    const out = $('result');
    out.dataset.state = String(status);
    if (status === 404) {
      out.replaceChildren(el('div', {class: 'alert warn', text: a.title + ': not available in this version of shardlift.'}));
      return;
    }
    const parts = [];
    const msg = body && (body.error || body.reason);
    const level = status === 200 ? 'info' : (status === 422 || status === 409 ? 'warn' : 'error');
    const head = {200: 'done', 401: 'the token was refused', 409: 'refused: it does not fit the current state',
      422: 'refused, nothing changed', 503: 'not enabled on this control plane'}[status] || 'failed';
    parts.push(el('div', {class: 'alert ' + level}, a.title + ' — ' + status + ' ' + head + (msg ? ': ' + msg : '')));
    if (body && Array.isArray(body.steps)) parts.push(timeline(a.title, body));
    out.replaceChildren(...parts);
  }

  function setBusy(b) {
    for (const btn of document.querySelectorAll('#actions button')) btn.disabled = b;
  }

  document.addEventListener('DOMContentLoaded', () => {
    for (const btn of document.querySelectorAll('#actions button[data-action]')) {
      btn.addEventListener('click', () => ask(btn.dataset.action));
    }
    $('confirm-form').addEventListener('submit', act);
    $('confirm-cancel').addEventListener('click', close);
    $('confirm').addEventListener('close', () => { $('token').value = ''; });
    poll();
  });
})();
