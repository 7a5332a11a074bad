// toonify's page.  Everything goes through the documented HTTP API (/api/v1/...), so scripts
// can do whatever the page does.  No framework, no external resources.
'use strict';

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
const MB = (b) => (b / 1e6).toFixed(b < 1e7 ? 1 : 0) + ' MB';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const defaults = { size: 1024, format: 'png', maxBatch: 20, batchTimeout: 1800, downgrade: false };
let settings = Object.assign({}, defaults);
try { Object.assign(settings, JSON.parse(localStorage.getItem('toonify.settings') || '{}')); } catch (e) { /* fresh */ }
let status = null;

// ---- errors a person can act on ----------------------------------------------------------
async function apiError(resp) {
  let body = {};
  try { body = await resp.json(); } catch (e) { /* not JSON */ }
  const e = new Error(body.detail || body.error || ('HTTP ' + resp.status));
  e.status = resp.status;
  e.fit = body.fit_size || 0;
  e.retryAfter = parseInt(resp.headers.get('Retry-After') || '0', 10);
  return e;
}

function explain(e) {
  if (e.status === 503 && e.retryAfter) return e.message + ' (the server suggests retrying in ' + e.retryAfter + ' s)';
  if (e.status === 415) return e.message + ' — choose a PNG, JPEG or WebP photo.';
  if (e.status === undefined) return 'The server cannot be reached (' + e.message + '). Is `toonify serve` running?';
  return e.message;
}

function showError(box, e, retry) {
  box.hidden = false;
  box.textContent = explain(e);
  if (e.fit && retry) {
    const b = document.createElement('button');
    b.textContent = 'Convert at ' + e.fit + ' px instead';
    b.onclick = () => retry(e.fit);
    box.appendChild(document.createElement('br'));
    box.appendChild(b);
  }
}

// ---- tabs ------------------------------------------------------------------------------
$$('#tabs button').forEach((b) => b.addEventListener('click', () => {
  $$('#tabs button').forEach((x) => x.classList.toggle('active', x === b));
  $$('.tab').forEach((t) => t.classList.toggle('active', t.id === 'tab-' + b.dataset.tab));
  if (b.dataset.tab === 'history') loadHistory();
}));

// ---- parameters ------------------------------------------------------------------------
function bindParams(root) {
  $$('input[type=range]', root).forEach((r) => {
    const v = $('.val[data-for=' + r.name + ']', root);
    r.addEventListener('input', () => { v.textContent = r.value; });
  });
}
function applyDefaults(root) {
  const s = $('input[name=size]', root);
  s.value = settings.size;
  $('.val[data-for=size]', root).textContent = s.value;
  $('select[name=format]', root).value = settings.format;
}
function readParams(root) {
  const p = new URLSearchParams();
  $$('input[name], select[name]', root).forEach((el) => { if (el.value !== '') p.set(el.name, el.value); });
  p.set('downgrade', settings.downgrade ? 'true' : 'false');
  return p;
}
bindParams($('#params-single'));
bindParams($('#params-batch'));

// ---- status and the memory gauge -------------------------------------------------------
async function refreshStatus() {
  try {
    const r = await fetch('/api/v1/status');
    status = await r.json();
  } catch (e) {
    $('#gauge-text').textContent = 'server unreachable';
    return;
  }
  const m = status.memory, q = status.queue;
  const pct = Math.min(100, 100 * m.rss_bytes / m.limit_bytes);
  const fill = $('#gauge-fill');
  fill.style.width = pct + '%';
  fill.style.background = pct > 85 ? 'var(--bad)' : pct > 60 ? 'var(--warn)' : 'var(--ok)';
  const res = $('#gauge-reserved');
  res.style.left = pct + '%';
  res.style.width = Math.min(100 - pct, 100 * m.reserved_bytes / m.limit_bytes) + '%';
  $('#gauge-text').textContent = 'memory ' + MB(m.rss_bytes) + ' of ' + MB(m.limit_bytes) +
    ' (' + m.limit_source.replace(/ \(.*/, '') + ') · running ' + q.running + '/' + q.workers +
    ' · queue ' + q.queued + '/' + q.capacity;
  const noModel = !status.ready;
  $('#no-model').hidden = !noModel;
  $('#no-model-detail').textContent = noModel ? (status.model_error || '') : '';
  $$('.p-style').forEach((sel) => {
    if (sel.options.length === status.styles.length) return;
    sel.innerHTML = '';
    status.styles.forEach((s) => {
      const o = document.createElement('option');
      o.value = s.name; o.textContent = s.name; o.title = s.description; o.selected = s.default;
      sel.appendChild(o);
    });
  });
  updateButtons();
}

// ---- single image ----------------------------------------------------------------------
let singleFile = null, currentJob = null;

function updateButtons() {
  const ready = status && status.ready;
  $('#convert-btn').disabled = !ready || !singleFile || !!currentJob;
  $('#batch-start').disabled = !ready || batchFiles.length === 0 || !!currentBatch;
}

function setSingleFile(f) {
  if (!f) return;
  singleFile = f;
  const img = $('#preview');
  img.src = URL.createObjectURL(f);
  img.hidden = false;
  img.onerror = () => { img.hidden = true; };
  $('#drop-text').textContent = f.name + ' (' + MB(f.size) + ')';
  $('#error').hidden = true;
  $('#compare').hidden = true;
  $('#info').hidden = true;
  $('#download').hidden = true;
  updateButtons();
}

function setupDrop(zone, input, onFiles) {
  input.addEventListener('change', () => onFiles(Array.from(input.files)));
  zone.addEventListener('dragover', (e) => { e.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    onFiles(Array.from(e.dataTransfer.files));
  });
}
setupDrop($('#drop'), $('#file-input'), (fs) => setSingleFile(fs[0]));
document.addEventListener('paste', (e) => {
  const item = Array.from(e.clipboardData.items).find((i) => i.kind === 'file');
  if (item) setSingleFile(item.getAsFile());
});

function progress(el, f, text) {
  el.hidden = false;
  $('div', el).style.width = Math.round(f * 100) + '%';
  $('span', el).textContent = text;
}

function infoRows(j) {
  const t = j.timings || {}, m = j.memory || {};
  const rows = [
    ['time', (t.run_s || 0).toFixed(2) + ' s (network ' + (t.network_s || 0).toFixed(2) + ' s, waited ' + (t.queued_s || 0).toFixed(2) + ' s)'],
    ['input', j.input.w + '×' + j.input.h + ' ' + j.input.format + ', ' + MB(j.input.bytes)],
    ['output', j.output.w + '×' + j.output.h + ' ' + j.output.format.toUpperCase() + (j.output.bytes ? ', ' + MB(j.output.bytes) : '')],
    ['scale', (j.output.scale || 0).toFixed(2) + '×'],
    ['resolution', j.size + ' px' + (j.downgraded ? ' (downgraded from ' + j.params.size + ')' : '')],
    ['strength', j.params.strength],
    ['style', j.style + ', ' + j.params.mode + ', ' + j.params.precision],
    ['memory planned', MB(m.planned_bytes)],
    ['memory measured', 'heap ' + MB(m.measured_heap_bytes) + ', process peak ' + MB(m.rss_peak_bytes)],
  ];
  if (j.note) rows.push(['note', j.note]);
  return rows;
}

function showInfo(table, j) {
  table.innerHTML = '';
  infoRows(j).forEach(([k, v]) => {
    const tr = table.insertRow();
    tr.insertCell().textContent = k;
    tr.insertCell().textContent = v;
  });
  table.hidden = false;
}

async function convert(sizeOverride) {
  if (!singleFile) return;
  $('#error').hidden = true;
  const p = readParams($('#params-single'));
  if (sizeOverride) p.set('size', sizeOverride);
  p.set('filename', singleFile.name);
  const bar = $('#single-progress');
  progress(bar, 0, 'uploading…');
  currentJob = 'pending';
  updateButtons();
  try {
    const r = await fetch('/api/v1/jobs?' + p.toString(), { method: 'POST', body: singleFile,
      headers: { 'Content-Type': singleFile.type || 'application/octet-stream' } });
    if (r.status !== 202) throw await apiError(r);
    let j = await r.json();
    currentJob = j.id;
    $('#cancel-btn').hidden = false;
    while (j.state === 'queued' || j.state === 'running') {
      progress(bar, j.progress, j.state === 'queued' ? 'waiting for memory / a worker…' : Math.round(j.progress * 100) + '%');
      await sleep(300);
      const s = await fetch('/api/v1/jobs/' + j.id);
      if (!s.ok) throw await apiError(s);
      j = await s.json();
    }
    if (j.state !== 'done') {
      const e = new Error(j.error ? j.error.detail : j.state);
      e.status = j.error ? j.error.code : 500;
      throw e;
    }
    progress(bar, 1, 'done');
    showResult(j);
  } catch (e) {
    bar.hidden = true;
    showError($('#error'), e, (fit) => convert(fit));
  } finally {
    currentJob = null;
    $('#cancel-btn').hidden = true;
    updateButtons();
  }
}

function showResult(j) {
  const url = j.output.url;
  $('#before-img').src = $('#preview').src;
  $('#result-img').src = url + '?t=' + j.id;
  $('#compare').hidden = false;
  sizeCompare();
  showInfo($('#info'), j);
  const a = $('#download');
  a.href = url + '?download=1';
  a.setAttribute('download', j.output.file);
  a.hidden = false;
}

function sizeCompare() {
  const before = $('#before-img'), after = $('#result-img');
  const fit = () => { after.style.width = before.clientWidth + 'px'; after.style.height = before.clientHeight + 'px'; };
  before.onload = fit;
  after.onload = fit;
  fit();
}
window.addEventListener('resize', sizeCompare);
$('#compare-range').addEventListener('input', (e) => { $('#after-wrap').style.width = e.target.value + '%'; });
$('#convert-btn').addEventListener('click', () => convert());
$('#cancel-btn').addEventListener('click', () => {
  if (currentJob && currentJob !== 'pending') fetch('/api/v1/jobs/' + currentJob, { method: 'DELETE' });
});

// ---- batch ----------------------------------------------------------------------------
let batchFiles = [], currentBatch = null;

function setBatchFiles(fs) {
  batchFiles = fs.filter((f) => /^image\//.test(f.type) || /\.(png|jpe?g|webp)$/i.test(f.name));
  $('#batch-error').hidden = true;
  if (batchFiles.length > settings.maxBatch) {
    showError($('#batch-error'), new Error('You chose ' + batchFiles.length + ' photos; the maximum batch size is ' +
      settings.maxBatch + ' (Settings tab). Only the first ' + settings.maxBatch + ' are kept.'));
    batchFiles = batchFiles.slice(0, settings.maxBatch);
  }
  $('#batch-drop-text').textContent = batchFiles.length + ' photo(s) chosen';
  const t = $('#batch-table');
  t.innerHTML = '';
  batchFiles.forEach((f) => {
    const tr = t.insertRow();
    tr.insertCell().textContent = f.name;
    tr.insertCell().textContent = MB(f.size);
    tr.insertCell().textContent = 'ready';
  });
  updateButtons();
}
setupDrop($('#batch-drop'), $('#batch-files'), setBatchFiles);

async function runBatch() {
  $('#batch-error').hidden = true;
  $('#batch-zip').hidden = true;
  $('#batch-gallery').innerHTML = '';
  const fd = new FormData();
  const p = readParams($('#params-batch'));
  p.forEach((v, k) => fd.append(k, v));
  batchFiles.forEach((f) => fd.append('files', f, f.name));
  const bar = $('#batch-progress');
  progress(bar, 0, 'uploading…');
  currentBatch = 'pending';
  updateButtons();
  const deadline = Date.now() + settings.batchTimeout * 1000;
  try {
    const r = await fetch('/api/v1/batches', { method: 'POST', body: fd });
    if (r.status !== 202) throw await apiError(r);
    const b0 = await r.json();
    currentBatch = b0.id;
    $('#batch-cancel').hidden = false;
    let b;
    for (;;) {
      const s = await fetch('/api/v1/batches/' + b0.id);
      if (!s.ok) throw await apiError(s);
      b = await s.json();
      renderBatch(b);
      progress(bar, b.progress, b.done + b.failed + b.cancelled + ' of ' + b.total + ' finished');
      if (b.state === 'done') break;
      if (Date.now() > deadline) {
        await fetch('/api/v1/batches/' + b0.id, { method: 'DELETE' });
        throw new Error('The batch took longer than the timeout of ' + settings.batchTimeout +
          ' s (Settings tab) and was cancelled; the finished results are kept.');
      }
      await sleep(500);
    }
    $('#batch-status').textContent = b.done + ' done, ' + b.failed + ' failed, ' + b.cancelled + ' cancelled';
    if (b.done > 0) {
      const a = $('#batch-zip');
      a.href = b.zip_url;
      a.setAttribute('download', 'toonify_batch_' + b.id.slice(0, 8) + '.zip');
      a.hidden = false;
    }
  } catch (e) {
    showError($('#batch-error'), e);
  } finally {
    currentBatch = null;
    $('#batch-cancel').hidden = true;
    updateButtons();
  }
}

function renderBatch(b) {
  const t = $('#batch-table');
  t.innerHTML = '';
  const g = $('#batch-gallery');
  b.jobs.forEach((j) => {
    const tr = t.insertRow();
    tr.insertCell().textContent = j.filename;
    tr.insertCell().textContent = j.input.w ? j.input.w + '×' + j.input.h : '';
    const st = tr.insertCell();
    st.className = 'st-' + j.state;
    st.textContent = j.state === 'running' ? 'running ' + Math.round(j.progress * 100) + '%' :
      j.state === 'failed' || j.state === 'cancelled' ? j.state + ': ' + (j.error ? j.error.detail : '') : j.state;
    if (j.state === 'done' && !$('[data-job="' + j.id + '"]', g)) g.appendChild(card(j));
  });
}
$('#batch-start').addEventListener('click', runBatch);
$('#batch-cancel').addEventListener('click', () => {
  if (currentBatch && currentBatch !== 'pending') fetch('/api/v1/batches/' + currentBatch, { method: 'DELETE' });
});

// ---- history ------------------------------------------------------------------------------
function card(j) {
  const d = document.createElement('div');
  d.className = 'card';
  d.dataset.job = j.id;
  const img = document.createElement('img');
  img.loading = 'lazy';
  img.src = j.output.url;
  img.alt = j.filename;
  const meta = document.createElement('div');
  meta.className = 'meta';
  const when = j.timings.finished ? new Date(j.timings.finished * 1000).toLocaleString() : '';
  meta.textContent = j.filename + ' · ' + j.output.w + '×' + j.output.h + ' ' + j.output.format.toUpperCase() + ' · ' + when;
  const a = document.createElement('a');
  a.href = j.output.url + '?download=1';
  a.textContent = 'Download';
  a.setAttribute('download', j.output.file);
  d.append(img, meta, a);
  return d;
}

async function loadHistory() {
  const list = $('#history-list');
  try {
    const r = await fetch('/api/v1/history?limit=100');
    if (!r.ok) throw await apiError(r);
    const h = await r.json();
    list.innerHTML = '';
    if (h.items.length === 0) list.textContent = 'No results yet.';
    h.items.forEach((j) => list.appendChild(card(j)));
  } catch (e) {
    list.textContent = explain(e);
  }
}
$('#history-refresh').addEventListener('click', loadHistory);

// ---- settings ------------------------------------------------------------------------------
function loadSettingsForm() {
  const f = $('#settings');
  f.size.value = settings.size;
  f.format.value = settings.format;
  f.maxBatch.value = settings.maxBatch;
  f.batchTimeout.value = settings.batchTimeout;
  f.downgrade.checked = !!settings.downgrade;
}
$('#settings').addEventListener('submit', (e) => {
  e.preventDefault();
  const f = e.target;
  const clamp = (v, lo, hi, d) => { const n = parseInt(v, 10); return isNaN(n) ? d : Math.min(hi, Math.max(lo, n)); };
  settings = {
    size: clamp(f.size.value, 512, 4096, 1024),
    format: f.format.value,
    maxBatch: clamp(f.maxBatch.value, 1, status ? Math.min(50, status.limits.max_batch) : 50, 20),
    batchTimeout: clamp(f.batchTimeout.value, 10, 86400, 1800),
    downgrade: f.downgrade.checked,
  };
  localStorage.setItem('toonify.settings', JSON.stringify(settings));
  loadSettingsForm();
  applyDefaults($('#params-single'));
  applyDefaults($('#params-batch'));
  $('#settings-saved').hidden = false;
  setTimeout(() => { $('#settings-saved').hidden = true; }, 2000);
});

loadSettingsForm();
applyDefaults($('#params-single'));
applyDefaults($('#params-batch'));
refreshStatus();
setInterval(refreshStatus, 1000);
