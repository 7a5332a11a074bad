// toonify's page.  Everything goes through the documented HTTP API (/api/v1/...), so scripts
// can do whatever the page does.  No framework, no external resources.  Words come from i18n.js
// (t, serverText), photo headers are read by imagesize.js before any preview is drawn.
'use strict';

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
const MB = (b) => (b / 1e6).toFixed(b < 1e7 ? 1 : 0) + ' MB';
const bytes = (b) => (b >= 1e9 ? (b / 1e9).toFixed(1) + ' GB' : MB(b));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const defaults = { size: 1024, format: 'png', maxBatch: 20, batchTimeout: 1800, downgrade: false };
let settings = Object.assign({}, defaults);
try { Object.assign(settings, JSON.parse(localStorage.getItem('toonify.settings') || '{}')); } catch (e) { /* fresh */ }
let status = null;

// ---- errors a person can act on ----------------------------------------------------------
// The API in the page's language: errors come back in Chinese when the page is in Chinese,
// whatever the browser's own Accept-Language says.
function apiFetch(url, opts = {}) {
  const headers = new Headers(opts.headers || {});
  headers.set('Accept-Language', lang === 'zh' ? 'zh-CN, en;q=0.5' : 'en');
  return fetch(url, { ...opts, headers });
}

async function apiError(resp) {
  let body = {};
  try { body = await resp.json(); } catch (e) { /* not JSON */ }
  const e = new Error(body.detail || body.error || ('HTTP ' + resp.status));
  e.status = resp.status;
  e.code = body.error || '';
  e.detail = body.detail || '';
  e.detailEn = body.detail_en || '';
  e.fit = body.fit_size || 0;
  e.retryAfter = parseInt(resp.headers.get('Retry-After') || '0', 10);
  return e;
}

// A message the page itself gives (no server involved).
function pageError(text) {
  const e = new Error(text);
  e.local = true;
  return e;
}

function explain(e) {
  if (e.local) return e.message;
  if (e.status === undefined) return t('err.unreachable', { msg: e.message });
  let text = e.code ? serverText(e.code, e.detail, e.detailEn) : e.message;
  if (e.status === 503 && e.retryAfter) text += t('err.retry', { s: e.retryAfter });
  if (e.status === 415) text += t('err.format');
  return text;
}

function showError(box, e, retry) {
  box.hidden = false;
  box.textContent = explain(e);
  if (e.fit && retry) {
    const b = document.createElement('button');
    b.textContent = t('err.fit', { px: e.fit });
    b.onclick = () => retry(e.fit);
    box.appendChild(document.createElement('br'));
    box.appendChild(b);
  }
}

// ---- tabs: the ARIA pattern, arrow keys move between them -----------------------------------
const tabButtons = $$('#tabs [role=tab]');
function selectTab(b, focus) {
  tabButtons.forEach((x) => {
    const on = x === b;
    x.classList.toggle('active', on);
    x.setAttribute('aria-selected', on ? 'true' : 'false');
    x.tabIndex = on ? 0 : -1;
  });
  $$('.tab').forEach((p) => p.classList.toggle('active', p.id === 'tab-' + b.dataset.tab));
  if (focus) b.focus();
  if (b.dataset.tab === 'history') loadHistory();
}
const activeTab = () => $('#tabs [aria-selected=true]').dataset.tab;
tabButtons.forEach((b) => b.addEventListener('click', () => selectTab(b, false)));
$('#tabs').addEventListener('keydown', (e) => {
  const i = tabButtons.indexOf(document.activeElement), n = tabButtons.length;
  const to = { ArrowRight: (i + 1) % n, ArrowLeft: (i + n - 1) % n, Home: 0, End: n - 1 }[e.key];
  if (i < 0 || to === undefined) return;
  e.preventDefault();
  selectTab(tabButtons[to], true);
});

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

// A readable style name: the server's display name when it gives one, else the model's file
// name cleaned up (whitebox_cartoon_gan_dr -> "Whitebox cartoon GAN (dynamic range)").
const QUANT = { dr: 'dynamic range', fp16: 'FP16', int8: 'INT8', fp32: 'FP32' };
function styleLabel(name) {
  const s = status && status.styles.find((x) => x.name === name);
  if (s && lang === 'zh' && s.display_name_zh) return s.display_name_zh;
  if (s && (s.display_name || s.label)) return s.display_name || s.label;
  const words = String(name).replace(/\.(tflite|onnx|bin)$/i, '').split(/[_\-\s]+/).filter(Boolean);
  const quant = words.length > 1 && QUANT[words[words.length - 1].toLowerCase()] ? QUANT[words.pop().toLowerCase()] : '';
  const text = words.map((w) => (/^(gan|dct|hd)$/i.test(w) ? w.toUpperCase() : w.toLowerCase())).join(' ');
  const cap = text.charAt(0).toUpperCase() + text.slice(1);
  return quant ? cap + ' (' + quant + ')' : cap;
}

// ---- status and the memory gauge -------------------------------------------------------
// The bar is the planned memory of the running jobs against the room the server has for jobs
// (its limit less the reserve and its own baseline): what admission control compares.
function renderGauge() {
  if (!status) return;
  const m = status.memory, q = status.queue;
  const room = Math.max(1, m.limit_bytes - (m.reserve_bytes || 0) - (m.baseline_bytes || 0));
  const pct = Math.min(100, 100 * m.reserved_bytes / room);
  const fill = $('#gauge-fill');
  fill.style.width = pct.toFixed(1) + '%';
  fill.style.background = pct > 85 ? 'var(--bad)' : pct > 60 ? 'var(--warn)' : 'var(--ok)';
  const text = t('gauge.text', { planned: bytes(m.reserved_bytes), room: bytes(room), rss: bytes(m.rss_bytes),
    running: q.running, workers: q.workers, queued: q.queued });
  $('#gauge-text').textContent = text;
  $('#gauge').title = text + '\n' + t('gauge.title') + ' (' + m.limit_source + ')';
}

function renderStyles() {
  $$('.p-style').forEach((sel) => {
    const keep = sel.value;
    sel.innerHTML = '';
    status.styles.forEach((s) => {
      const o = document.createElement('option');
      o.value = s.name;
      o.textContent = styleLabel(s.name);
      o.title = s.name + (s.description ? ' — ' + s.description : '');
      o.selected = keep ? s.name === keep : s.default;
      sel.appendChild(o);
    });
    sel.title = sel.selectedOptions[0] ? sel.selectedOptions[0].title : '';
  });
}
$$('.p-style').forEach((sel) => sel.addEventListener('change', () => { sel.title = sel.selectedOptions[0].title; }));

async function refreshStatus() {
  let s;
  try {
    s = await (await apiFetch('/api/v1/status')).json();
  } catch (e) {
    $('#gauge-text').textContent = t('gauge.unreachable');
    return;
  }
  const newStyles = !status || status.styles.length !== s.styles.length;
  status = s;
  renderGauge();
  $('#no-model').hidden = status.ready;
  $('#no-model-detail').textContent = status.ready ? '' : (status.model_error || '');
  if (newStyles) renderStyles();
  updateButtons();
}

// The decoder's limits (toon_decode_default_limits), unless the server states its own.
function pixelLimits() {
  const l = (status && status.limits) || {};
  return { pixels: l.max_pixels || 100e6, side: l.max_side || 16384 };
}

// ---- single image ----------------------------------------------------------------------
let singleFile = null, currentJob = null, previewUrl = '', lastJob = null, pickSeq = 0;

function updateButtons() {
  const ready = status && status.ready;
  $('#convert-btn').disabled = !ready || !singleFile || !!currentJob;
  $('#batch-start').disabled = !ready || batchFiles.length === 0 || !!currentBatch;
}

// Forgets the previous photo's result, so nothing of it stays beside a new file or an error.
function clearResult() {
  lastJob = null;
  $('#compare').hidden = true;
  $('#info').hidden = true;
  $('#info').innerHTML = '';
  $('#result-img').removeAttribute('src');
  $('#before-img').removeAttribute('src');
  const a = $('#download');
  a.hidden = true;
  a.removeAttribute('href');
  a.removeAttribute('download');
  $('#single-progress').hidden = true;
  $('#single-status').textContent = '';
  $('#error').hidden = true;
}

function setPreview(f) {
  if (previewUrl) URL.revokeObjectURL(previewUrl);
  previewUrl = f ? URL.createObjectURL(f) : '';
  const img = $('#preview');
  img.hidden = !f;
  if (f) {
    img.onerror = () => { img.hidden = true; };
    img.src = previewUrl;
  } else {
    img.removeAttribute('src');
  }
}

// Why a photo is refused before upload, from its size and header; '' when it may go.
function refusal(f, dims) {
  if (f.size === 0) return t('file.empty', { name: f.name });
  if (!dims) return '';
  const lim = pixelLimits(), px = dims.w * dims.h;
  if (px > lim.pixels) {
    return t('file.huge', { name: f.name, w: dims.w, h: dims.h, mpx: (px / 1e6).toFixed(1), limit: Math.round(lim.pixels / 1e6) });
  }
  if (dims.w > lim.side || dims.h > lim.side) return t('file.side', { name: f.name, w: dims.w, h: dims.h, limit: lim.side });
  return '';
}

// A photo is previewed only when its header gives sizes within the limits; one whose header the
// page cannot read goes to the server without a preview, and the server explains.
async function setSingleFile(f) {
  if (!f) return;
  const seq = ++pickSeq;
  clearResult();
  singleFile = null;
  setPreview(null);
  const drop = $('#drop-text');
  delete drop.dataset.i18n;
  drop.textContent = t('file.chosen', { name: f.name, size: MB(f.size) });
  const dims = f.size ? await readImageSize(f).catch(() => null) : null;
  if (seq !== pickSeq) return;
  const why = refusal(f, dims);
  if (why) showError($('#error'), pageError(why));
  else {
    singleFile = f;
    if (dims) setPreview(f);
  }
  updateButtons();
}

function setupDrop(zone, input, onFiles) {
  input.addEventListener('change', () => {
    onFiles(Array.from(input.files));
    input.value = '';
    if (document.activeElement === input) zone.focus(); /* keyboard users stay on the zone */
  });
  // As a native button: Enter opens the dialog on keydown, Space on keyup.
  zone.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter' && e.key !== ' ') return;
    e.preventDefault();
    if (e.key === 'Enter') input.click();
  });
  zone.addEventListener('keyup', (e) => {
    if (e.key === ' ') input.click();
  });
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
  const files = Array.from(e.clipboardData.items).filter((i) => i.kind === 'file').map((i) => i.getAsFile());
  if (!files.length) return;
  if (activeTab() === 'batch') addBatchFiles(files);
  else setSingleFile(files[0]);
});

function progress(el, f, text, failed) {
  el.hidden = false;
  el.classList.toggle('failed', !!failed);
  $('div', el).style.width = Math.round(f * 100) + '%';
  $('span', el).textContent = text;
}

function resolutionText(j) {
  if (j.params.mode === 'official' && j.size > 720) return t('info.official', { px: j.size });
  return j.size + ' px' + (j.downgraded ? t('info.downgraded', { px: j.params.size }) : '');
}

function infoRows(j) {
  const tm = j.timings || {}, m = j.memory || {};
  const s = (x) => (x || 0).toFixed(2);
  const rows = [
    ['info.time', t('info.timev', { run: s(tm.run_s), model: s(tm.network_s), queued: s(tm.queued_s) })],
    ['info.input', j.input.w + '×' + j.input.h + ' ' + j.input.format + ', ' + MB(j.input.bytes)],
    ['info.output', j.output.w + '×' + j.output.h + ' ' + j.output.format.toUpperCase() + (j.output.bytes ? ', ' + MB(j.output.bytes) : '')],
    ['info.scale', (j.output.scale || 0).toFixed(2) + '×'],
    ['info.resolution', resolutionText(j)],
    ['info.strength', j.params.strength],
    ['info.style', styleLabel(j.style) + ', ' + j.params.mode + ', ' + j.params.precision],
    ['info.planned', MB(m.planned_bytes)],
    ['info.measured', t('info.measuredv', { heap: MB(m.measured_heap_bytes), peak: MB(m.rss_peak_bytes) })],
  ];
  if (j.note) rows.push(['info.note', j.note]);
  return rows;
}

function showInfo(table, j) {
  table.innerHTML = '';
  infoRows(j).forEach(([k, v]) => {
    const tr = table.insertRow();
    tr.insertCell().textContent = t(k);
    tr.insertCell().textContent = v;
  });
  table.hidden = false;
}

// Results keep the original service's naming, outputs_YYYYMMDDHHMMSS.ext (local time of the
// submission), with _2, _3... only when two results land in the same second.
const namesTaken = new Map(); /* name -> job id */
function downloadName(j) {
  const d = new Date((j.timings.submitted || j.timings.finished || Date.now() / 1000) * 1000);
  const p = (n, w = 2) => String(n).padStart(w, '0');
  const stamp = d.getFullYear() + p(d.getMonth() + 1) + p(d.getDate()) + p(d.getHours()) + p(d.getMinutes()) + p(d.getSeconds());
  for (let k = 1; ; k++) {
    const name = 'outputs_' + stamp + (k > 1 ? '_' + k : '') + '.' + j.output.format;
    const owner = namesTaken.get(name);
    if (!owner || owner === j.id) {
      namesTaken.set(name, j.id);
      return name;
    }
  }
}

async function pollJob(j, bar) {
  while (j.state === 'queued' || j.state === 'running') {
    progress(bar, j.progress, j.state === 'queued' ? t('state.waiting') : Math.round(j.progress * 100) + '%');
    await sleep(300);
    const s = await apiFetch('/api/v1/jobs/' + j.id);
    if (!s.ok) throw await apiError(s);
    j = await s.json();
  }
  return j;
}

function jobError(j) {
  const e = new Error(j.error ? j.error.detail : j.state);
  e.status = j.error ? j.error.code : 500;
  e.code = j.error ? j.error.error : '';
  e.detail = j.error ? j.error.detail : '';
  return e;
}

async function convert(sizeOverride) {
  if (!singleFile) return;
  const file = singleFile;
  clearResult();
  const p = readParams($('#params-single'));
  if (sizeOverride) p.set('size', sizeOverride);
  p.set('filename', file.name);
  const bar = $('#single-progress');
  progress(bar, 0, t('state.uploading'));
  currentJob = 'pending';
  updateButtons();
  try {
    const r = await apiFetch('/api/v1/jobs?' + p.toString(), { method: 'POST', body: file,
      headers: { 'Content-Type': file.type || 'application/octet-stream' } });
    if (r.status !== 202) throw await apiError(r);
    let j = await r.json();
    currentJob = j.id;
    $('#cancel-btn').hidden = false;
    j = await pollJob(j, bar);
    if (j.state === 'cancelled') {
      bar.hidden = true;
      $('#single-status').textContent = t('state.cancelled');
    } else if (j.state !== 'done') {
      throw jobError(j);
    } else {
      progress(bar, 1, t('state.done'));
      showResult(j, file);
    }
  } catch (e) {
    bar.hidden = true;
    showError($('#error'), e, (fit) => convert(fit));
  } finally {
    currentJob = null;
    $('#cancel-btn').hidden = true;
    updateButtons();
  }
}

function showResult(j, file) {
  lastJob = j;
  const url = j.output.url;
  // A photo without a preview (header unread) passed the server's probe: safe to draw now.
  if (!previewUrl) previewUrl = URL.createObjectURL(file);
  $('#before-img').src = previewUrl;
  $('#result-img').src = url + '?t=' + j.id;
  $('#compare').hidden = false;
  sizeCompare();
  showInfo($('#info'), j);
  const a = $('#download');
  a.href = url;
  a.setAttribute('download', downloadName(j));
  a.hidden = false;
  $('#compare').scrollIntoView({ block: 'start', behavior: 'smooth' });
}

function sizeCompare() {
  const before = $('#before-img'), after = $('#result-img');
  const fit = () => { after.style.width = before.clientWidth + 'px'; after.style.height = before.clientHeight + 'px'; };
  before.onload = fit;
  after.onload = fit;
  fit();
}
window.addEventListener('resize', sizeCompare);
// Before on the left, after on the right: the slider sets where the cartoon begins.
$('#compare-range').addEventListener('input', (e) => { $('#after-wrap').style.width = (100 - e.target.value) + '%'; });
$('#convert-btn').addEventListener('click', () => convert());
$('#cancel-btn').addEventListener('click', () => {
  if (currentJob && currentJob !== 'pending') apiFetch('/api/v1/jobs/' + currentJob, { method: 'DELETE' });
});

// ---- batch ----------------------------------------------------------------------------
let batchFiles = [], batchRejected = [], currentBatch = null, lastBatch = null;
const isPhotoName = (f) => /^image\/(png|jpeg|webp)$/.test(f.type) || /\.(png|jpe?g|webp)$/i.test(f.name);

function setBatchFiles(fs) {
  batchFiles = [];
  batchRejected = [];
  addBatchFiles(fs);
}

// Files that are not photos get a row saying so; more photos than the limit are cut with a note.
function addBatchFiles(fs) {
  lastBatch = null;
  batchFiles = batchFiles.concat(fs.filter(isPhotoName));
  batchRejected = batchRejected.concat(fs.filter((f) => !isPhotoName(f)));
  $('#batch-error').hidden = true;
  if (batchFiles.length > settings.maxBatch) {
    showError($('#batch-error'), pageError(t('batch.limit', { n: batchFiles.length, max: settings.maxBatch })));
    batchFiles = batchFiles.slice(0, settings.maxBatch);
  }
  const drop = $('#batch-drop-text');
  delete drop.dataset.i18n;
  drop.textContent = t('batch.chosen', { n: batchFiles.length });
  renderChosen();
  updateButtons();
}

function fileRow(t0, name, info, state, cls) {
  const tr = t0.insertRow();
  tr.insertCell().textContent = name;
  tr.insertCell().textContent = info;
  const st = tr.insertCell();
  st.textContent = state;
  if (cls) st.className = cls;
}

function renderChosen() {
  const tb = $('#batch-table');
  tb.innerHTML = '';
  batchFiles.forEach((f) => fileRow(tb, f.name, MB(f.size), t('state.ready')));
  batchRejected.forEach((f) => fileRow(tb, f.name, MB(f.size), t('file.notimage'), 'st-failed'));
}
setupDrop($('#batch-drop'), $('#batch-files'), setBatchFiles);

function batchText(b) {
  let text = t('batch.progress', { ended: b.done + b.failed + b.cancelled, total: b.total });
  if (b.failed) text += ' · ' + t('batch.failedpart', { n: b.failed });
  if (b.cancelled) text += ' · ' + t('batch.cancelledpart', { n: b.cancelled });
  return text;
}

async function pollBatch(id, bar, deadline) {
  for (;;) {
    const s = await apiFetch('/api/v1/batches/' + id);
    if (!s.ok) throw await apiError(s);
    const b = await s.json();
    lastBatch = b;
    renderBatch(b);
    progress(bar, b.progress, batchText(b), b.failed > 0);
    if (b.state === 'done') return b;
    if (Date.now() > deadline) {
      await apiFetch('/api/v1/batches/' + id, { method: 'DELETE' });
      throw pageError(t('err.timeout', { s: settings.batchTimeout }));
    }
    await sleep(500);
  }
}

function batchFinished(b) {
  $('#batch-status').textContent = t('batch.summary', { done: b.done, failed: b.failed, cancelled: b.cancelled });
  if (b.done > 0) {
    const a = $('#batch-zip');
    a.href = b.zip_url;
    a.setAttribute('download', 'toonify_batch_' + b.id.slice(0, 8) + '.zip');
    a.hidden = false;
  }
}

async function runBatch() {
  $('#batch-error').hidden = true;
  $('#batch-zip').hidden = true;
  $('#batch-status').textContent = '';
  $('#batch-gallery').innerHTML = '';
  const fd = new FormData();
  readParams($('#params-batch')).forEach((v, k) => fd.append(k, v));
  batchFiles.forEach((f) => fd.append('files', f, f.name));
  const bar = $('#batch-progress');
  progress(bar, 0, t('state.uploading'));
  currentBatch = 'pending';
  updateButtons();
  try {
    const r = await apiFetch('/api/v1/batches', { method: 'POST', body: fd });
    if (r.status !== 202) throw await apiError(r);
    const b0 = await r.json();
    currentBatch = b0.id;
    $('#batch-cancel').hidden = false;
    batchFinished(await pollBatch(b0.id, bar, Date.now() + settings.batchTimeout * 1000));
  } catch (e) {
    showError($('#batch-error'), e);
  } finally {
    currentBatch = null;
    $('#batch-cancel').hidden = true;
    updateButtons();
  }
}

function jobStateText(j) {
  if (j.state === 'running') return t('state.running', { pct: Math.round(j.progress * 100) });
  const word = t('job.' + j.state);
  const detail = j.error ? j.error.detail : '';
  if (j.state === 'failed') return word + ': ' + serverText(j.error ? j.error.error : '', detail);
  if (j.state === 'cancelled' && detail && detail !== 'cancelled') return word + ': ' + serverText('cancelled', detail);
  return word;
}

function renderBatch(b) {
  const tb = $('#batch-table');
  tb.innerHTML = '';
  const g = $('#batch-gallery');
  b.jobs.forEach((j) => {
    fileRow(tb, j.filename, j.input.w ? j.input.w + '×' + j.input.h : '', jobStateText(j), 'st-' + j.state);
    if (j.state === 'done' && !$('[data-job="' + j.id + '"]', g)) g.appendChild(card(j));
  });
  batchRejected.forEach((f) => fileRow(tb, f.name, MB(f.size), t('file.notimage'), 'st-failed'));
}
$('#batch-start').addEventListener('click', runBatch);
$('#batch-cancel').addEventListener('click', () => {
  if (currentBatch && currentBatch !== 'pending') apiFetch('/api/v1/batches/' + currentBatch, { method: 'DELETE' });
});

// ---- history ------------------------------------------------------------------------------
// History cards load a 256 px thumbnail the server makes (batch cards the result itself); a
// click opens it full size in a new tab.  History cards have a delete button (with a confirm).
function cardMeta(j) {
  const when = j.timings.finished ? new Date(j.timings.finished * 1000).toLocaleString(lang === 'zh' ? 'zh-CN' : undefined) : '';
  const p = j.params || {};
  const secs = (j.timings.run_s || 0).toFixed(1) + (lang === 'zh' ? ' 秒' : ' s');
  return [j.filename + ' · ' + j.output.w + '×' + j.output.h + ' ' + j.output.format.toUpperCase() + ' · ' + when,
    styleLabel(j.style) + ' · ' + p.mode + ' · ' + p.precision + ' · ' + t('info.strength') + ' ' + p.strength + ' · ' + secs];
}

function card(j, history) {
  const d = document.createElement('div');
  d.className = 'card';
  d.dataset.job = j.id;
  const full = document.createElement('a');
  full.className = 'full';
  full.href = j.output.url;
  full.target = '_blank';
  full.rel = 'noopener';
  full.title = t('card.full');
  const img = document.createElement('img');
  img.loading = 'lazy';
  img.decoding = 'async';
  img.width = 170;
  img.height = 150;
  img.src = history ? j.output.url + '?thumb=256' : j.output.url;
  img.alt = j.filename;
  full.appendChild(img);
  const metas = cardMeta(j).map((text) => {
    const m = document.createElement('div');
    m.className = 'meta';
    m.textContent = text;
    return m;
  });
  const a = document.createElement('a');
  a.href = j.output.url;
  a.textContent = t('download');
  a.setAttribute('download', downloadName(j));
  d.append(full, ...metas, a);
  if (history) d.append(' ', deleteButton(j, d));
  return d;
}

// A real <button>, so Tab reaches it and Enter or Space presses it.
function deleteButton(j, d) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'delete';
  b.textContent = t('card.delete');
  b.setAttribute('aria-label', t('card.delete.aria', { name: j.filename }));
  b.addEventListener('click', async () => {
    if (!window.confirm(t('card.delete.confirm', { name: j.filename }))) return;
    try {
      const r = await apiFetch('/api/v1/history/' + j.id, { method: 'DELETE' });
      if (!r.ok) throw await apiError(r);
      d.remove();
      if (!$('#history-list .card')) $('#history-list').textContent = t('history.empty');
    } catch (e) {
      window.alert(explain(e));
    }
  });
  return b;
}

async function loadHistory() {
  const list = $('#history-list');
  try {
    const r = await apiFetch('/api/v1/history?limit=100');
    if (!r.ok) throw await apiError(r);
    const h = await r.json();
    list.innerHTML = '';
    if (h.items.length === 0) list.textContent = t('history.empty');
    h.items.slice().reverse().forEach((j) => downloadName(j)); /* oldest first keeps their names */
    h.items.forEach((j) => list.appendChild(card(j, true)));
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

// ---- language: redraw what the page wrote itself ---------------------------------------------
function relabel() {
  applyI18n();
  renderGauge();
  if (status) renderStyles();
  if (lastJob) showInfo($('#info'), lastJob);
  if (lastBatch) renderBatch(lastBatch);
  else if (batchFiles.length || batchRejected.length) renderChosen();
  if (activeTab() === 'history') loadHistory();
}
$('#lang').value = lang;
$('#lang').addEventListener('change', (e) => { setLang(e.target.value); relabel(); });

applyI18n();
loadSettingsForm();
applyDefaults($('#params-single'));
applyDefaults($('#params-batch'));
refreshStatus();
setInterval(refreshStatus, 1000);
