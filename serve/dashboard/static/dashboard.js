// The dashboard of wormwatch serve. It reads the service's JSON API and its
// event stream only (docs/serve.md, HTTP API and Dashboard), and draws the
// charts as SVG itself: no library, no request to any other host.
'use strict';

(function () {
  const API = '/api/v1';
  const TOKEN_KEY = 'wormwatch.token';
  const SVGNS = 'http://www.w3.org/2000/svg';
  const STATE_RANK = { quiet: 0, watching: 1, subsiding: 2, alarm: 3 };
  const STATE_SYMBOL = { quiet: '\u25CF', watching: '\u25C6', alarm: '\u25B2', subsiding: '\u25BC' };
  const METRICS = [
    { key: 'probes', label: 'Probes', cls: 'm-probes' },
    { key: 'sources', label: 'Sources', cls: 'm-sources' },
    { key: 'new_sources', label: 'New sources', cls: 'm-new' },
  ];
  const MAX_ROWS = 50000; // rows kept per series
  const LOAD_ALL_SERIES = 32; // up to this many series, every series' rows are loaded
  const ROWS_PAGE = 100000; // the API's default limit
  const TRANSITIONS_PAGE = 5000;
  const HISTORY_SHOWN = 200;
  // Automatic reads of /api/v1/detect (a report of every source: it can be
  // large) are spaced by 50 times what the last one took, from 5 s to 2
  // min (2 min for a report over 4 MB); 2 s at least after an alarm opens.
  const DETECT_GAP_MIN = 5000;
  const DETECT_GAP_MAX = 120000;
  const DETECT_GAP_URGENT = 2000;
  const DETECT_BIG = 4 << 20;
  const FORECAST_GAP = 15000;
  const STATUS_GAP = 5000;
  const DELIVERIES_PAGE = 200; // the latest outbox entries listed
  const DELIVERIES_POLL = 3000; // read again this often while webhook deliveries are pending
  const DELIVERIES_AFTER_UPDATE = 300; // and this long after a commit with transitions
  const DELIVERY_SYMBOL = { sent: '\u2713', pending: '\u25F7', dead: '\u2716' };
  const TOP_SOURCES = 15;
  const TOP_NETWORKS = 15;

  const st = {
    token: sessionStorage.getItem(TOKEN_KEY) || '',
    series: new Map(), // key -> series
    sensors: new Map(), // name -> sensor card
    transitions: [],
    tids: new Set(),
    counters: null,
    started: null,
    inputs: [],
    es: null,
    esRetry: 1000,
    esTimer: 0,
    esFailures: 0,
    loaded: false,
    loading: null,
    reloadWanted: false,
    lastUpdate: 0,
    lastCommit: 0,
    detect: null,
    detectAt: 0,
    detectSize: 0,
    detectTook: 0,
    detectLoading: false,
    detectTimer: 0,
    statusAt: 0,
    statusTimer: 0,
    seriesListTimer: 0,
    frame: 0,
    dirty: new Set(),
    bannerText: '',
    deliveries: [],
    deliveryCounts: {},
    deliveriesTimer: 0,
    deliveriesDue: 0,
  };

  // ---- helpers --------------------------------------------------------

  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'text') e.textContent = v;
      else if (k === 'class') e.className = v;
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const k of kids) {
      if (k !== null && k !== undefined) e.append(k);
    }
    return e;
  }

  function svg(tag, attrs) {
    const e = document.createElementNS(SVGNS, tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null) continue;
      if (k === 'text') e.textContent = v;
      else e.setAttribute(k, String(v));
    }
    return e;
  }

  const intFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

  function fmtInt(v) {
    return v === null || v === undefined || !isFinite(v) ? '\u2014' : intFmt.format(v);
  }

  function fmtNum(v) {
    if (v === null || v === undefined || !isFinite(v)) return '\u2014';
    const a = Math.abs(v);
    if (a >= 1000) return intFmt.format(v);
    if (a >= 100) return v.toFixed(0);
    if (a >= 10) return v.toFixed(1);
    if (a >= 1) return v.toFixed(2);
    if (a === 0) return '0';
    return v.toPrecision(2);
  }

  function fmtRange(iv, f) {
    f = f || fmtNum;
    if (!iv || iv.value === null || iv.value === undefined) return '\u2014';
    let s = f(iv.value);
    if (iv.low !== null && iv.high !== null && isFinite(iv.low) && isFinite(iv.high)) s += ' (' + f(iv.low) + ' to ' + f(iv.high) + ')';
    return s;
  }

  const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n) => String(n).padStart(2, '0');

  // fmtTime writes a time as 2001-07-19 13:05 (UTC), with seconds when it
  // has any.
  function fmtTime(ms) {
    if (ms === null || ms === undefined || !isFinite(ms)) return '\u2014';
    const d = new Date(ms);
    let s = d.getUTCFullYear() + '-' + pad(d.getUTCMonth() + 1) + '-' + pad(d.getUTCDate()) + ' ' + pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes());
    if (d.getUTCSeconds() !== 0) s += ':' + pad(d.getUTCSeconds());
    return s;
  }

  function fmtClock(ms) {
    const d = new Date(ms);
    return pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes()) + ':' + pad(d.getUTCSeconds());
  }

  function fmtDuration(ms) {
    const s = ms / 1000;
    if (s < 60) return s + ' s';
    if (s < 3600) return s / 60 + ' min';
    if (s < 86400) return s / 3600 + ' h';
    return s / 86400 + ' d';
  }

  function parseTime(s) {
    if (!s) return null;
    const t = Date.parse(s);
    return isNaN(t) ? null : t;
  }

  function badge(state) {
    state = state || 'quiet';
    return el('span', { class: 'badge', 'data-state': state }, (STATE_SYMBOL[state] || '') + ' ' + state);
  }

  function td(text, cls) {
    return el('td', { class: cls }, text);
  }

  // keyCell is a cell of a series' key that may break after its slashes.
  function keyCell(key) {
    const cell = el('td', { class: 'key' });
    key.split('/').forEach((part, i, all) => {
      cell.append(part + (i < all.length - 1 ? '/' : ''));
      if (i < all.length - 1) cell.append(el('wbr'));
    });
    return cell;
  }

  function fillBody(table, rows, emptyText, cols) {
    const body = table.tBodies[0];
    body.replaceChildren(...rows);
    if (rows.length === 0) body.append(el('tr', {}, el('td', { class: 'empty', colspan: cols }, emptyText)));
  }

  class AuthError extends Error {}

  class APIError extends Error {
    constructor(status, msg) {
      super(msg);
      this.status = status;
    }
  }

  function headers() {
    const h = { Accept: 'application/json' };
    if (st.token) h.Authorization = 'Bearer ' + st.token;
    return h;
  }

  // api reads an endpoint of the API as JSON (with the token, if any);
  // method is GET unless given.
  async function api(path, info, method) {
    const r = await fetch(API + path, { method: method || 'GET', headers: headers(), cache: 'no-store', credentials: 'same-origin', referrerPolicy: 'no-referrer' });
    if (r.status === 401) {
      askToken(st.token !== '');
      throw new AuthError('the API wants a token');
    }
    const body = await r.text();
    if (info) info.size = body.length;
    let data;
    try {
      data = JSON.parse(body);
    } catch (e) {
      throw new APIError(r.status, path + ': the answer is not JSON (' + r.status + ')');
    }
    if (!r.ok) throw new APIError(r.status, (data && data.error) || path + ': ' + r.status);
    return data;
  }

  function showError(e) {
    if (e instanceof AuthError) return;
    const p = $('error');
    p.textContent = 'The API answered with an error: ' + (e && e.message ? e.message : String(e));
    p.hidden = false;
  }

  function clearError() {
    $('error').hidden = true;
  }

  // ---- token ----------------------------------------------------------

  function askToken(wrong) {
    const sec = $('auth');
    if (wrong) {
      sessionStorage.removeItem(TOKEN_KEY);
      st.token = '';
      $('auth-why').textContent = 'The token given was refused: the API answers only requests that carry the read token (the first line of the service\'s token_file). Give it again.';
    }
    if (!sec.hidden) return;
    sec.hidden = false;
    setConn('offline', 'Waiting for a token');
    if (st.es) {
      st.es.close();
      st.es = null;
    }
    $('auth-token').focus();
  }

  function useToken(tok) {
    st.token = tok;
    sessionStorage.setItem(TOKEN_KEY, tok);
    $('auth').hidden = true;
    $('token-change').hidden = false;
    connect(); // reads everything once the stream is open
  }

  // ---- the event stream -----------------------------------------------

  function setConn(state, text) {
    const c = $('conn');
    c.dataset.state = state;
    $('conn-text').textContent = text;
  }

  // connect opens the event stream. EventSource comes back by itself after
  // a dropped connection (with Last-Event-ID, so the service sends what was
  // missed); when it gives up (the service down, or an answer that is not a
  // stream) connect is called again after a growing pause.
  function connect() {
    clearTimeout(st.esTimer);
    if (st.es) st.es.close();
    if (!$('auth').hidden) return;
    let url = API + '/events';
    if (st.token) url += '?token=' + encodeURIComponent(st.token);
    const es = new EventSource(url);
    st.es = es;
    const first = !st.loaded;
    let opened = false;
    let opens = 0;
    const fallback = setTimeout(() => {
      if (!opened && !st.loaded) reload(); // show what is stored even without a stream
    }, 3000);
    es.addEventListener('open', () => {
      opened = true;
      clearTimeout(fallback);
      st.esRetry = 1000;
      st.esFailures = 0;
      setConn('live', 'Live');
      if (++opens === 1 && (first || st.reloadWanted)) reload();
    });
    es.addEventListener('update', (ev) => {
      try {
        applyUpdate(JSON.parse(ev.data));
      } catch (e) {
        showError(e);
      }
    });
    es.addEventListener('resync', () => {
      st.reloadWanted = true;
      reload();
    });
    es.addEventListener('error', () => {
      if (st.es !== es) return;
      if (es.readyState === EventSource.CLOSED) {
        es.close();
        st.es = null;
        // The first failure is looked into at once (a token wanted?).
        const wait = st.esFailures++ === 0 ? 0 : st.esRetry;
        setConn('offline', wait ? 'Offline: trying again in ' + Math.round(wait / 1000) + ' s' : 'Offline');
        st.esTimer = setTimeout(() => {
          // Ask the API first: a refused token shows the token form.
          api('/status').then(() => { st.reloadWanted = true; connect(); }, (e) => {
            if (!(e instanceof AuthError)) connect();
          });
        }, wait);
        if (wait) st.esRetry = Math.min(st.esRetry * 2, 30000);
      } else {
        setConn('reconnecting', 'Reconnecting\u2026'); // the service sends what was missed
      }
    });
  }

  // ---- loading ---------------------------------------------------------

  // reload reads everything again: the status, the series and their rows,
  // the transitions, detect's report.
  function reload() {
    if (st.loading) {
      st.reloadWanted = true;
      return st.loading;
    }
    st.reloadWanted = false;
    st.loading = (async () => {
      try {
        await loadStatus();
        await loadSeriesList(true);
        await loadTransitions(true);
        await Promise.all([...st.series.values()].filter(wanted).map((s) => loadRows(s)));
        await loadDeliveries();
        st.loaded = true;
        document.body.dataset.loaded = 'true';
        clearError();
        loadDetect(true);
        for (const c of st.sensors.values()) loadForecast(c, true);
      } catch (e) {
        showError(e);
      } finally {
        st.loading = null;
        render();
      }
      if (st.reloadWanted) reload();
    })();
    return st.loading;
  }

  async function loadStatus() {
    const s = await api('/status');
    st.started = parseTime(s.started);
    st.inputs = s.inputs || [];
    st.counters = s.counters || st.counters;
    st.statusAt = Date.now();
    dirty('status');
  }

  function statusSoon() {
    if (st.statusTimer) return;
    const wait = Math.max(0, st.statusAt + STATUS_GAP - Date.now());
    st.statusTimer = setTimeout(() => {
      st.statusTimer = 0;
      loadStatus().then(render, showError);
    }, wait);
  }

  // loadSeriesList reads the series and makes a card for each sensor. With
  // fresh set, the rows of every series are read again.
  async function loadSeriesList(fresh) {
    const data = await api('/series');
    for (const j of data.series || []) {
      let s = st.series.get(j.key);
      if (!s) {
        s = { key: j.key, rows: [], loaded: false, loading: null, pending: [], latest: null, state: 'quiet', since: null, last: null };
        st.series.set(j.key, s);
      } else if (fresh) {
        s.loaded = false;
      }
      Object.assign(s, { sensor: j.sensor, kind: j.kind, name: j.name, size: j.size, interval: j.interval_seconds * 1000, origin: j.origin });
    }
    for (const s of st.series.values()) sensorCard(s.sensor);
    for (const c of st.sensors.values()) updateCardSeries(c);
    dirty('series');
  }

  function seriesListSoon() {
    if (st.seriesListTimer) return;
    st.seriesListTimer = setTimeout(() => {
      st.seriesListTimer = 0;
      loadSeriesList(false)
        .then(() => Promise.all([...st.series.values()].filter((s) => wanted(s) && !s.loaded).map((s) => loadRows(s))))
        .then(render, showError);
    }, 300);
  }

  // wanted reports whether a series' rows are to be read: every series
  // when there are few, else those shown.
  function wanted(s) {
    if (st.series.size <= LOAD_ALL_SERIES) return true;
    const c = st.sensors.get(s.sensor);
    return !!c && c.selected === s.key;
  }

  function seriesPath(key) {
    return '/series/' + key.split('/').map(encodeURIComponent).join('/');
  }

  function toRow(j) {
    return { t: parseTime(j.time), probes: j.probes, sources: j.sources, new_sources: j.new_sources, cumulative_sources: j.cumulative_sources };
  }

  // loadRows reads a series' rows (pages of the API's default limit, from
  // the first; the latest MAX_ROWS are kept).
  function loadRows(s) {
    if (s.loading) return s.loading;
    s.loading = (async () => {
      let rows = [];
      let from = '';
      for (;;) {
        const data = await api(seriesPath(s.key) + (from ? '?from=' + encodeURIComponent(from) : ''));
        const got = (data.rows || []).map(toRow);
        rows = rows.concat(got);
        if (rows.length > MAX_ROWS) rows = rows.slice(rows.length - MAX_ROWS);
        if (got.length < ROWS_PAGE) break;
        from = new Date(got[got.length - 1].t + 1).toISOString();
      }
      s.rows = rows;
      s.loaded = true;
      const pending = s.pending;
      s.pending = [];
      for (const r of pending) mergeRow(s, r);
      if (rows.length) noteLatest(s, rows[rows.length - 1]);
      dirty(s.sensor);
      dirty('series');
    })().finally(() => {
      s.loading = null;
    });
    return s.loading;
  }

  // mergeRow puts a row in its place among a loaded series' rows (a row of
  // a time already there replaces it: late records changed it).
  function mergeRow(s, r) {
    if (s.loading) {
      s.pending.push(r);
      return;
    }
    if (!s.loaded) return;
    const rows = s.rows;
    if (rows.length === 0 || r.t > rows[rows.length - 1].t) {
      rows.push(r);
      if (rows.length > MAX_ROWS) rows.splice(0, rows.length - MAX_ROWS);
      return;
    }
    let lo = 0;
    let hi = rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (rows[mid].t < r.t) lo = mid + 1;
      else hi = mid;
    }
    if (lo < rows.length && rows[lo].t === r.t) rows[lo] = r;
    else rows.splice(lo, 0, r);
  }

  function noteLatest(s, r) {
    if (!s.latest || r.t >= s.latest.t) s.latest = r;
  }

  // loadTransitions reads the transitions (all of them with fresh set,
  // else those after the latest known) and applies them at once, so that
  // the states never show half-read.
  async function loadTransitions(fresh) {
    const got = [];
    let after = !fresh && st.transitions.length ? st.transitions[st.transitions.length - 1].id : 0;
    for (;;) {
      const data = await api('/alarms?limit=' + TRANSITIONS_PAGE + '&after=' + after);
      const ts = data.transitions || [];
      got.push(...ts);
      if (ts.length < TRANSITIONS_PAGE) break;
      after = ts[ts.length - 1].id;
    }
    if (fresh) {
      const maxID = got.length ? got[got.length - 1].id : 0;
      const late = st.transitions.filter((t) => t.id > maxID); // came by the stream meanwhile
      st.transitions = [];
      st.tids = new Set();
      for (const s of st.series.values()) {
        s.state = 'quiet';
        s.since = null;
        s.last = null;
      }
      for (const t of late) got.push({ id: t.id, series: t.series, time: new Date(t.t).toISOString(), from: t.from, to: t.to, detail: t.detail, committed: new Date(t.committed).toISOString() });
    }
    for (const t of got) addTransition(t);
  }

  // addTransition records a transition and moves its series' state.
  function addTransition(j) {
    if (st.tids.has(j.id)) return false;
    st.tids.add(j.id);
    let detail = {};
    try {
      detail = typeof j.detail === 'string' ? JSON.parse(j.detail) : j.detail || {};
    } catch (e) {
      detail = {};
    }
    const t = { id: j.id, series: j.series, t: parseTime(j.time), from: j.from, to: j.to, detail, committed: parseTime(j.committed) };
    const ts = st.transitions;
    if (ts.length === 0 || ts[ts.length - 1].id < t.id) ts.push(t);
    else {
      ts.push(t);
      ts.sort((a, b) => a.id - b.id);
    }
    const s = st.series.get(t.series);
    if (s && (!s.last || s.last.id < t.id)) {
      s.state = t.to;
      s.since = t.t;
      s.last = t;
    }
    if (s) dirty(s.sensor);
    dirty('series');
    return true;
  }

  function applyUpdate(u) {
    st.lastUpdate = Date.now();
    st.lastCommit = u.commit;
    if (u.counters) st.counters = u.counters;
    let unknown = false;
    for (const j of u.rows || []) {
      const s = st.series.get(j.series);
      if (!s) {
        unknown = true;
        continue;
      }
      const r = toRow(j);
      noteLatest(s, r);
      mergeRow(s, r);
      dirty(s.sensor);
    }
    for (const j of u.transitions || []) {
      if (!st.series.has(j.series)) unknown = true;
      if (addTransition(j)) {
        if (j.to === 'alarm') detectSoon(true);
        const s = st.series.get(j.series);
        const c = s && st.sensors.get(s.sensor);
        if (c) {
          if (c.auto) chooseSeries(c);
          if (c.selected === j.series) loadForecast(c, true);
        }
      }
    }
    if (unknown) seriesListSoon();
    if ((u.transitions || []).length) deliveriesSoon(DELIVERIES_AFTER_UPDATE);
    if ((u.rows || []).length) {
      for (const c of st.sensors.values()) loadForecast(c, false);
      detectSoon();
    }
    statusSoon();
    dirty('status');
    dirty('series');
    render();
  }

  // ---- alerts: the outbox ----------------------------------------------

  // loadDeliveries reads the latest entries of the alert outbox; while
  // webhook deliveries are pending (retries come without a commit) it
  // reads them again every DELIVERIES_POLL.
  async function loadDeliveries() {
    const data = await api('/deliveries?limit=' + DELIVERIES_PAGE);
    st.deliveries = data.deliveries || [];
    st.deliveryCounts = data.counts || {};
    dirty('alerts');
    dirty('status');
    if (st.deliveries.some((d) => d.channel === 'webhook' && d.state === 'pending')) deliveriesSoon(DELIVERIES_POLL);
  }

  // deliveriesSoon reads the outbox again after wait (or sooner, if a read
  // is already due sooner).
  function deliveriesSoon(wait) {
    const due = Date.now() + wait;
    if (st.deliveriesTimer) {
      if (st.deliveriesDue <= due) return;
      clearTimeout(st.deliveriesTimer);
    }
    st.deliveriesDue = due;
    st.deliveriesTimer = setTimeout(() => {
      st.deliveriesTimer = 0;
      if (document.hidden) {
        deliveriesSoon(DELIVERIES_POLL);
        return;
      }
      loadDeliveries().then(render, showError);
    }, wait);
  }

  function deadLetters() {
    return st.deliveries.filter((d) => d.channel === 'webhook' && d.state === 'dead' && !d.retried_by);
  }

  function alertsStatus(text, error) {
    const p = $('alerts-status');
    p.textContent = text;
    p.dataset.kind = error ? 'error' : 'ok';
  }

  // retry enqueues a dead letter again (POST /api/v1/deliveries/ID/retry)
  // and reads the outbox; the keyboard's focus goes to the message that
  // says how it went, since the button is gone.
  async function retry(d) {
    try {
      const r = await api('/deliveries/' + d.id + '/retry', null, 'POST');
      alertsStatus('Delivery ' + d.id + ' to ' + d.target + ' enqueued again as delivery ' + r.delivery + '.', false);
      await loadDeliveries();
    } catch (e) {
      if (e instanceof AuthError) return;
      alertsStatus('The retry of delivery ' + d.id + ' failed: ' + e.message, true);
    }
    render();
    $('alerts-status').focus();
  }

  // openArtifact downloads a bundle or a draft with the token: a link
  // cannot carry the Authorization header, so with a token the page reads
  // the document itself and hands it to the browser as a file.
  function openArtifact(ev) {
    if (!st.token) return; // the link works as it is
    ev.preventDefault();
    const a = ev.currentTarget;
    fetch(a.href, { headers: headers(), cache: 'no-store', credentials: 'same-origin', referrerPolicy: 'no-referrer' }).then(async (r) => {
      if (r.status === 401) {
        askToken(true);
        return;
      }
      if (!r.ok) throw new APIError(r.status, a.dataset.file + ': ' + r.status);
      const url = URL.createObjectURL(await r.blob());
      const dl = el('a', { href: url, download: a.dataset.file, hidden: true });
      document.body.append(dl);
      dl.click();
      dl.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
    }).catch(showError);
  }

  function deliveryBadge(state) {
    return el('span', { class: 'badge', 'data-delivery': state }, (DELIVERY_SYMBOL[state] || '') + ' ' + (state === 'dead' ? 'dead letter' : state));
  }

  function changeCell(d) {
    if (!d.from) return td('\u2014');
    return el('td', { class: 'change', 'data-to': d.to }, badge(d.from), el('span', { class: 'arrow', 'aria-label': 'to' }, '\u2192'), badge(d.to));
  }

  function artifactLink(d, label, none) {
    if (!d) return td(none, 'muted');
    const when = d.time ? ' at ' + fmtTime(parseTime(d.time)) + ' UTC' : '';
    const a = el('a', { href: d.links.artifact, target: '_blank', rel: 'noopener noreferrer', title: d.target, 'data-channel': d.channel, 'data-file': d.target + '.json' },
      label, el('span', { class: 'visually-hidden' }, ' of ' + (d.series || 'the service') + when));
    a.addEventListener('click', openArtifact);
    return el('td', {}, a);
  }

  function webhookRow(d) {
    let action = td('');
    if (d.state === 'dead' && d.retried_by) {
      action = td('retried as ' + d.retried_by);
    } else if (d.state === 'dead' && d.links.retry) {
      const b = el('button', { type: 'button', 'data-retry': d.id, 'aria-label': 'Retry delivery ' + d.id + ' to ' + d.target }, 'Retry');
      b.addEventListener('click', () => {
        b.disabled = true;
        retry(d);
      });
      action = el('td', { class: 'action' }, b);
    }
    return el('tr', { class: d.state === 'dead' ? 'dead-letter' : null, 'data-delivery': d.id, 'data-state': d.state },
      td(String(d.id), 'num'), td(d.target), d.series ? keyCell(d.series) : td('\u2014'), changeCell(d),
      el('td', {}, deliveryBadge(d.state)), td(fmtInt(d.attempts), 'num'), td(d.last_error || '', 'errtext'),
      td(d.next_try ? fmtTime(parseTime(d.next_try)) : '\u2014', 'time'), action);
  }

  function renderAlerts() {
    const hooks = st.deliveries.filter((d) => d.channel === 'webhook');
    fillBody($('webhooks-table'), hooks.map(webhookRow), 'No webhook delivery: none configured ([alert] in the configuration), or no alarm yet.', 9);
    const docs = new Map(); // by transition, latest first
    for (const d of st.deliveries) {
      if (d.channel !== 'stix' && d.channel !== 'csaf') continue;
      const k = d.transition_id || 'd' + d.id;
      if (!docs.has(k)) docs.set(k, { first: d });
      if (!docs.get(k)[d.channel]) docs.get(k)[d.channel] = d;
    }
    fillBody($('documents-table'), [...docs.values()].map((g) => el('tr', { 'data-transition': g.first.transition_id || null },
      td(g.first.time ? fmtTime(parseTime(g.first.time)) : '\u2014', 'time'), g.first.series ? keyCell(g.first.series) : td('\u2014'), changeCell(g.first),
      artifactLink(g.stix, 'STIX bundle', g.first.series && g.first.series.indexOf('/') < 0 ? 'none: no pattern for every record' : 'none'),
      artifactLink(g.csaf, 'CSAF draft', 'none'))), 'No bundle or advisory yet: they are made when an alarm opens, changes or closes.', 5);
    const c = st.deliveryCounts;
    const n = (ch, state) => (c[ch] && c[ch][state]) || 0;
    const total = (ch) => n(ch, 'pending') + n(ch, 'sent') + n(ch, 'dead');
    $('alerts-summary').textContent = 'Webhook deliveries: ' + fmtInt(n('webhook', 'sent')) + ' sent, ' + fmtInt(n('webhook', 'pending')) + ' pending, ' +
      fmtInt(n('webhook', 'dead')) + ' dead letters (' + fmtInt(deadLetters().length) + ' not retried). ' + fmtInt(total('stix')) + ' STIX bundles and ' +
      fmtInt(total('csaf')) + ' CSAF drafts kept. A delivery is retried with backoff until it succeeds or fails for good (a dead letter: fix the receiver, then Retry). ' +
      'The latest ' + DELIVERIES_PAGE + ' entries of GET /api/v1/deliveries; times are wall clock but for the transitions\' (data time).';
  }

  // ---- detect's report ------------------------------------------------

  function hasRecords() {
    if (st.counters && st.counters.records > 0) return true;
    return st.inputs.some((i) => i.lines > 0 || i.records > 0);
  }

  async function loadDetect(force) {
    if (st.detectLoading) return;
    if (!hasRecords()) {
      $('detect-summary').textContent = 'Nothing read yet: detect\'s report (GET /api/v1/detect) comes with the first line or packet.';
      return;
    }
    if (!force && document.hidden) return;
    st.detectLoading = true;
    $('detect-refresh').disabled = true;
    try {
      const info = {};
      const t0 = performance.now();
      st.detect = await api('/detect', info);
      st.detectSize = info.size;
      st.detectAt = Date.now();
      renderDetect();
      st.detectTook = performance.now() - t0;
    } catch (e) {
      if (!(e instanceof APIError && e.status === 503)) showError(e);
    } finally {
      st.detectLoading = false;
      $('detect-refresh').disabled = false;
    }
  }

  function detectGap() {
    if (st.detectSize > DETECT_BIG) return DETECT_GAP_MAX;
    return Math.min(DETECT_GAP_MAX, Math.max(DETECT_GAP_MIN, 50 * st.detectTook));
  }

  function detectSoon(urgent) {
    if (!st.loaded) return;
    const wait = Math.max(0, st.detectAt + (urgent ? DETECT_GAP_URGENT : detectGap()) - Date.now());
    if (st.detectTimer) {
      if (!urgent) return;
      clearTimeout(st.detectTimer);
    }
    st.detectTimer = setTimeout(() => {
      st.detectTimer = 0;
      loadDetect(false);
    }, wait);
  }

  // prefix returns the network of an address: its first bits for IPv4,
  // the matching IPv6 prefix (/32, /48, /64) for IPv6; null for anything
  // else.
  function prefix(addr, bits) {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(addr);
    if (m) {
      const o = m.slice(1, 5).map(Number);
      if (o.some((x) => x > 255)) return null;
      const keep = bits / 8;
      return o.map((x, i) => (i < keep ? x : 0)).join('.') + '/' + bits;
    }
    if (addr.indexOf(':') < 0) return null;
    const groups = expand6(addr);
    if (!groups) return null;
    const keep = { 8: 2, 16: 3, 24: 4 }[bits];
    return groups.slice(0, keep).map((g) => g.replace(/^0+(?=.)/, '')).join(':') + '::/' + keep * 16;
  }

  function expand6(a) {
    a = a.replace(/%.*$/, '').toLowerCase();
    const halves = a.split('::');
    if (halves.length > 2) return null;
    const part = (s) => (s === '' ? [] : s.split(':'));
    const head = part(halves[0]);
    const tail = halves.length === 2 ? part(halves[1]) : [];
    const fill = 8 - head.length - tail.length;
    if (fill < 0 || (halves.length === 1 && fill !== 0)) return null;
    const g = head.concat(new Array(halves.length === 2 ? fill : 0).fill('0'), tail);
    if (g.length !== 8 || g.some((x) => !/^[0-9a-f]{1,4}$/.test(x))) return null;
    return g;
  }

  function renderDetect() {
    const d = st.detect;
    if (!d) return;
    $('detect-when').textContent = 'as of ' + fmtClock(st.detectAt) + ' (wall clock, UTC)';
    const span = d.start && d.end ? ', from ' + fmtTime(parseTime(d.start)) + ' to ' + fmtTime(parseTime(d.end)) + ' UTC' : '';
    $('detect-summary').textContent = fmtInt(d.lines) + ' lines read, ' + fmtInt(d.matched) + ' matched a signature' + span +
      '. detect\'s report of everything read (GET /api/v1/detect), refreshed at most every ' +
      Math.round(detectGap() / 1000) + ' s while records arrive.';

    const fams = [];
    let unseen = 0;
    for (const name of d.family_order || []) {
      const f = (d.families || {})[name];
      if (!f) continue;
      if (!f.lines) {
        unseen++;
        continue;
      }
      fams.push(el('tr', {},
        el('td', {}, el('strong', {}, f.title || name), ' ', el('span', { class: 'muted' }, name)),
        td(f.kind), td(fmtInt(f.lines), 'num'), td(fmtInt(f.sources), 'num'), td(fmtInt(f.events), 'num'),
        td(fmtTime(parseTime(f.first_seen)), 'time'), td(fmtTime(parseTime(f.last_seen)), 'time')));
    }
    fillBody($('families-table'), fams, 'No signature family matched yet (' + unseen + ' enabled).', 7);
    if (fams.length && unseen) {
      fams[0].parentNode.append(el('tr', {}, el('td', { class: 'empty', colspan: 7 }, unseen + ' other families enabled, none seen.')));
    }

    const sources = d.sources || [];
    fillBody($('sources-table'), sources.slice(0, TOP_SOURCES).map((s) => el('tr', {},
      td(s.source, 'addr'), td(fmtInt(s.lines), 'num'), td((s.families || []).join(', ')),
      td(fmtTime(parseTime(s.first_seen)), 'time'), td(fmtTime(parseTime(s.last_seen)), 'time'))), 'No source of a matched line yet.', 5);
    renderNetworks();

    const ports = (d.attempts && d.attempts.ports) || [];
    $('ports-block').hidden = ports.length === 0;
    const top = ports.slice().sort((a, b) => b.sources - a.sources || b.attempts - a.attempts).slice(0, 10);
    fillBody($('ports-table'), top.map((p) => el('tr', {},
      td(p.transport + '/' + p.port), td(fmtInt(p.attempts), 'num'), td(fmtInt(p.sources), 'num'), td(fmtTime(parseTime(p.last_seen)), 'time'))), 'No attempts.', 4);
  }

  function renderNetworks() {
    const d = st.detect;
    if (!d) return;
    const bits = Number($('prefix').value);
    const nets = new Map();
    let total = 0;
    for (const s of d.sources || []) {
      const p = prefix(s.source, bits) || 'other (not an IP address)';
      let n = nets.get(p);
      if (!n) {
        n = { net: p, sources: 0, lines: 0 };
        nets.set(p, n);
      }
      n.sources++;
      n.lines += s.lines;
      total++;
    }
    const top = [...nets.values()].sort((a, b) => b.sources - a.sources || b.lines - a.lines || (a.net < b.net ? -1 : 1)).slice(0, TOP_NETWORKS);
    fillBody($('networks-table'), top.map((n) => el('tr', {},
      td(n.net, 'addr'), td(fmtInt(n.sources), 'num'), td(fmtInt(n.lines), 'num'),
      td(total ? (100 * n.sources / total).toFixed(1) + '%' : '\u2014', 'num'))), 'No source of a matched line yet.', 4);
  }

  // ---- sensor cards ---------------------------------------------------

  let cardSeq = 0;

  function sensorCard(name) {
    let c = st.sensors.get(name);
    if (c) return c;
    const id = 'sensor-' + ++cardSeq;
    c = { name, id, selected: '', auto: true, log: false, show: { probes: true, sources: true, new_sources: true }, forecast: null, forecastKey: '', forecastAt: 0, forecastTimer: 0, forecastLoading: false, forecastError: '' };
    const select = el('select', { id: id + '-series' });
    select.addEventListener('change', () => {
      c.auto = false;
      selectSeries(c, select.value);
    });
    const log = el('input', { type: 'checkbox', id: id + '-log' });
    log.addEventListener('change', () => {
      c.log = log.checked;
      dirty(name);
      render();
    });
    const metricBoxes = METRICS.map((m) => {
      const box = el('input', { type: 'checkbox', id: id + '-' + m.key, checked: true });
      box.addEventListener('change', () => {
        c.show[m.key] = box.checked;
        dirty(name);
        render();
      });
      const sw = svg('svg', { class: 'swatch', viewBox: '0 0 26 10', width: 26, height: 10, 'aria-hidden': 'true' });
      sw.append(svg('line', { x1: 1, y1: 5, x2: 25, y2: 5, class: m.cls }));
      return el('label', { for: id + '-' + m.key }, box, sw, m.label);
    });
    c.badge = el('span', {});
    c.meta = el('span', { class: 'meta' });
    c.select = select;
    c.chart = el('div', { class: 'chart', id: id + '-chart' });
    c.fchart = el('div', { class: 'chart', id: id + '-forecast' });
    c.fnote = el('p', { class: 'chart-note' });
    c.fest = el('dl', { class: 'est' });
    c.table = el('table', {},
      el('caption', { class: 'visually-hidden' }, 'Latest intervals of ' + name),
      el('thead', {}, el('tr', {}, ...['Interval (UTC)', 'Probes', 'Sources', 'New sources', 'Sources so far'].map((h, i) => el('th', { scope: 'col', class: i ? 'num' : null }, h)))),
      el('tbody'));
    c.root = el('article', { class: 'sensor', id, 'aria-labelledby': id + '-h', 'data-sensor': name },
      el('div', { class: 'sensor-head' }, el('h3', { id: id + '-h' }, name), c.badge, c.meta),
      el('div', { class: 'controls' },
        el('label', { for: id + '-series' }, 'Series'), select,
        el('label', { for: id + '-log' }, log, 'Log scale'),
        el('span', { class: 'visually-hidden' }, 'Lines shown:'), ...metricBoxes),
      el('div', { class: 'charts' },
        el('div', {}, el('p', { class: 'chart-title', id: id + '-chart-h' }, 'Per interval'), c.chart,
          el('ul', { class: 'legend', 'aria-label': 'Shading' },
            el('li', {}, el('span', { class: 'box region-watching' }), 'watching'),
            el('li', {}, el('span', { class: 'box region-alarm' }), 'alarm'),
            el('li', {}, el('span', { class: 'box region-subsiding' }), 'subsiding')),
          el('details', {}, el('summary', {}, 'Latest intervals as a table'), el('div', { class: 'table-wrap' }, c.table))),
        el('div', {}, el('p', { class: 'chart-title' }, 'Forecast of infected hosts (log scale)'), c.fchart,
          el('ul', { class: 'legend', 'aria-label': 'Forecast legend' },
            el('li', {}, lineSwatch('observed'), 'sources seen so far'),
            el('li', {}, lineSwatch('median'), 'forecast median'),
            el('li', {}, el('span', { class: 'box band' }), 'band'),
            el('li', {}, lineSwatch('vline'), 'alarm')),
          c.fnote, c.fest)));
    st.sensors.set(name, c);
    const box = $('sensors');
    const empty = box.querySelector('.empty');
    if (empty) empty.remove();
    const cards = [...st.sensors.keys()].sort();
    const next = cards[cards.indexOf(name) + 1];
    const before = next && st.sensors.get(next).root.isConnected ? st.sensors.get(next).root : null;
    box.insertBefore(c.root, before);
    if (window.ResizeObserver) {
      let w = 0;
      new ResizeObserver((entries) => {
        const nw = Math.round(entries[0].contentRect.width);
        if (nw !== w) {
          w = nw;
          dirty(name);
          render();
        }
      }).observe(c.chart);
    }
    return c;
  }

  function lineSwatch(cls) {
    const sw = svg('svg', { class: 'swatch', viewBox: '0 0 26 10', width: 26, height: 10, 'aria-hidden': 'true' });
    sw.append(svg('line', { x1: 1, y1: 5, x2: 25, y2: 5, class: cls }));
    return sw;
  }

  function sensorSeries(c) {
    const order = { all: 0, family: 1, port: 2 };
    return [...st.series.values()].filter((s) => s.sensor === c.name)
      .sort((a, b) => (order[a.kind] ?? 3) - (order[b.kind] ?? 3) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  function seriesLabel(s) {
    if (s.kind === 'all') return 'all records';
    if (s.kind === 'family') return 'family ' + s.name;
    if (s.kind === 'port') return 'port ' + s.name;
    return s.key;
  }

  // updateCardSeries refreshes a card's list of series (keeping the
  // choice) and, while the user has not chosen, follows the worst state.
  function updateCardSeries(c) {
    const list = sensorSeries(c);
    const keys = list.map((s) => s.key).join('\n');
    if (c.keys !== keys) {
      c.keys = keys;
      c.select.replaceChildren(...list.map((s) => el('option', { value: s.key }, seriesLabel(s) + (s.origin === 'remote' ? ' (pushed)' : ''))));
    }
    if (c.auto || !st.series.has(c.selected)) chooseSeries(c);
    else c.select.value = c.selected;
    const s = st.series.get(c.selected);
    c.meta.textContent = s ? fmtInt(s.size) + (s.size === 1 ? ' address' : ' addresses') + ', intervals of ' + fmtDuration(s.interval) : '';
  }

  function chooseSeries(c) {
    const list = sensorSeries(c);
    if (!list.length) return;
    let best = list[0];
    for (const s of list) if (STATE_RANK[s.state] > STATE_RANK[best.state]) best = s;
    if (best.key !== c.selected) selectSeries(c, best.key);
    c.select.value = c.selected;
  }

  function selectSeries(c, key) {
    c.selected = key;
    c.select.value = key;
    c.forecast = null;
    c.forecastError = '';
    const s = st.series.get(key);
    if (s && !s.loaded) loadRows(s).then(render, showError);
    loadForecast(c, true);
    dirty(c.name);
    render();
  }

  // ---- forecast -------------------------------------------------------

  function forecastQuery(s) {
    let q = '?sensor=' + encodeURIComponent(s.sensor);
    if (s.kind === 'family') q += '&family=' + encodeURIComponent(s.name);
    else if (s.kind === 'port') q += '&port=' + encodeURIComponent(s.name);
    return q;
  }

  // canForecast: the API analyses a series' rows up to the last with
  // probes (a pushed series: its rows as pushed); forecast needs at least
  // 3 rows.
  function canForecast(s) {
    if (!s || !s.loaded) return false;
    for (let i = s.rows.length - 1; i >= 2; i--) if (s.rows[i].probes > 0) return true;
    return false;
  }

  function loadForecast(c, force) {
    const s = st.series.get(c.selected);
    if (!s) return;
    if (!force && (c.forecastTimer || document.hidden)) return;
    const wait = force ? 0 : Math.max(0, c.forecastAt + FORECAST_GAP - Date.now());
    clearTimeout(c.forecastTimer);
    c.forecastTimer = setTimeout(async () => {
      c.forecastTimer = 0;
      if (s.loading) await s.loading.catch(() => {});
      if (c.selected !== s.key || c.forecastLoading) return;
      if (!canForecast(s)) {
        c.forecast = null;
        c.forecastError = 'No forecast yet: the series has too few intervals with records.';
        dirty(c.name);
        render();
        return;
      }
      c.forecastLoading = true;
      c.forecastAt = Date.now();
      try {
        c.forecast = await api('/forecast' + forecastQuery(s));
        c.forecastKey = s.key;
        c.forecastError = '';
      } catch (e) {
        if (e instanceof AuthError) return;
        c.forecast = null;
        c.forecastError = 'No forecast: ' + e.message;
      } finally {
        c.forecastLoading = false;
      }
      dirty(c.name);
      render();
    }, wait);
  }

  // ---- rendering ------------------------------------------------------

  function dirty(what) {
    st.dirty.add(what);
  }

  function render() {
    if (st.frame) return;
    st.frame = requestAnimationFrame(() => {
      st.frame = 0;
      const d = st.dirty;
      st.dirty = new Set();
      renderBanner();
      renderHeader();
      if (d.has('status')) {
        renderTiles();
        renderInputs();
      }
      if (d.has('alerts')) renderAlerts();
      if (d.has('series')) {
        renderSeriesTable();
        renderHistory();
        for (const c of st.sensors.values()) updateCardSeries(c);
      }
      for (const c of st.sensors.values()) {
        if (d.has(c.name) || d.has('series')) renderCard(c);
      }
    });
  }

  function renderHeader() {
    const parts = [];
    if (st.lastUpdate) parts.push('last update ' + fmtClock(st.lastUpdate) + ' UTC (commit ' + fmtInt(st.lastCommit) + ')');
    $('updated').textContent = parts.join(' ');
  }

  function renderBanner() {
    const b = $('banner');
    if (!st.loaded) return;
    const all = [...st.series.values()];
    const by = (state) => all.filter((s) => s.state === state).sort((a, b) => (a.key < b.key ? -1 : 1));
    const alarm = by('alarm');
    const subsiding = by('subsiding');
    const watching = by('watching');
    let state = 'quiet';
    let head;
    let items = [];
    // Series that changed together (the same time and growth) make one
    // item.
    const items_ = (list) => {
      const groups = new Map();
      for (const s of list) {
        const step = s.last && s.last.detail && s.last.detail.step;
        const k = ' since ' + fmtTime(s.since) + ' UTC' + (step && step.k_per_hour != null ? ', growth K = ' + fmtNum(step.k_per_hour) + ' per hour' : '');
        if (!groups.has(k)) groups.set(k, []);
        groups.get(k).push(s.key);
      }
      return [...groups].map(([k, keys]) => keys.join(', ') + k);
    };
    if (alarm.length) {
      state = 'alarm';
      head = 'ALARM: ' + alarm.length + (alarm.length === 1 ? ' series is' : ' series are') + ' in alarm: a worm is spreading.';
      items = items_(alarm);
    } else if (subsiding.length) {
      state = 'subsiding';
      head = 'Subsiding: ' + subsiding.length + ' series had an alarm and no longer grow.';
      items = items_(subsiding);
    } else if (watching.length) {
      state = 'watching';
      head = 'Watching: ' + watching.length + ' series show a growing trend, no alarm yet.';
      items = items_(watching);
    } else if (all.length) {
      head = 'All quiet: no alarm on ' + all.length + ' series.';
    } else {
      head = 'No series yet: the service waits for its first records.';
    }
    const text = head + '|' + items.join('|');
    if (text === st.bannerText) return;
    st.bannerText = text;
    b.dataset.state = state;
    const kids = [el('span', { class: 'sym', 'aria-hidden': 'true' }, STATE_SYMBOL[state]), head];
    if (items.length) kids.push(el('ul', {}, ...items.slice(0, 6).map((i) => el('li', {}, i)), items.length > 6 ? el('li', {}, 'and ' + (items.length - 6) + ' more') : null));
    b.replaceChildren(...kids);
  }

  function renderTiles() {
    const c = st.counters || {};
    const inAlarm = [...st.series.values()].filter((s) => s.state === 'alarm').length;
    const tiles = [
      ['Records counted', fmtInt(c.records)],
      ['Distinct sources', fmtInt(c.sources)],
      ['Series', fmtInt(c.series)],
      ['In alarm', fmtInt(inAlarm), 'alert-tile', inAlarm > 0],
      ['Inputs', fmtInt(c.inputs)],
      ['Commits', fmtInt(c.commits)],
      ['Late records', fmtInt(c.late)],
      ['Refused records', fmtInt(c.refused)],
      ['Dead letters', fmtInt(deadLetters().length), 'alert-tile', deadLetters().length > 0],
    ];
    $('tiles').replaceChildren(...tiles.map(([k, v, cls, on]) => el('div', { class: cls, 'data-on': on ? 'true' : null }, el('dt', {}, k), el('dd', {}, v))));
  }

  function renderInputs() {
    $('started').textContent = st.started ? 'Service started ' + fmtTime(st.started) + ' UTC (wall clock).' : '';
    fillBody($('inputs-table'), st.inputs.map((i) => el('tr', {},
      td(i.name, 'path'), td(i.sensor), td(i.reading ? 'yes' : 'no'), td(fmtInt(i.records), 'num'), td(fmtInt(i.lines), 'num'),
      td(i.position || 'from the start', 'path'), td(i.error || ''))), 'No input.', 7);
  }

  function renderSeriesTable() {
    const list = [...st.series.values()].sort((a, b) => STATE_RANK[b.state] - STATE_RANK[a.state] || (a.key < b.key ? -1 : 1));
    fillBody($('series-table'), list.map((s) => {
      const r = s.latest;
      return el('tr', { 'data-series': s.key },
        keyCell(s.key), el('td', {}, badge(s.state)), td(s.since ? fmtTime(s.since) : '\u2014', 'time'),
        td(r ? fmtTime(r.t) : '\u2014', 'time'), td(r ? fmtInt(r.probes) : '\u2014', 'num'), td(r ? fmtInt(r.sources) : '\u2014', 'num'),
        td(r ? fmtInt(r.new_sources) : '\u2014', 'num'), td(r ? fmtInt(r.cumulative_sources) : '\u2014', 'num'));
    }), 'No series yet.', 8);
  }

  function renderHistory() {
    const ts = st.transitions;
    const shown = ts.slice(Math.max(0, ts.length - HISTORY_SHOWN)).reverse();
    $('history-caption').textContent = 'The transitions of the series\' alarm state machines, latest first (GET /api/v1/alarms)' +
      (ts.length > shown.length ? ': the latest ' + shown.length + ' of ' + fmtInt(ts.length) + '.' : '.');
    fillBody($('history-table'), shown.map((t) => {
      const step = (t.detail && t.detail.step) || {};
      return el('tr', { 'data-id': t.id },
        td(fmtTime(t.t), 'time'), keyCell(t.series),
        el('td', { class: 'change', 'data-to': t.to }, badge(t.from), el('span', { class: 'arrow', 'aria-label': 'to' }, '\u2192'), badge(t.to)),
        td(fmtInt(step.seen), 'num'), td(fmtNum(step.infected), 'num'), td(fmtNum(step.k_per_hour), 'num'), td(fmtTime(t.committed), 'time'));
    }), 'No transition yet: every series is quiet.', 7);
  }

  function renderCard(c) {
    const s = st.series.get(c.selected);
    c.badge.replaceChildren(badge(s ? s.state : 'quiet'));
    if (!s) return;
    drawSeries(c, s);
    drawForecast(c, s);
    const last = s.rows.slice(-12).reverse();
    fillBody(c.table, last.map((r) => el('tr', {},
      td(fmtTime(r.t), 'time'), td(fmtInt(r.probes), 'num'), td(fmtInt(r.sources), 'num'), td(fmtInt(r.new_sources), 'num'), td(fmtInt(r.cumulative_sources), 'num'))),
    s.loaded ? 'No closed interval yet.' : 'Loading\u2026', 5);
  }

  // ---- charts ---------------------------------------------------------

  const TIME_STEPS = [1e3, 2e3, 5e3, 10e3, 15e3, 30e3, 60e3, 120e3, 300e3, 600e3, 900e3, 1800e3, 3600e3, 7200e3, 10800e3, 21600e3, 43200e3, 86400e3, 2 * 86400e3, 7 * 86400e3, 14 * 86400e3, 30 * 86400e3, 91 * 86400e3, 365 * 86400e3];

  function timeTicks(t0, t1, px) {
    const want = Math.max(2, Math.floor(px / 95));
    let step = TIME_STEPS[TIME_STEPS.length - 1];
    for (const s of TIME_STEPS) {
      if ((t1 - t0) / s <= want) {
        step = s;
        break;
      }
    }
    const out = [];
    for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) out.push(t);
    return { ticks: out, step };
  }

  function timeLabel(t, step, first) {
    const d = new Date(t);
    const day = MONTHS[d.getUTCMonth()] + ' ' + d.getUTCDate();
    if (step >= 86400e3) return day;
    let hm = pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes());
    if (step < 60e3) hm += ':' + pad(d.getUTCSeconds());
    return first || (d.getUTCHours() === 0 && d.getUTCMinutes() === 0) ? day + ' ' + hm : hm;
  }

  function niceStep(max, n) {
    const raw = max / n;
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    for (const m of [1, 2, 2.5, 5, 10]) if (raw <= m * mag) return m * mag;
    return 10 * mag;
  }

  function yScale(max, log, top, bottom, minPos) {
    if (log) {
      const lo = minPos && minPos < 1 ? Math.pow(10, Math.floor(Math.log10(minPos))) : 1;
      const hi = Math.max(lo * 10, Math.pow(10, Math.ceil(Math.log10(Math.max(max, 1)))));
      const a = Math.log10(lo);
      const b = Math.log10(hi);
      const f = (v) => (v <= lo ? bottom : bottom - ((Math.log10(v) - a) / (b - a)) * (bottom - top));
      const ticks = [];
      for (let e = Math.round(a); e <= Math.round(b); e++) ticks.push(Math.pow(10, e));
      return { f, ticks, label: (v) => (v >= 1000 ? intFmt.format(v) : String(v)) };
    }
    const step = niceStep(Math.max(max, 1), 4);
    const hi = Math.max(step, Math.ceil(Math.max(max, 1) / step) * step);
    const f = (v) => bottom - (Math.max(0, v) / hi) * (bottom - top);
    const ticks = [];
    for (let v = 0; v <= hi + step / 2; v += step) ticks.push(v);
    return { f, ticks, label: (v) => intFmt.format(v) };
  }

  // frame draws the axes and grid of a chart and returns its scales.
  function frame(root, w, h, t0, t1, ymax, log, minPos) {
    const m = { l: 58, r: 14, t: 12, b: 30 };
    const x = (t) => m.l + ((t - t0) / (t1 - t0 || 1)) * (w - m.l - m.r);
    const y = yScale(ymax, log, m.t, h - m.b, minPos);
    const grid = svg('g', { class: 'grid' });
    const axis = svg('g', { class: 'axis' });
    for (const v of y.ticks) {
      const py = y.f(v);
      grid.append(svg('line', { x1: m.l, x2: w - m.r, y1: py, y2: py }));
      axis.append(svg('text', { x: m.l - 6, y: py + 4, 'text-anchor': 'end', text: y.label(v) }));
    }
    const tt = timeTicks(t0, t1, w - m.l - m.r);
    tt.ticks.forEach((t, i) => {
      const px = x(t);
      grid.append(svg('line', { x1: px, x2: px, y1: m.t, y2: h - m.b }));
      axis.append(svg('line', { x1: px, x2: px, y1: h - m.b, y2: h - m.b + 4 }));
      axis.append(svg('text', { x: px, y: h - m.b + 16, 'text-anchor': 'middle', text: timeLabel(t, tt.step, i === 0) }));
    });
    axis.append(svg('path', { d: 'M' + m.l + ' ' + m.t + 'V' + (h - m.b) + 'H' + (w - m.r) }));
    root.append(grid, axis);
    return { x, y: y.f, m };
  }

  // thin keeps at most one point (the largest) per pixel column.
  function thin(points, x) {
    if (points.length < 2000) return points;
    const out = [];
    let col = -1;
    for (const p of points) {
      const c = Math.round(x(p[0]));
      if (c !== col) {
        out.push(p);
        col = c;
      } else if (p[1] > out[out.length - 1][1]) {
        out[out.length - 1] = p;
      }
    }
    return out;
  }

  function pathOf(points, x, y) {
    let d = '';
    for (let i = 0; i < points.length; i++) d += (i ? 'L' : 'M') + x(points[i][0]).toFixed(1) + ' ' + y(points[i][1]).toFixed(1);
    return d;
  }

  function newSVG(box, w, h, label) {
    const id = box.id + '-svg';
    const root = svg('svg', { viewBox: '0 0 ' + w + ' ' + h, width: w, height: h, role: 'img', 'aria-labelledby': id + '-t ' + id + '-d', id });
    root.append(svg('title', { id: id + '-t', text: label }), svg('desc', { id: id + '-d' }));
    return root;
  }

  function chartWidth(box) {
    return Math.max(280, Math.round(box.clientWidth || box.getBoundingClientRect().width || 640));
  }

  // stateRegions returns the periods of a series' states other than quiet,
  // from its transitions.
  function stateRegions(key, tEnd) {
    const out = [];
    let cur = null;
    for (const t of st.transitions) {
      if (t.series !== key) continue;
      if (cur) cur.to = t.t;
      cur = t.to === 'quiet' ? null : { state: t.to, from: t.t, to: tEnd };
      if (cur) out.push(cur);
    }
    return out;
  }

  function drawSeries(c, s) {
    const box = c.chart;
    const w = chartWidth(box);
    const h = Math.round(Math.min(300, Math.max(200, w * 0.38)));
    const root = newSVG(box, w, h, s.key + ': ' + METRICS.filter((m) => c.show[m.key]).map((m) => m.label.toLowerCase()).join(', ') + ' per interval of ' + fmtDuration(s.interval) + (c.log ? ', log scale' : ''));
    const rows = s.rows;
    root.dataset.points = rows.length;
    root.dataset.series = s.key;
    if (!rows.length) {
      root.dataset.last = '';
      root.append(svg('text', { x: w / 2, y: h / 2, 'text-anchor': 'middle', class: 'nodata', text: s.loaded ? 'No closed interval yet.' : 'Loading\u2026' }));
      root.querySelector('desc').textContent = 'No closed interval yet.';
      box.replaceChildren(root);
      return;
    }
    const t0 = rows[0].t;
    const t1 = rows[rows.length - 1].t + s.interval;
    let ymax = 1;
    for (const r of rows) for (const m of METRICS) if (c.show[m.key] && r[m.key] > ymax) ymax = r[m.key];
    const f = frame(root, w, h, t0, t1, ymax, c.log);
    const top = f.m.t;
    const bottom = h - f.m.b;
    const regions = svg('g', {});
    for (const reg of stateRegions(s.key, t1)) {
      const x0 = f.x(Math.max(t0, reg.from));
      const x1 = f.x(Math.min(t1, reg.to));
      if (x1 <= x0) continue;
      regions.append(svg('rect', { x: x0, y: top, width: x1 - x0, height: bottom - top, class: 'region-' + reg.state }));
      if (x1 - x0 > 50) regions.append(svg('text', { x: x0 + 4, y: top + 12, class: 'region-label', text: reg.state }));
    }
    root.insertBefore(regions, root.querySelector('.axis'));
    const half = s.interval / 2;
    for (const m of METRICS) {
      if (!c.show[m.key]) continue;
      const pts = thin(rows.map((r) => [r.t + half, r[m.key]]), f.x);
      root.append(svg('path', { class: 'line ' + m.cls, d: pathOf(pts, f.x, f.y), 'data-metric': m.key }));
    }
    const last = rows[rows.length - 1];
    const lm = METRICS.find((m) => c.show[m.key]);
    if (lm) root.append(svg('circle', { class: 'last', cx: f.x(last.t + half), cy: f.y(last[lm.key]), r: 4 }));
    root.dataset.last = new Date(last.t).toISOString();
    root.querySelector('desc').textContent = rows.length + ' intervals from ' + fmtTime(t0) + ' UTC; the latest, ' + fmtTime(last.t) + ' UTC: ' +
      fmtInt(last.probes) + ' probes, ' + fmtInt(last.sources) + ' sources, ' + fmtInt(last.new_sources) + ' new sources.';
    box.replaceChildren(root);
  }

  function drawForecast(c, s) {
    const box = c.fchart;
    const w = chartWidth(box);
    const h = Math.round(Math.min(300, Math.max(200, w * 0.55)));
    const root = newSVG(box, w, h, 'Forecast of infected hosts for ' + s.key + ', log scale');
    const a = c.forecast && c.forecastKey === s.key ? c.forecast : null;
    c.fest.replaceChildren();
    const obs = s.rows.filter((r) => r.cumulative_sources > 0).map((r) => [r.t + s.interval, r.cumulative_sources]);
    if (!a) {
      root.append(svg('text', { x: w / 2, y: h / 2, 'text-anchor': 'middle', class: 'nodata', text: c.forecastError ? 'No forecast' : 'Loading\u2026' }));
      root.querySelector('desc').textContent = c.forecastError || 'Loading the forecast.';
      c.fnote.textContent = c.forecastError;
      box.replaceChildren(root);
      return;
    }
    const pts = (a.forecast || []).map((p) => ({ t: parseTime(p.time), v: p.infected.value, lo: p.infected.low, hi: p.infected.high }));
    const alarm = a.alarm ? { t: parseTime(a.alarm.time), onset: parseTime(a.alarm.onset) } : null;
    const est = a.estimates || {};
    const at = parseTime(est.at);
    const inf = est.infected || {};
    let t0 = obs.length ? obs[0][0] - s.interval : parseTime(a.series.start);
    if (alarm && alarm.onset) t0 = Math.min(t0, alarm.onset);
    let t1 = Math.max(obs.length ? obs[obs.length - 1][0] : t0 + s.interval, at || 0);
    if (pts.length) t1 = Math.max(t1, pts[pts.length - 1].t);
    let ymax = 10;
    for (const p of obs) ymax = Math.max(ymax, p[1]);
    for (const p of pts) ymax = Math.max(ymax, isFinite(p.hi) && p.hi !== null ? p.hi : p.v || 0);
    if (isFinite(inf.high) && inf.high !== null) ymax = Math.max(ymax, inf.high);
    const f = frame(root, w, h, t0, t1, ymax, true);
    const bottom = h - f.m.b;
    if (pts.length) {
      const band = pts.filter((p) => p.lo !== null && p.hi !== null && isFinite(p.lo) && isFinite(p.hi));
      if (band.length > 1) {
        const d = pathOf(band.map((p) => [p.t, p.hi]), f.x, f.y) + 'L' + band.slice().reverse().map((p) => f.x(p.t).toFixed(1) + ' ' + f.y(p.lo).toFixed(1)).join('L') + 'Z';
        root.append(svg('path', { class: 'band', d }));
      }
      root.append(svg('path', { class: 'median', d: pathOf(pts.filter((p) => p.v !== null).map((p) => [p.t, p.v]), f.x, f.y) }));
    }
    if (obs.length) root.append(svg('path', { class: 'observed', d: pathOf(thin(obs, f.x), f.x, f.y) }));
    if (at && inf.value !== null && inf.value !== undefined) {
      const px = f.x(at);
      if (inf.low !== null && inf.high !== null && isFinite(inf.low) && isFinite(inf.high)) root.append(svg('line', { class: 'errbar', x1: px, x2: px, y1: f.y(inf.low), y2: f.y(inf.high) }));
      root.append(svg('circle', { class: 'estimate', cx: px, cy: f.y(inf.value), r: 4.5 }));
    }
    if (alarm) {
      if (alarm.onset) {
        const ox = f.x(alarm.onset);
        root.append(svg('line', { class: 'vline-onset', x1: ox, x2: ox, y1: f.m.t, y2: bottom }));
      }
      const ax = f.x(alarm.t);
      root.append(svg('line', { class: 'vline', x1: ax, x2: ax, y1: f.m.t, y2: bottom }));
      const right = ax > w - 110;
      root.append(svg('text', { class: 'vlabel', x: right ? ax - 4 : ax + 4, y: f.m.t + 11, 'text-anchor': right ? 'end' : 'start', text: 'alarm ' + timeLabel(alarm.t, 60e3, false) }));
    }
    root.dataset.forecast = pts.length;
    root.querySelector('desc').textContent = alarm
      ? 'Alarm at ' + fmtTime(alarm.t) + ' UTC; ' + pts.length + ' forecast points up to ' + (pts.length ? fmtTime(pts[pts.length - 1].t) : '') + ' UTC.'
      : 'No alarm on this series: no forecast. The line is the sources seen so far.';
    box.replaceChildren(root);
    c.fnote.textContent = alarm
      ? 'The band holds the estimates\' uncertainty, not the model\'s error (docs/forecast.md). The dot: infected hosts now, as the filter estimates them.'
      : 'No forecast without an alarm: the estimates describe whatever the sensor saw, not a worm.';
    const rows = [
      ['Alarm', alarm ? fmtTime(alarm.t) + ' UTC (growth from ' + fmtTime(alarm.onset) + ')' : 'none'],
      ['Growth rate K', fmtRange(est.k_per_hour) + ' per hour'],
      ['Vulnerable hosts N', fmtRange(est.n)],
      ['Infected now', fmtRange(est.infected) + (at ? ' at ' + fmtTime(at) : '')],
    ];
    if (pts.length) {
      const p = pts[pts.length - 1];
      rows.push(['At ' + fmtTime(p.t), fmtNum(p.v) + ' infected (' + fmtNum(p.lo) + ' to ' + fmtNum(p.hi) + ')']);
    }
    for (const [k, v] of rows) c.fest.append(el('dt', {}, k), el('dd', {}, v));
  }

  // ---- start ----------------------------------------------------------

  function start() {
    $('auth-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const tok = $('auth-token').value.trim();
      if (tok) useToken(tok);
    });
    $('token-change').addEventListener('click', () => askToken(true));
    $('token-change').hidden = !st.token;
    $('detect-refresh').addEventListener('click', () => loadDetect(true));
    $('prefix').addEventListener('change', renderNetworks);
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden && st.loaded) {
        detectSoon();
        for (const c of st.sensors.values()) loadForecast(c, false);
      }
    });
    dirty('status');
    render();
    connect();
  }

  start();
})();
