#!/usr/bin/env node
// Page tests in a real browser: Debian's chromium driven by playwright-core, against a
// `toonify serve` this script starts on a free loopback port.  Flows: first load at desktop and
// phone sizes in both languages (no hidden control shown or focusable), a single conversion, the
// checks made from a photo's header before any preview, a whole flow by keyboard only, a batch
// with its ZIP, an error message a person can act on, and the history after a restart.  Outcomes
// the server rarely gives on demand (a cancelled job, a batch with failures, official mode at
// 4096, a large memory limit) are served to the page by playwright's request routing.  A
// screenshot of each flow is kept in ARTIFACTS_DIR.
//
// Usage: node test_web.js TOONIFY SHARED_DIR WORK_DIR ARTIFACTS_DIR
// playwright-core comes from $TOONIFY_WEB_TESTS_DIR (default ~/.cache/toonify-web-tests), which
// tools/setup-web-tests.sh fills.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');

const [exe, shared, work, artifacts] = process.argv.slice(2);
const depsDir = process.env.TOONIFY_WEB_TESTS_DIR ||
  path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'toonify-web-tests');
let chromium;
try {
  ({ chromium } = require(path.join(depsDir, 'node_modules', 'playwright-core')));
} catch (e) {
  console.log('[ FAIL ] playwright-core is not installed in ' + depsDir + ': run tools/setup-web-tests.sh');
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const CHROMIUM = process.env.TOONIFY_CHROMIUM || '/usr/bin/chromium';
if (!fs.existsSync(CHROMIUM)) {
  console.log('[ FAIL ] ' + CHROMIUM + ' is missing: apt-get install chromium (tools/install-deps.sh)');
  console.log('0 passed, 1 failed');
  process.exit(1);
}

fs.rmSync(work, { recursive: true, force: true });
fs.mkdirSync(work, { recursive: true });
fs.mkdirSync(artifacts, { recursive: true });
const outputs = path.join(work, 'outputs');
const photo = path.join(shared, 'images', 'astronaut.png');
const photo2 = path.join(work, 'second photo.png');
fs.copyFileSync(photo, photo2);
const notImage = path.join(work, 'notes.png');
fs.writeFileSync(notImage, 'this is a text file with a .png name\n');

function startServer(logName) {
  return new Promise((resolve, reject) => {
    const log = fs.openSync(path.join(work, logName), 'a');
    const p = spawn(exe, ['serve', '--host', '127.0.0.1', '--port', '0', '--outputs', outputs,
      '--models', path.join(shared, 'models')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let text = '';
    const timer = setTimeout(() => { p.kill('SIGKILL'); reject(new Error('server did not start: ' + text)); }, 60000);
    p.stderr.on('data', (d) => {
      fs.writeSync(log, d);
      if (p.port) return;
      text += d.toString();
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(text);
      if (m) {
        p.port = parseInt(m[1], 10);
        clearTimeout(timer);
        resolve(p);
      }
    });
    p.on('exit', (code) => { if (!p.port) { clearTimeout(timer); reject(new Error('server exited ' + code + ': ' + text)); } });
  });
}

function stopServer(p) {
  return new Promise((resolve) => {
    if (p.exitCode !== null) return resolve(p.exitCode);
    const t = setTimeout(() => p.kill('SIGKILL'), 30000);
    p.on('exit', (code) => { clearTimeout(t); resolve(code); });
    p.kill('SIGTERM');
  });
}

let passed = 0, failed = 0;
async function flow(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    passed++;
    console.log(`[  OK  ] ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  } catch (e) {
    failed++;
    console.log(`[ FAIL ] ${name}: ${e.stack || e}`);
  }
}
function check(cond, msg) { if (!cond) throw new Error(msg); }

// Minimal headers of a 16000x12807 photo in each format the page reads: enough bytes for the
// dimensions, nothing a decoder could use.
function bigHeaders() {
  const w = 16000, h = 12807;
  const png = Buffer.alloc(64);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(png, 0);
  png.writeUInt32BE(13, 8); png.write('IHDR', 12, 'latin1');
  png.writeUInt32BE(w, 16); png.writeUInt32BE(h, 20); png[24] = 8; png[25] = 2;
  const jpg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0x00, 0x00,
    0xff, 0xc0, 0x00, 0x11, 0x08, h >> 8, h & 255, w >> 8, w & 255, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  const webp = Buffer.alloc(40);
  webp.write('RIFF', 0, 'latin1'); webp.writeUInt32LE(32, 4); webp.write('WEBPVP8X', 8, 'latin1');
  webp.writeUInt32LE(10, 16); webp.writeUIntLE(w - 1, 24, 3); webp.writeUIntLE(h - 1, 27, 3);
  return [['huge.png', 'image/png', png], ['huge.jpg', 'image/jpeg', jpg], ['huge.webp', 'image/webp', webp]];
}

// Fake API answers, for outcomes that are slow or rare to produce for real.
function fakeJob(over) {
  const now = Date.now() / 1000;
  return Object.assign({
    id: 'fake0001', state: 'done', progress: 1, filename: 'portrait.png', style: 'whitebox_cartoon_gan_dr',
    params: { size: 4096, strength: 0.7, format: 'png', quality: 90, precision: 'fp32', mode: 'official' },
    size: 4096, downgraded: false, input: { w: 512, h: 512, format: 'png', bytes: 300000 },
    output: { w: 4096, h: 4096, format: 'png', scale: 8, file: 'outputs_fake.png', bytes: 13e6, url: '/fake/result.png' },
    memory: { planned_bytes: 2e9, plan_heap_bytes: 1e9, measured_heap_bytes: 1e9, rss_peak_bytes: 2e9 },
    timings: { submitted: now - 20, queued_s: 0.1, started: now - 19, finished: now - 1, run_s: 18,
      decode_s: 0.1, network_s: 14.37, encode_s: 3 },
  }, over);
}
async function routeJob(page, job) {
  await page.route('**/api/v1/jobs?*', (r) => r.fulfill({ status: 202, contentType: 'application/json',
    body: JSON.stringify(Object.assign({}, job, { state: 'queued', progress: 0 })) }));
  await page.route('**/api/v1/jobs/' + job.id, (r) => r.fulfill({ contentType: 'application/json', body: JSON.stringify(job) }));
  await page.route('**/fake/result.png', (r) => r.fulfill({ contentType: 'image/png', body: fs.readFileSync(photo) }));
}

// Every element with the hidden attribute, and every focus stop, must take no room on screen.
async function visibleHidden(page) {
  return page.evaluate(() => Array.from(document.querySelectorAll('[hidden]'))
    .filter((el) => el.getClientRects().length > 0).map((el) => el.id || el.outerHTML.slice(0, 60)));
}
async function tabStops(page, n) {
  const stops = [];
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  for (let i = 0; i < n; i++) {
    await page.keyboard.press('Tab');
    stops.push(await page.evaluate(() => {
      const el = document.activeElement;
      if (!el || el === document.body) return null;
      return { id: el.id || el.tagName + '.' + el.className, shown: el.getClientRects().length > 0 && !el.closest('[hidden]') };
    }));
  }
  return stops.filter((s) => s);
}
// The file chooser a key opens on the focused drop zone.  Once, on a loaded machine, Enter
// pressed milliseconds after the previous chooser was filled opened nothing (as far as we can
// tell the browser was still closing that chooser; no person is that fast), so a key that opened
// nothing is pressed again, twice at most; a page that never opens one still fails.
async function chooserByKey(page, key) {
  for (let attempt = 1; ; attempt++) {
    try {
      const [chooser] = await Promise.all([page.waitForEvent('filechooser', { timeout: 5000 }), page.keyboard.press(key)]);
      return chooser;
    } catch (e) {
      if (attempt === 3) throw e;
    }
  }
}
async function tabTo(page, selector, max = 60) {
  for (let i = 0; i < max; i++) {
    if (await page.evaluate((s) => document.activeElement && document.activeElement.matches(s), selector)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error('Tab never reaches ' + selector);
}
function contrast(a, b) {
  const lum = (c) => {
    const v = c.match(/\d+(\.\d+)?/g).slice(0, 3).map((x) => {
      const s = x / 255;
      return s <= 0.03928 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

async function setRange(page, root, name, value) {
  await page.$eval(`${root} input[name=${name}]`, (el, v) => {
    el.value = v;
    el.dispatchEvent(new Event('input'));
  }, String(value));
}

(async () => {
  let server = await startServer('server1.log');
  const ctx = await chromium.launchPersistentContext(fs.mkdtempSync(path.join(work, 'profile-')), {
    executablePath: CHROMIUM,
    headless: true,
    chromiumSandbox: false,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
    timeout: 60000,
  });
  ctx.setDefaultTimeout(60000);
  const page = ctx.pages()[0] || await ctx.newPage();
  const consoleErrors = [];
  const watch = (p) => p.on('pageerror', (e) => consoleErrors.push(String(e)));
  watch(page);
  const base = () => `http://127.0.0.1:${server.port}`;
  const DESKTOP = { width: 1280, height: 900 }, PHONE = { width: 390, height: 844 };
  async function openPage(p) {
    await p.goto(base() + '/');
    await p.waitForFunction(() => document.querySelector('.p-style').options.length > 0);
  }
  async function freshPage(viewport, init, lang = 'en') {
    const p = await ctx.newPage();
    watch(p);
    await p.setViewportSize(viewport);
    if (init) await p.addInitScript(init);
    await openPage(p);
    await p.evaluate((l) => localStorage.setItem('toonify.lang', l), lang);
    await openPage(p);
    return p;
  }
  const shot = (p, name) => p.screenshot({ path: path.join(artifacts, name), fullPage: true });

  try {
    await flow('first load shows no hidden control, desktop and phone, English and Chinese', async () => {
      for (const [vname, vp] of [['desktop', DESKTOP], ['phone', PHONE]]) {
        for (const lang of ['en', 'zh']) {
          const p = await freshPage(vp, null, lang);
          const where = vname + '/' + lang + ': ';
          check((await visibleHidden(p)).length === 0, where + 'hidden elements shown: ' + await visibleHidden(p));
          const bad = (await tabStops(p, 20)).filter((s) => !s.shown);
          check(bad.length === 0, where + 'Tab stops on hidden controls: ' + JSON.stringify(bad));
          const lines = await p.$eval('#gauge-text', (el) => el.getClientRects().length &&
            Math.round(el.getBoundingClientRect().height / parseFloat(getComputedStyle(el).lineHeight)));
          check(lines === 1, where + 'the memory line takes ' + lines + ' lines');
          check(await p.getAttribute('html', 'lang') === (lang === 'zh' ? 'zh-CN' : 'en'), where + 'html lang');
          await shot(p, `web-first-${vname}-${lang}.png`);
          await p.click('#tabs [data-tab=batch]');
          check((await visibleHidden(p)).length === 0, where + 'batch tab shows hidden elements: ' + await visibleHidden(p));
          await shot(p, `web-first-batch-${vname}-${lang}.png`);
          await p.close();
        }
      }
    });

    await flow('a huge or empty photo is refused from its header, before any preview', async () => {
      const p = await freshPage(DESKTOP, `window.__objectUrls = 0; const o = URL.createObjectURL;
        URL.createObjectURL = (b) => { window.__objectUrls++; return o(b); };`);
      for (const [name, mimeType, buffer] of bigHeaders()) {
        const t0 = Date.now();
        await p.setInputFiles('#file-input', { name, mimeType, buffer });
        await p.waitForSelector('#error:not([hidden])', { timeout: 5000 });
        const text = await p.textContent('#error');
        check(/16000×12807/.test(text) && /100 Mpx/.test(text), name + ': ' + text);
        check(Date.now() - t0 < 3000, name + ': took ' + (Date.now() - t0) + ' ms');
        check(await p.evaluate(() => window.__objectUrls) === 0, name + ': an object URL was made');
        check(await p.isDisabled('#convert-btn') && await p.isHidden('#preview'), name + ': convert or preview offered');
      }
      await p.setInputFiles('#file-input', { name: 'empty.png', mimeType: 'image/png', buffer: Buffer.alloc(0) });
      await p.waitForFunction(() => /empty/.test(document.querySelector('#error').textContent), null, { timeout: 5000 });
      const text = await p.textContent('#error');
      check(/empty\.png: the file is empty/.test(text) && !/Content-Type/.test(text), 'empty file: ' + text);
      check(await p.isDisabled('#convert-btn'), 'an empty file can be converted');
      await shot(p, 'web-huge.png');
      await p.close();
    });

    await flow('single conversion with the comparison view', async () => {
      await openPage(page);
      check(await page.isHidden('#no-model'), 'the no-model banner is shown although a model exists');
      await page.setInputFiles('#file-input', photo);
      await setRange(page, '#params-single', 'size', 512);
      await page.selectOption('#params-single select[name=format]', 'jpg');
      await page.click('#convert-btn');
      await page.waitForSelector('#download:not([hidden])', { timeout: 300000 });
      await page.waitForFunction(() => document.querySelector('#result-img').naturalWidth === 512);
      const info = await page.textContent('#info');
      check(/memory planned/.test(info) && /512×512 JPG/.test(info), 'info table: ' + info);
      check(/model \d/.test(info) && !/network/.test(info), 'info calls the network time: ' + info);
      const name = await page.getAttribute('#download', 'download');
      check(/^outputs_\d{14}(_\d+)?\.jpg$/.test(name), 'download name: ' + name);
      check(await page.evaluate(async () => (await fetch(document.querySelector('#download').href)).status) === 200, 'download link');
      await page.$eval('#compare-range', (el) => { el.value = '30'; el.dispatchEvent(new Event('input')); });
      const geo = await page.evaluate(() => {
        const box = (s) => document.querySelector(s).getBoundingClientRect();
        return { c: box('#compare'), a: box('#after-wrap'), tb: box('.tag.before'), ta: box('.tag.after') };
      });
      const split = (geo.a.left - geo.c.left) / geo.c.width;
      check(Math.abs(split - 0.3) < 0.03 && Math.abs(geo.a.right - geo.c.right) < 2, 'after is not right of 30%: ' + JSON.stringify(geo));
      check(geo.tb.left < geo.ta.left, 'the "before" tag is not on the left');
      const gauge = await page.textContent('#gauge-text');
      check(/memory .* of .*B/.test(gauge), 'gauge: ' + gauge);
      await shot(page, 'web-single.png');

      await page.setInputFiles('#file-input', photo2);
      for (const s of ['#compare', '#download', '#info']) check(!(await page.isVisible(s)), s + ' of the previous photo is still shown');
      check(!(await page.getAttribute('#download', 'href')), 'the previous download link still works');
    });

    await flow('an error message a person can act on', async () => {
      await page.click('#tabs button[data-tab=single]');
      await page.setInputFiles('#file-input', notImage);
      await page.click('#convert-btn');
      await page.waitForSelector('#error:not([hidden])');
      const text = await page.textContent('#error');
      check(/notes\.png is not a photo toonify can read/.test(text) && /PNG, JPEG or WebP/.test(text), 'error: ' + text);
      check(!(await page.isVisible('#compare')) && !(await page.isVisible('#download')), 'a result is shown beside the error');
      await shot(page, 'web-error.png');
    });

    await flow('keyboard only at phone size: choose, convert, compare, download', async () => {
      const p = await freshPage(PHONE);
      await tabTo(p, '#drop');
      await (await chooserByKey(p, 'Space')).setFiles(notImage);
      await p.waitForFunction(() => /notes/.test(document.querySelector('#drop-text').textContent));
      await tabTo(p, '#drop');
      await (await chooserByKey(p, 'Enter')).setFiles(photo);
      await p.waitForFunction(() => /astronaut/.test(document.querySelector('#drop-text').textContent));
      await tabTo(p, '#params-single input[name=size]');
      await p.keyboard.press('Home');
      check(await p.textContent('#params-single .val[data-for=size]') === '512', 'Home on the size slider');
      await tabTo(p, '#convert-btn');
      await p.keyboard.press('Enter');
      await p.waitForSelector('#download:not([hidden])', { timeout: 300000 });
      await p.waitForFunction(() => document.querySelector('#result-img').naturalWidth === 512);
      await p.waitForTimeout(800);
      const inView = await p.$eval('#compare', (el) => { const r = el.getBoundingClientRect(); return r.top >= -1 && r.top < innerHeight; });
      check(inView, 'the result is not scrolled into view');
      await tabTo(p, '#compare-range');
      await p.keyboard.press('ArrowLeft');
      check(await p.$eval('#compare-range', (el) => el.value) === '49', 'the slider does not follow the arrow keys');
      await tabTo(p, '#download');
      await shot(p, 'web-keyboard-phone.png');
      await p.close();
    });

    await flow('tabs: ARIA roles and arrow keys', async () => {
      const p = await freshPage(DESKTOP);
      check(await p.getAttribute('#tabs', 'role') === 'tablist', 'no tablist');
      await tabTo(p, '#tabs [role=tab][aria-selected=true]');
      await p.keyboard.press('ArrowRight');
      const st = await p.evaluate(() => ({ focus: document.activeElement.dataset.tab,
        selected: document.querySelector('#tabs [aria-selected=true]').dataset.tab,
        panel: document.querySelector('#tab-batch').getClientRects().length > 0,
        labelled: document.querySelector('#tab-batch').getAttribute('aria-labelledby') }));
      check(st.focus === 'batch' && st.selected === 'batch' && st.panel && st.labelled, 'ArrowRight: ' + JSON.stringify(st));
      await p.keyboard.press('End');
      check(await p.evaluate(() => document.activeElement.dataset.tab) === 'settings', 'End');
      await p.keyboard.press('Home');
      check(await p.evaluate(() => document.activeElement.dataset.tab) === 'single', 'Home');
      for (const s of ['#single-progress', '#error', '#batch-progress', '#batch-error', '#batch-status', '#single-status']) {
        const live = await p.$eval(s, (el) => el.getAttribute('aria-live') || { alert: 'assertive', status: 'polite' }[el.getAttribute('role')]);
        check(live, s + ' is not a live region');
      }
      const btn = await p.$eval('#settings button.primary', (el) => [getComputedStyle(el).color, getComputedStyle(el).backgroundColor]);
      check(contrast(...btn) >= 4.5, 'primary button contrast ' + contrast(...btn).toFixed(2));
      const run = await p.evaluate(() => {
        const t = document.querySelector('#batch-table'), c = t.insertRow().insertCell();
        c.className = 'st-running';
        const col = getComputedStyle(c).color;
        t.innerHTML = '';
        return col;
      });
      check(contrast(run, 'rgb(255, 255, 255)') >= 4.5, '"running" contrast ' + contrast(run, 'rgb(255, 255, 255)').toFixed(2));
      const opts = await p.$$eval('#params-single .p-style option', (os) => os.map((o) => [o.value, o.textContent, o.title]));
      for (const [v, text, title] of opts) check(text !== v && !/_|\.tflite/.test(text) && title.includes(v), 'style option ' + [v, text, title]);
      await p.close();
    });

    await flow('a cancelled job is neutral; official mode says it worked at 720 px', async () => {
      const p = await freshPage(DESKTOP);
      await routeJob(p, fakeJob({ id: 'fake0002', state: 'cancelled', error: { error: 'cancelled', detail: 'cancelled', code: 499 } }));
      await p.setInputFiles('#file-input', photo);
      await p.click('#convert-btn');
      await p.waitForFunction(() => /cancelled/i.test(document.querySelector('#single-status').textContent), null, { timeout: 10000 });
      check(!(await p.isVisible('#error')) && !(await p.isVisible('#cancel-btn')), 'error box or Cancel after a cancelled job');
      await p.unrouteAll();
      await routeJob(p, fakeJob());
      const desc = await p.$eval('#params-single select[name=mode] option[value=official]', (o) => o.textContent);
      check(/720/.test(desc) && /upscal/.test(desc), 'official mode description: ' + desc);
      await p.selectOption('#params-single select[name=mode]', 'official');
      await p.click('#convert-btn');
      await p.waitForSelector('#info:not([hidden])', { timeout: 10000 });
      const info = await p.textContent('#info');
      check(/at 720 px/.test(info) && /model 14\.37 s/.test(info), 'official info: ' + info);
      await shot(p, 'web-official.png');
      await p.close();
    });

    await flow('memory gauge: room for jobs and their planned memory', async () => {
      const p = await freshPage(PHONE);
      await p.route('**/api/v1/status', async (r) => {
        const resp = await r.fetch().catch(() => null);
        if (!resp) return r.abort();
        const j = await resp.json();
        Object.assign(j.memory, { rss_bytes: 3e9, limit_bytes: 25e9, reserve_bytes: 1e9, baseline_bytes: 0.5e9, reserved_bytes: 11.75e9 });
        j.queue.running = 1;
        r.fulfill({ response: resp, json: j });
      });
      await p.waitForFunction(() => /23\.5 GB/.test(document.querySelector('#gauge-text').textContent), null, { timeout: 5000 });
      const w = await p.$eval('#gauge-fill', (el) => el.style.width);
      check(Math.abs(parseFloat(w) - 50) < 1, 'gauge fill ' + w + ' for 11.75 GB planned of 23.5 GB');
      const text = await p.textContent('#gauge-text');
      check(/11\.8 GB/.test(text) && /23\.5 GB/.test(text), 'gauge text: ' + text);
      await p.close();
    });

    await flow('the page in 简体中文 from the browser language, with a switch it remembers', async () => {
      const p = await freshPage(DESKTOP, `Object.defineProperty(navigator, 'language', { get: () => 'zh-CN' });
        Object.defineProperty(navigator, 'languages', { get: () => ['zh-CN', 'zh'] });`);
      await p.evaluate(() => localStorage.removeItem('toonify.lang'));
      await openPage(p);
      check(await p.getAttribute('html', 'lang') === 'zh-CN' && (await p.textContent('#convert-btn')).trim() === '转换', 'not Chinese');
      const missing = await p.evaluate(() => Object.keys(I18N.en).filter((k) => !(k in I18N.zh)));
      check(missing.length === 0, 'untranslated: ' + missing);
      const english = await p.$$eval('[data-i18n]', (els) => els.filter((e) => e.textContent.trim() === I18N.en[e.dataset.i18n]).map((e) => e.dataset.i18n));
      check(english.length === 0, 'still English: ' + english);
      await p.setInputFiles('#file-input', notImage);
      await p.click('#convert-btn');
      await p.waitForSelector('#error:not([hidden])');
      const err = await p.textContent('#error');
      check(/notes\.png/.test(err) && /无法读取/.test(err) && !/toonify can read/.test(err), 'error in Chinese: ' + err);
      await shot(p, 'web-error-zh.png');
      await p.selectOption('#lang', 'en');
      check((await p.textContent('#convert-btn')).trim() === 'Convert', 'the switch does not switch');
      await openPage(p);
      check((await p.textContent('#convert-btn')).trim() === 'Convert', 'the switch is forgotten after a reload');
      await p.close();
    });

    await flow('batch: its limit, non-images, paste, mode and precision', async () => {
      await page.click('#tabs button[data-tab=settings]');
      await page.fill('#settings input[name=maxBatch]', '2');
      await page.click('#settings button[type=submit]');
      await page.click('#tabs button[data-tab=batch]');
      const text = path.join(work, 'readme.txt');
      fs.writeFileSync(text, 'not a photo\n');
      await page.setInputFiles('#batch-files', [photo]);
      await page.evaluate(() => {
        const dt = new DataTransfer();
        dt.items.add(new File([new Uint8Array([137, 80, 78, 71])], 'pasted.png', { type: 'image/png' }));
        document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt }));
      });
      await page.waitForFunction(() => /pasted\.png/.test(document.querySelector('#batch-table').textContent), null, { timeout: 5000 });
      check(!/pasted/.test(await page.textContent('#drop-text')), 'the paste went to the single tab');
      await page.setInputFiles('#batch-files', [photo, photo2, photo, text]);
      const err = await page.textContent('#batch-error');
      check(/maximum batch size is 2/.test(err) && !/cannot be reached/.test(err), 'batch limit: ' + err);
      const rows = await page.$$eval('#batch-table tr', (trs) => trs.map((r) => r.textContent));
      check(rows.some((r) => /readme\.txt/.test(r) && /not a PNG, JPEG or WebP/.test(r)), 'no row for the non-image: ' + rows);
      for (const s of ['mode', 'precision']) check(await page.$(`#params-batch select[name=${s}]`), 'no ' + s + ' in the batch tab');
      await page.click('#tabs button[data-tab=settings]');
      await page.fill('#settings input[name=maxBatch]', '20');
      await page.click('#settings button[type=submit]');
      await page.click('#tabs button[data-tab=batch]');
    });

    await flow('batch with per-file status and a ZIP', async () => {
      await page.setInputFiles('#batch-files', [photo, photo2]);
      await setRange(page, '#params-batch', 'size', 512);
      await page.click('#batch-start');
      await page.waitForSelector('#batch-zip:not([hidden])', { timeout: 300000 });
      const status = await page.textContent('#batch-status');
      check(/2 done, 0 failed/.test(status), 'batch status: ' + status);
      check((await page.$$('#batch-gallery .card')).length === 2, 'two results in the gallery');
      const zip = await page.evaluate(async () => {
        const r = await fetch(document.querySelector('#batch-zip').href);
        const b = new Uint8Array(await r.arrayBuffer());
        return { status: r.status, type: r.headers.get('content-type'), magic: String.fromCharCode(b[0], b[1]), n: b.length };
      });
      check(zip.status === 200 && zip.type === 'application/zip' && zip.magic === 'PK' && zip.n > 1000, JSON.stringify(zip));
      await shot(page, 'web-batch.png');
    });

    await flow('a batch with failures says how many failed', async () => {
      const p = await freshPage(DESKTOP);
      const ok = fakeJob({ params: Object.assign(fakeJob().params, { mode: 'hd' }) });
      const bad = fakeJob({ id: 'fake0003', state: 'failed', filename: 'x.png', output: { w: 0, h: 0, format: 'png', scale: 0 },
        error: { error: 'unsupported format', detail: 'x.png is not a photo toonify can read (PNG, JPEG or WebP): bad', code: 415 } });
      const gone = fakeJob({ id: 'fake0004', state: 'cancelled', filename: 'y.png', output: { w: 0, h: 0, format: 'png', scale: 0 },
        error: { error: 'cancelled', detail: 'cancelled', code: 499 } });
      const b = { id: 'fakebatch', total: 5, state: 'done', progress: 1, queued: 0, running: 0, done: 2, failed: 2, cancelled: 1,
        zip_url: '/fake.zip', jobs: [ok, Object.assign({}, ok, { id: 'fake0005' }), bad, Object.assign({}, bad, { id: 'fake0006' }), gone] };
      await p.route('**/api/v1/batches', (r) => r.fulfill({ status: 202, json: { id: b.id, total: 5, jobs: [] } }));
      await p.route('**/api/v1/batches/fakebatch', (r) => r.fulfill({ json: b }));
      await p.route('**/fake/result.png', (r) => r.fulfill({ contentType: 'image/png', body: fs.readFileSync(photo) }));
      await p.click('#tabs button[data-tab=batch]');
      await p.setInputFiles('#batch-files', [photo, photo2]);
      await p.click('#batch-start');
      await p.waitForFunction(() => /failed/.test(document.querySelector('#batch-progress span').textContent), null, { timeout: 10000 });
      const bar = await p.$eval('#batch-progress', (el) => ({ text: el.textContent, cls: el.className }));
      check(/2 failed/.test(bar.text) && /1 cancelled/.test(bar.text) && /failed/.test(bar.cls), 'batch bar: ' + JSON.stringify(bar));
      const states = await p.$$eval('#batch-table tr td:last-child', (tds) => tds.map((t) => t.textContent));
      check(states.includes('cancelled') && !states.some((s) => /cancelled: cancelled/.test(s)), 'states: ' + states);
      await shot(p, 'web-batch-failed.png');
      await p.close();
    });

    await flow('history after a restart', async () => {
      check(await stopServer(server) === 0, 'server exit code after SIGTERM');
      server = await startServer('server2.log');
      await page.goto(base() + '/');
      await page.click('#tabs button[data-tab=history]');
      await page.waitForFunction(() => document.querySelectorAll('#history-list .card').length >= 4);
      const n = (await page.$$('#history-list .card')).length;
      check(n === 4, 'history shows ' + n + ' results, expected 4');
      await page.waitForFunction(() => Array.from(document.querySelectorAll('#history-list img')).every((i) => i.complete && i.naturalWidth > 0));
      const c = await page.$eval('#history-list .card', (d) => ({ meta: d.textContent, img: d.querySelector('img').outerHTML,
        full: d.querySelector('a.full') && d.querySelector('a.full').getAttribute('href') }));
      check(/hd/.test(c.meta) && /fp32/.test(c.meta) && /0\.7/.test(c.meta) && /Whitebox/.test(c.meta) && /\d\.\d s/.test(c.meta), 'card: ' + c.meta);
      check(/loading="lazy"/.test(c.img) && /width="/.test(c.img) && /height="/.test(c.img), 'card image: ' + c.img);
      check(c.full && /\/result$/.test(c.full), 'no full-size link: ' + c.full);
      check(/\?thumb=256"/.test(c.img), 'card image is not a thumbnail: ' + c.img);
      await shot(page, 'web-history.png');
      // Delete one from the keyboard: Tab reaches the button, Enter presses it, a confirm asks.
      const victim = await page.$eval('#history-list .card', (d) => d.dataset.job);
      let asked = '';
      page.once('dialog', (d) => { asked = d.message(); d.accept(); });
      await page.focus('#history-list .card a[download]');
      await page.keyboard.press('Tab');
      check(await page.evaluate(() => document.activeElement.classList.contains('delete')), 'Tab does not reach the delete button');
      await page.keyboard.press('Enter');
      await page.waitForFunction((id) => !document.querySelector('#history-list [data-job="' + id + '"]'), victim);
      check(/Delete/.test(asked), 'no confirm before deleting: ' + asked);
      const left = await page.evaluate(async () => (await fetch('/api/v1/history')).json());
      check(left.items.length === 3 && !left.items.some((j) => j.id === victim), 'deleted on the server: ' + left.items.length);
    });
    if (consoleErrors.length) { failed++; console.log('[ FAIL ] page errors: ' + consoleErrors.join('; ')); }
  } finally {
    await ctx.close().catch(() => {});
    await stopServer(server);
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed || !passed ? 1 : 0);
})().catch((e) => {
  console.log('[ FAIL ] ' + (e.stack || e));
  console.log('0 passed, 1 failed');
  process.exit(1);
});
