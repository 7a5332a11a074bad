#!/usr/bin/env node
// Page tests in a real browser: Debian's chromium driven by playwright-core, against a
// `toonify serve` this script starts on a free loopback port.  Flows: a single conversion, a
// batch with its ZIP, an error message a person can act on, and the history after a restart.
// A screenshot of each flow is kept in ARTIFACTS_DIR.
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
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  const base = () => `http://127.0.0.1:${server.port}`;

  try {
    await flow('single conversion with the comparison view', async () => {
      await page.goto(base() + '/');
      await page.waitForFunction(() => document.querySelector('.p-style').options.length > 0);
      check(await page.isHidden('#no-model'), 'the no-model banner is shown although a model exists');
      await page.setInputFiles('#file-input', photo);
      await setRange(page, '#params-single', 'size', 512);
      await page.selectOption('#params-single select[name=format]', 'jpg');
      await page.click('#convert-btn');
      await page.waitForSelector('#download:not([hidden])', { timeout: 300000 });
      await page.waitForFunction(() => document.querySelector('#result-img').naturalWidth === 512);
      const info = await page.textContent('#info');
      check(/memory planned/.test(info) && /512×512 JPG/.test(info), 'info table: ' + info);
      check((await page.getAttribute('#download', 'href')).includes('download=1'), 'download link');
      await page.$eval('#compare-range', (el) => { el.value = '30'; el.dispatchEvent(new Event('input')); });
      const clip = await page.$eval('#after-wrap', (el) => el.style.width);
      check(clip === '30%', 'the comparison slider moves the divide: ' + clip);
      const gauge = await page.textContent('#gauge-text');
      check(/memory .* MB of .* MB/.test(gauge), 'gauge: ' + gauge);
      await page.screenshot({ path: path.join(artifacts, 'web-single.png'), fullPage: true });
    });

    await flow('batch with per-file status and a ZIP', async () => {
      await page.click('#tabs button[data-tab=batch]');
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
      await page.screenshot({ path: path.join(artifacts, 'web-batch.png'), fullPage: true });
    });

    await flow('an error message a person can act on', async () => {
      await page.click('#tabs button[data-tab=single]');
      await page.setInputFiles('#file-input', notImage);
      await page.click('#convert-btn');
      await page.waitForSelector('#error:not([hidden])');
      const text = await page.textContent('#error');
      check(/notes\.png is not a photo toonify can read/.test(text) && /PNG, JPEG or WebP/.test(text), 'error: ' + text);
      await page.screenshot({ path: path.join(artifacts, 'web-error.png'), fullPage: true });
    });

    await flow('history after a restart', async () => {
      check(await stopServer(server) === 0, 'server exit code after SIGTERM');
      server = await startServer('server2.log');
      await page.goto(base() + '/');
      await page.click('#tabs button[data-tab=history]');
      await page.waitForFunction(() => document.querySelectorAll('#history-list .card').length >= 3);
      const n = (await page.$$('#history-list .card')).length;
      check(n === 3, 'history shows ' + n + ' results, expected 3');
      await page.waitForFunction(() => Array.from(document.querySelectorAll('#history-list img')).every((i) => i.complete && i.naturalWidth > 0));
      await page.screenshot({ path: path.join(artifacts, 'web-history.png'), fullPage: true });
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
