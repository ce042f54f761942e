// Drives a real headless Chromium (playwright-core, the browser from
// Debian) through the web pages of three running daemons A–B–C and prints
// what it saw as JSON; test_web.c asserts on it. Waits are polls with a
// deadline, never fixed sleeps.
// Usage: node tests/web_check.js NODE_MODULES_DIR CONFIG.json
// CONFIG: {a, b, c: base URLs; b_port; token: B's web token; artifacts: dir
// for screenshots; far_de, far_sv: titles of C's workshop; chromium: path}
'use strict';
const path = require('path');
const fs = require('fs');
const http = require('http');
const { chromium } = require(path.resolve(process.argv[2], 'playwright-core'));
const cfg = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
const DEADLINE_MS = 30000;
const out = {};

async function pollFor(what, fn) {
  const end = Date.now() + DEADLINE_MS;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 200));
  }
}

// Submits the form on the page; returns the final response (after redirects).
async function submit(page) {
  const [resp] = await Promise.all([page.waitForNavigation(), page.click('#submit')]);
  return resp;
}

// An event page at base shows title (and, if given, a report title).
async function eventShows(page, base, id, sel, text) {
  const r = await page.goto(`${base}/event/${id}`);
  if (r.status() !== 200) return false;
  const t = await page.textContent(sel).catch(() => '');
  return t.includes(text);
}

// Another site, on its own loopback port, whose page posts a form to A.
function attackerSite(fields) {
  const inputs = Object.entries(fields)
    .map(([k, v]) => `<input type="hidden" name="${k}" value="${v}">`).join('');
  const html = `<!doctype html><form id="f" method="post" action="${cfg.a}/publish/workshop">` +
    `${inputs}</form><script>document.getElementById('f').submit()</script>`;
  const srv = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end(html);
  });
  return new Promise(resolve => srv.listen(0, '127.0.0.1', () => resolve(srv)));
}

async function calendar(ctxSv, ctxDe) {
  const sv = await ctxSv.newPage();
  await sv.goto(`${cfg.a}/`);
  const row = sv.locator('li.event', { hasText: cfg.far_sv });
  out.sv_title_shown = (await row.count()) === 1;
  out.far_id = await row.getAttribute('data-id');
  // the other language one click away: open the details, follow the link
  await row.locator('details.langs summary').click();
  await row.locator('details.langs a[data-lang="de"]').click();
  await sv.waitForURL(/text_lang=de/);
  out.other_lang_one_click = (await sv.locator('li.event a.title', { hasText: cfg.far_de }).count()) === 1;
  const de = await ctxDe.newPage();
  await de.goto(`${cfg.a}/`);
  out.de_title_shown = (await de.locator('li.event a.title', { hasText: cfg.far_de }).count()) === 1;
  await de.close();
  // filter by country through the form
  await sv.goto(`${cfg.a}/`);
  await sv.selectOption('select[name=country]', 'DE');
  await Promise.all([sv.waitForNavigation(), sv.click('#filters button')]);
  out.country_filter_count = await sv.locator('li.event').count();
  // C's event page, as A shows it
  await sv.click(`li.event[data-id="${out.far_id}"] a.title`);
  await sv.waitForURL(/\/event\//);
  out.far_org = await sv.textContent('#org');
  out.far_signature = await sv.textContent('#signature');
  out.far_fields = await sv.textContent('table.fields');
  return sv;
}

async function fillWorkshop(page, title, start, end) {
  await page.goto(`${cfg.a}/publish/workshop`);
  await page.selectOption('#f-lang_1', 'sv');
  await page.selectOption('#f-lang_2', 'en');
  await page.fill('#f-title_1', title);
  await page.fill('#f-title_2', `${title} (en)`);
  await page.fill('#f-start', start);
  await page.fill('#f-end', end);
  await page.selectOption('#f-tz', 'Europe/Stockholm');
  await page.fill('#f-place', 'Lärcentrum, Stationsgatan 2, Östhammar');
  await page.fill('#f-capacity', '20');
  await page.fill('#f-themes', 'workplace learning, validation');
  await page.fill('#f-roles', 'teachers, company representatives');
}

async function publishing(page) {
  // a bad field first: the end before the start
  await fillWorkshop(page, 'APL-handledning för företag', '2027-05-11T13:00', '2027-05-11T09:00');
  const bad = await submit(page);
  out.bad_status = bad.status();
  out.bad_end_message = (await page.textContent('#error-end').catch(() => '')) || '';
  out.bad_focus = await page.evaluate(() => document.activeElement && document.activeElement.id);
  out.bad_summary_link = await page.getAttribute('#error li a[href="#f-end"]', 'href').catch(() => '');
  out.bad_value_kept = (await page.inputValue('#f-title_1')) === 'APL-handledning för företag';
  // then the real one
  await fillWorkshop(page, 'APL-handledning för företag', '2027-05-11T09:00', '2027-05-11T12:00');
  const ok = await submit(page);
  out.published_notice = ok.status() === 200 && (await page.locator('#published').count()) === 1;
  const id = page.url().match(/\/event\/([0-9a-f]{64})/)[1];
  // it reaches C, two hops away
  const atC = await page.context().newPage();
  out.workshop_at_c = await pollFor('the workshop at C', () =>
    eventShows(atC, cfg.c, id, '#title', 'APL-handledning för företag'));
  // a network meeting
  await page.goto(`${cfg.a}/publish/meeting`);
  await page.selectOption('#f-lang_1', 'sv');
  await page.selectOption('#f-lang_2', '');
  await page.fill('#f-title_1', 'Nätverksträff Mälardalen');
  await page.fill('#f-start', '2027-06-03T13:00');
  await page.fill('#f-end', '2027-06-03T16:00');
  await page.fill('#f-online_url', 'https://meet.example.org/malardalen');
  const m = await submit(page);
  out.meeting_at_a = m.status() === 200 &&
    (await page.textContent('#title')).includes('Nätverksträff Mälardalen');
  // an experience report about C's workshop, listed on C's own page
  await page.goto(`${cfg.a}/publish/experience?about=${out.far_id}`);
  await page.selectOption('#f-lang_1', 'sv');
  await page.selectOption('#f-lang_2', '');
  await page.fill('#f-title_1', 'Erfarenheter från Lernwerkstatt');
  await page.fill('#f-text_1', 'Vi provade lärverkstaden med två företag och tolv elever.');
  await page.fill('#f-participants', 'students=12\nteachers=2');
  const e = await submit(page);
  out.report_published = e.status() === 200;
  out.report_listed_at_c = await pollFor('the report at C', () =>
    eventShows(atC, cfg.c, out.far_id, '#reports', 'Erfarenheter från Lernwerkstatt'));
  await atC.close();
}

async function forgery(ctx) {
  const fields = {
    network: 'nordic-wbl', lang_1: 'sv', title_1: 'Förfalskad workshop', lang_2: '',
    start: '2027-07-01T09:00', end: '2027-07-01T12:00', tz: 'Europe/Stockholm',
    place: 'Stationsgatan 2, Östhammar',
  };
  // the page's own CSRF token, as if it had leaked: Origin still gives it away
  const own = await ctx.newPage();
  await own.goto(`${cfg.a}/publish/workshop`);
  const leaked = await own.getAttribute('input[name=csrf]', 'value');
  await own.close();
  out.forged_status = 0;
  for (const f of [fields, { ...fields, csrf: leaked }]) {
    const srv = await attackerSite(f);
    const page = await ctx.newPage();
    const refused = page.waitForResponse(r => r.url().startsWith(`${cfg.a}/publish/`));
    await page.goto(`http://127.0.0.1:${srv.address().port}/`);
    const status = (await refused).status();
    if (out.forged_status === 0 || status !== 403) out.forged_status = status;
    await page.close();
    srv.close();
  }
  const cal = await ctx.newPage();
  await cal.goto(`${cfg.a}/?lang=sv`);
  out.forged_published = (await cal.locator('li.event', { hasText: 'Förfalskad' }).count()) > 0;
  await cal.close();
}

// B seen under a name that is not loopback (as after DNS rebinding, or over
// the LAN): only the sign-in page until the token is given.
async function nonLocal(ctx) {
  const base = `http://lernet-b.example:${cfg.b_port}`;
  const page = await ctx.newPage();
  const r = await page.goto(`${base}/`);
  out.nonlocal_status = r.status();
  out.nonlocal_leaked = (await page.content()).includes('Innovationscamp');
  await page.fill('input[name=token]', 'not-the-token-not-the-token-not-the');
  const wrong = await Promise.all([page.waitForNavigation(), page.click('button')]);
  out.wrong_token_status = wrong[0].status();
  await page.fill('input[name=token]', cfg.token);
  const ok = await Promise.all([page.waitForNavigation(), page.click('button')]);
  out.nonlocal_after_login = ok[0].status() === 200 &&
    (await page.content()).includes('Innovationscamp');
  await page.close();
}

// Screenshots of what staff and operators see, once everything is in.
async function screenshots(ctx) {
  const page = await ctx.newPage();
  await page.goto(`${cfg.a}/`);
  await page.screenshot({ path: path.join(cfg.artifacts, 'calendar.png'), fullPage: true });
  await page.goto(`${cfg.a}/health`);
  out.health_peers_up = await page.locator('#peers tr.peer td.ok').count();
  await page.screenshot({ path: path.join(cfg.artifacts, 'health.png'), fullPage: true });
  out.screenshots = true;
  await page.close();
}

(async () => {
  const browser = await chromium.launch({
    executablePath: cfg.chromium,
    headless: true,
    args: ['--host-resolver-rules=MAP lernet-b.example 127.0.0.1', '--no-proxy-server',
      '--disable-features=HttpsUpgrades,HttpsFirstBalancedModeAutoEnable'],
  });
  try {
    const view = { viewport: { width: 1100, height: 800 } };
    const ctxSv = await browser.newContext({ ...view, locale: 'sv-SE' });
    const ctxDe = await browser.newContext({ ...view, locale: 'de-DE' });
    const page = await calendar(ctxSv, ctxDe);
    await publishing(page);
    await forgery(ctxSv);
    await nonLocal(await browser.newContext(view));
    await screenshots(ctxSv);
  } catch (e) {
    out.error = String(e && e.stack || e);
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(out));
})();
