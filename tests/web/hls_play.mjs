#!/usr/bin/env node
// Plays an HLS playlist in a real headless browser and says, as one JSON line on stdout,
// whether it played, how long the browser thinks it is, and whether a seek played on.
//
//   node hls_play.mjs --browser chromium|firefox --engine hlsjs|native
//                     --url http://127.0.0.1:PORT/dir/episode.mp3/index.m3u8 [--seek 0.6] [--timeout 60]
//   node hls_play.mjs --browser chromium|firefox --engine demo --url http://.../index.html?autotest=...
//     (the demo page plays by itself and writes its summary: that is the result, as `demo`)
//
// The page is the playlist's own origin: the browser opens a path there that does not exist
// (a 404 is still a document of that origin), the script empties it and adds an <audio>, and
// hls.js goes in as an inline script read from node_modules. So the playlist and segment fetches
// are same-origin and the server needs no CORS header; a test can still use a page elsewhere
// with --page URL (then the server must send Access-Control-Allow-Origin).
//
// Steps, each bounded by the one deadline: the duration is known (finite, > 0), playback
// reaches 1.5 s, a seek to seek × duration completes, playback then advances 1 s past where the
// seek landed. Exit 0 when all of that happened with no fatal error, 1 otherwise (the JSON says
// which step stopped), 2 on bad arguments.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import puppeteer from 'puppeteer-core';

const require = createRequire(import.meta.url);
const HLS_JS = require.resolve('hls.js/dist/hls.min.js');
const EXECUTABLES = { chromium: '/usr/bin/chromium', firefox: '/usr/bin/firefox-esr' };
const PLAY_FIRST = 1.5;    // seconds of media played before the seek
const PLAY_AFTER = 1.0;    // seconds past the seek point that count as "played on"
// A seek lands on a segment or frame boundary at worst: more than this off the target is wrong.
const SEEK_SLACK = 1.0;

function usage(message) {
  process.stderr.write(`hls_play: ${message}\nusage: node hls_play.mjs --browser chromium|firefox ` +
    '--engine hlsjs|native --url URL [--seek 0.6] [--timeout 60] [--page URL]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { seek: 0.6, timeout: 60, page: null };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i], value = argv[i + 1];
    if (!name.startsWith('--') || value === undefined) usage(`bad argument '${name}'`);
    opts[name.slice(2)] = value;
  }
  if (!(opts.browser in EXECUTABLES)) usage('--browser must be chromium or firefox');
  if (!['hlsjs', 'native', 'demo'].includes(opts.engine)) usage('--engine must be hlsjs, native or demo');
  if (!opts.url) usage('--url is required');
  opts.seek = Number(opts.seek);
  opts.timeout = Number(opts.timeout);
  if (!(opts.seek >= 0 && opts.seek < 1)) usage('--seek is a fraction of the duration, 0 to <1');
  if (!(opts.timeout > 0)) usage('--timeout is seconds, > 0');
  return opts;
}

async function launch(browser, profile) {
  if (browser === 'chromium') {
    return puppeteer.launch({
      executablePath: EXECUTABLES.chromium, headless: true, userDataDir: profile,
      // Real time: no --virtual-time-budget, under which a media element stalls.
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
    });
  }
  return puppeteer.launch({
    browser: 'firefox', executablePath: EXECUTABLES.firefox, headless: true, userDataDir: profile,
    // puppeteer-core speaks WebDriver BiDi to Firefox (CDP for Firefox is gone).
    protocol: 'webDriverBiDi',
    extraPrefsFirefox: {
      'media.autoplay.default': 0,                 // allow play() without a gesture
      'media.cubeb.force_mock_context': true,      // no sound device on a server: a mock one
      'network.proxy.type': 0,
      'app.update.disabledForTesting': true,
      'datareporting.policy.dataSubmissionEnabled': false,
      'toolkit.telemetry.reportingpolicy.firstRun': false,
    },
  });
}

// Runs in the page. Returns the summary; never throws (a failure is a step and an error).
async function playInPage({ url, engine, seek, deadlineMs, playFirst, playAfter, seekSlack }) {
  const out = { duration: null, played_to: null, seek_target: null, seeked_to: null,
    played_after_seek: null, errors: [], warnings: [], step: 'attach', can_play_type: null };
  const audio = document.createElement('audio');
  audio.preload = 'auto';
  audio.muted = true;  // muted still decodes and advances currentTime; no device is needed
  document.body.appendChild(audio);
  out.can_play_type = audio.canPlayType('application/vnd.apple.mpegurl');
  audio.addEventListener('error', () => {
    const e = audio.error;
    out.errors.push({ source: 'media', code: e && e.code, message: e && e.message });
  });
  const end = Date.now() + deadlineMs;
  // Polls cond every 50 ms until it holds, a fatal error appears, or the deadline passes.
  const until = async (cond) => {
    while (!cond()) {
      if (out.errors.length) throw new Error('error');
      if (Date.now() > end) throw new Error('timeout');
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  let hls = null;
  try {
    if (engine === 'hlsjs') {
      // eslint-disable-next-line no-undef
      if (!Hls.isSupported()) throw Object.assign(new Error('hls.js: MSE not supported'), { fatal: true });
      // eslint-disable-next-line no-undef
      hls = new Hls({ debug: false });
      // eslint-disable-next-line no-undef
      hls.on(Hls.Events.ERROR, (_, d) => {
        const e = { source: 'hls.js', type: d.type, details: d.details, fatal: d.fatal,
          url: d.frag ? d.frag.url : (d.url || (d.context && d.context.url)) || undefined,
          reason: d.reason || (d.error && String(d.error)) || undefined };
        (d.fatal ? out.errors : out.warnings).push(e);
      });
      hls.loadSource(url);
      hls.attachMedia(audio);
    } else {
      if (!out.can_play_type) out.warnings.push({ source: 'native', message: 'canPlayType(HLS) is empty' });
      audio.src = url;
    }
    out.step = 'duration';
    await until(() => Number.isFinite(audio.duration) && audio.duration > 0);
    out.duration = audio.duration;
    out.step = 'play';
    audio.play().catch((e) => out.errors.push({ source: 'play()', message: String(e) }));
    await until(() => audio.currentTime >= playFirst);
    out.played_to = audio.currentTime;
    out.step = 'seek';
    out.seek_target = seek * audio.duration;
    let seeked = false;
    audio.addEventListener('seeked', () => { seeked = true; }, { once: true });
    audio.currentTime = out.seek_target;
    await until(() => seeked);
    out.seeked_to = audio.currentTime;
    if (Math.abs(out.seeked_to - out.seek_target) > seekSlack) {
      out.errors.push({ source: 'seek', message: `landed at ${out.seeked_to}, asked ${out.seek_target}` });
      throw new Error('error');
    }
    out.step = 'play after seek';
    await until(() => audio.currentTime >= out.seeked_to + playAfter);
    out.played_after_seek = audio.currentTime - out.seeked_to;
    out.step = 'done';
  } catch (e) {
    if (e.fatal) out.errors.push({ source: 'hls.js', message: e.message, fatal: true });
    if (e.message === 'timeout') out.errors.push({ source: 'timeout', step: out.step,
      currentTime: audio.currentTime, readyState: audio.readyState, networkState: audio.networkState });
  } finally {
    out.duration = Number.isFinite(audio.duration) ? audio.duration : out.duration;
    out.current_time = audio.currentTime;
    if (hls) hls.destroy();
    audio.removeAttribute('src');
  }
  return out;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const origin = new URL(opts.url).origin;
  const pageUrl = opts.page || `${origin}/__hls_play_page__`;  // a 404 of the playlist's origin
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), `hls_play_${opts.browser}_`));
  const result = { engine: opts.engine, browser: opts.browser, url: opts.url, ok: false };
  let browser = null;
  // The hard deadline: whatever hangs (launch, protocol, page), the browser is killed and the
  // JSON still printed.
  const killer = setTimeout(() => {
    result.errors = (result.errors || []).concat([{ source: 'hls_play', message: `hard timeout ${opts.timeout} s` }]);
    finish(1);
  }, opts.timeout * 1000);
  let finished = false;
  function finish(code) {
    if (finished) return;
    finished = true;
    clearTimeout(killer);
    process.stdout.write(JSON.stringify(result) + '\n');
    const proc = browser && browser.process();
    if (proc && proc.exitCode === null) {
      try { process.kill(-proc.pid, 'SIGKILL'); } catch { try { proc.kill('SIGKILL'); } catch { /* gone */ } }
    }
    fs.rmSync(profile, { recursive: true, force: true });
    process.exit(code);
  }
  try {
    const started = Date.now();
    browser = await launch(opts.browser, profile);
    result.browser_version = await browser.version();
    const page = await browser.newPage();
    const requests = [];
    page.on('requestfinished', (req) => {
      const resp = req.response();
      if (requests.length < 500) requests.push(`${resp ? resp.status() : '-'} ${req.url()}`);
    });
    page.on('requestfailed', (req) => {
      if (requests.length < 500) requests.push(`failed ${req.url()} ${req.failure() && req.failure().errorText}`);
    });
    if (opts.engine === 'demo') {
      // --url is the demo page with its autotest parameters: it plays by itself and writes its
      // summary into #result.
      await page.goto(opts.url, { waitUntil: 'load', timeout: opts.timeout * 1000 });
      await page.waitForFunction(() => document.getElementById('result').textContent !== '',
        { timeout: Math.max(opts.timeout * 1000 - (Date.now() - started) - 3000, 1000), polling: 100 });
      result.demo = JSON.parse(await page.evaluate(() => document.getElementById('result').textContent));
      result.errors = result.demo.error === null ? [] : [{ source: 'demo', error: result.demo.error }];
      result.ok = result.demo.seeked === true && result.errors.length === 0;
      await browser.close().catch(() => {});
      finish(result.ok ? 0 : 1);
      return;
    }
    await page.goto(pageUrl, { waitUntil: 'load', timeout: opts.timeout * 1000 });
    await page.evaluate(() => { document.documentElement.innerHTML = '<head></head><body></body>'; });
    if (opts.engine === 'hlsjs') {
      await page.addScriptTag({ content: fs.readFileSync(HLS_JS, 'utf8') });
      result.hlsjs_version = await page.evaluate(() => Hls.version);  // eslint-disable-line no-undef
    }
    // The page's own deadline ends before ours, so it reports which step it was in.
    const left = opts.timeout * 1000 - (Date.now() - started) - 3000;
    Object.assign(result, await page.evaluate(playInPage, {
      url: opts.url, engine: opts.engine, seek: opts.seek, deadlineMs: Math.max(left, 1000),
      playFirst: PLAY_FIRST, playAfter: PLAY_AFTER, seekSlack: SEEK_SLACK,
    }));
    result.requests = requests.filter((r) => !r.endsWith(pageUrl));
    result.ok = result.step === 'done' && result.errors.length === 0;
    await browser.close().catch(() => {});
    finish(result.ok ? 0 : 1);
  } catch (e) {
    result.errors = (result.errors || []).concat([{ source: 'hls_play', message: String(e && e.message || e) }]);
    finish(1);
  }
}

main();
