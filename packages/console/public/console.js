// The console page: polls the console's own API (no other origin) and draws the topology, alerts,
// charts (uPlot) and log search. Plain ES module, no build step.
const $ = (sel) => document.querySelector(sel);
const el = (tag, attrs = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
};
const getJson = async (url) => {
  const r = await fetch(url, { cache: 'no-store' });
  const body = r.status === 204 ? null : await r.json();
  if (!r.ok) throw new Error(Object.entries(body?.errors ?? {}).map(([k, v]) => `${k}: ${v.join(', ')}`).join('; ') || `HTTP ${r.status}`);
  return body;
};
const fmtTime = (ms) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

// ---- status and topology ----
async function refreshTopology() {
  try {
    const [status, svg] = await Promise.all([getJson('/api/status').catch(() => null), fetch('/api/topology.svg', { cache: 'no-store' }).then((r) => r.text())]);
    $('#topology').innerHTML = svg;
    if (status) {
      $('#region-name').textContent = `— region "${status.name}"`;
      const badge = $('#region-health');
      badge.textContent = status.healthy ? 'healthy' : `NOT healthy (${status.processes.filter((p) => p.health !== 'healthy').map((p) => p.name).join(', ')})`;
      badge.className = `badge ${status.healthy ? 'healthy' : 'unhealthy'}`;
      const links = $('#links');
      if (!links.childElementCount) for (const [k, url] of [['site', status.endpoints.edge], ['Prometheus', status.endpoints.prometheus], ['HAProxy', status.endpoints.lbStats]]) links.append(el('a', { href: url }, k));
    }
  } catch (e) {
    $('#topology').textContent = `topology unavailable: ${e.message}`;
  }
}
$('#topology').addEventListener('click', (ev) => {
  const box = ev.target.closest('g.node');
  if (!box) return;
  $('#log-form').instance.value = box.dataset.process;
  searchLogs();
});

// ---- alerts ----
async function refreshAlerts() {
  const list = await getJson('/api/alerts').catch(() => null);
  if (!list) return;
  const ul = $('#alerts');
  ul.replaceChildren(...(list.length === 0 ? [el('li', { class: 'empty' }, 'no alert received yet')] : list.map((a) =>
    el('li', { class: a.status, 'data-alert': a.name, 'data-status': a.status },
      el('strong', {}, a.name), ` ${a.status} · ${a.severity}`, el('br'), a.summary,
      el('div', { class: 'timeline' }, a.timeline.map((t) => `${t.status} ${fmtTime(Date.parse(t.at))}`).join(' → '))))));
}

// ---- controller decisions (a list, and vertical marks on every chart) ----
let decisionTimes = [];
async function refreshDecisions() {
  const list = await getJson(`/api/decisions?range=${$('#range').value}`).catch(() => null);
  if (!list) return;
  decisionTimes = list.map((x) => x.ts / 1000);
  $('#decisions').replaceChildren(...(list.length === 0 ? [el('li', { class: 'empty' }, 'none in this range')] : list.map((x) =>
    el('li', { 'data-instance': x.instance }, el('time', {}, `${fmtTime(x.ts)} · ${x.instance}`), x.msg))));
  for (const c of charts.values()) c.plot.redraw(false);
}
/** uPlot plugin: a dashed vertical line at each decision inside the visible range. */
const decisionMarks = {
  hooks: {
    draw: [(u) => {
      const { ctx, bbox } = u;
      ctx.save();
      ctx.strokeStyle = '#6a3fb5';
      ctx.setLineDash([4, 4]);
      for (const t of decisionTimes) {
        const x = u.valToPos(t, 'x', true);
        if (x < bbox.left || x > bbox.left + bbox.width) continue;
        ctx.beginPath();
        ctx.moveTo(x, bbox.top);
        ctx.lineTo(x, bbox.top + bbox.height);
        ctx.stroke();
      }
      ctx.restore();
    }],
  },
};

// ---- charts ----
const charts = new Map();
const palette = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f'];
async function refreshCharts() {
  const range = $('#range').value;
  const panels = await getJson('/api/panels').catch(() => []);
  for (const p of panels) {
    let box = document.getElementById(`panel-${p.id}`);
    if (!box) {
      box = el('div', { class: 'panel', id: `panel-${p.id}`, 'data-panel': p.id }, el('h3', {}, `${p.title} (${p.unit})${p.threshold ? ` — alarm at ${p.threshold.value}` : ''}`), el('div', { class: 'plot' }), el('div', { class: 'err' }));
      $('#charts').append(box);
    }
    const data = await getJson(`/api/panels/${p.id}?range=${range}`).catch((e) => ({ times: [], series: [], error: e.message }));
    box.querySelector('.err').textContent = data.error ?? (data.series.length === 0 ? 'no data in this range' : '');
    const series = [...data.series];
    const values = series.map((s) => s.values);
    if (p.threshold) {
      series.push({ label: `alarm ${p.threshold.value}` });
      values.push(data.times.map(() => p.threshold.value));
    }
    const key = `${p.id}:${series.map((s) => s.label).join('|')}`;
    const old = charts.get(p.id);
    if (old && old.key === key) { old.plot.setData([data.times, ...values]); continue; }
    old?.plot.destroy();
    const plot = new uPlot({
      width: Math.max(box.clientWidth - 4, 300), height: 180,
      series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: s.label.startsWith('alarm') ? '#c62828' : palette[i % palette.length], dash: s.label.startsWith('alarm') ? [6, 4] : undefined, width: 1.5 }))],
      axes: [{}, { size: 50 }],
      scales: { x: { time: true } },
      plugins: [decisionMarks],
    }, [data.times, ...values], box.querySelector('.plot'));
    charts.set(p.id, { key, plot });
  }
}
$('#range').addEventListener('change', () => { refreshCharts(); refreshDecisions(); });

// ---- log search ----
async function searchLogs(ev) {
  ev?.preventDefault();
  const f = $('#log-form');
  const to = Date.now();
  const q = new URLSearchParams({ from: String(to - Number(f.window.value)), to: String(to), limit: '300' });
  for (const k of ['component', 'instance', 'level', 'status', 'route', 'requestId', 'text']) if (f[k].value.trim()) q.set(k, f[k].value.trim());
  const summary = $('#log-summary');
  try {
    const r = await getJson(`/api/logs?${q}`);
    summary.textContent = `${r.total.toLocaleString()} lines (${r.rows.length} shown, newest first) in ${r.tookMs} ms`;
    summary.className = '';
    const max = Math.max(1, ...r.histogram.map((b) => b.count));
    $('#log-histogram').replaceChildren(...r.histogram.map((b) => {
      const bar = el('div', { title: `${fmtTime(b.t)}: ${b.count} lines, ${b.errors} errors`, style: `height:${(100 * b.count) / max}%` });
      if (b.errors) bar.append(el('span', { style: `height:${(100 * b.errors) / Math.max(b.count, 1)}%` }));
      return bar;
    }));
    $('#log-results tbody').replaceChildren(...r.rows.map((x) =>
      el('tr', { class: x.level, 'data-component': x.component, 'data-instance': x.instance },
        ...[fmtTime(x.ts), x.component, x.instance, x.level, x.status ?? '', x.route ?? '', x.requestId ?? '', x.msg].map((c) => el('td', {}, String(c))))));
  } catch (e) {
    summary.textContent = `search failed: ${e.message}`;
    summary.className = 'error-text';
  }
}
$('#log-form').addEventListener('submit', searchLogs);
for (const c of ['api', 'haproxy', 'varnish', 'nginx', 'mariadb', 'redis', 'sentinel', 'supervisor', 'controller', 'prometheus', 'exporter', 'alertmanager', 'console', 'other']) {
  $('#log-form').component.append(el('option', {}, c));
}

const loop = (f, ms) => { f(); setInterval(f, ms); };
loop(refreshTopology, 2000);
loop(refreshAlerts, 3000);
loop(refreshCharts, 10000);
loop(refreshDecisions, 5000);
searchLogs();
