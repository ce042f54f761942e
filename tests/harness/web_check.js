// Drives a real headless Chromium (playwright-core, the browser from
// Debian) through the web pages of three running daemons A–B–C and prints
// what it saw as JSON; test_web.c asserts on it. Waits are polls with a
// deadline, never fixed sleeps. Then every page and state (calendar, event,
// each form (the goal's too) empty and sent back with errors, a thread with a reply and its
// file posted through the thread's form, correction and cancel forms,
// health, library, sign-in, an error page) is audited on a 375-px phone:
// axe-core with the WCAG 2.1 A and AA rules, the width of the page, and its
// HTML as served saved for the Nu HTML checker (vnu.jar, run once over all
// of them at the end); a workshop is published, corrected and cancelled
// with the keyboard alone (Tab, Enter, typing); and the page is read in
// each of its five languages.
// Usage: node tests/web_check.js NODE_MODULES_DIR CONFIG.json
// CONFIG: {a, b, c: base URLs; b_port; token: B's web token; artifacts: dir
// for screenshots; far_de, far_sv: titles of C's workshop; chromium: path}
'use strict';
const path = require('path');
const fs = require('fs');
const http = require('http');
const { chromium } = require(path.resolve(process.argv[2], 'playwright-core'));
const cfg = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
const AXE = path.resolve(process.argv[2], 'axe-core', 'axe.min.js');
const VNU = path.resolve(process.argv[2], 'vnu-jar', 'build', 'dist', 'vnu.jar');
const PHONE = 375;
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
  out.own_id = id;
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

// ---- keyboard only ------------------------------------------------------

// Presses Tab until the element matching sel has the focus (at most max
// presses); returns how many it took, or throws.
async function tabTo(page, sel, max = 80) {
  for (let i = 1; i <= max; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(s => document.activeElement && document.activeElement.matches(s), sel))
      return i;
  }
  throw new Error(`${max} Tab presses did not reach ${sel}`);
}

// Types into the focused control (Tab into a text box selects what it holds,
// so typing replaces it).
async function tabType(page, sel, text) {
  await tabTo(page, sel);
  await page.keyboard.type(text);
}

// A date and time box: its day, month and year take digits in turn, then
// Tab moves to its hours and minutes (Chromium's segments).
async function tabDateTime(page, sel, dmy, hm) {
  await tabTo(page, sel);
  await page.keyboard.type(dmy);
  await page.keyboard.press('Tab');
  await page.keyboard.type(hm);
}

// A workshop published, corrected and cancelled without the mouse: Tab to
// each field, type, Tab to the button, Enter. en-US: the date and time
// boxes take month, day, year, then hours, minutes and AM/PM.
async function keyboard(browser) {
  const ctx = await browser.newContext({ viewport: { width: 1100, height: 800 }, locale: 'en-US' });
  const page = await ctx.newPage();
  const title = 'Arbetsplatsförlagt lärande – handledarutbildning';
  await page.goto(`${cfg.a}/`);
  // the skip link comes first, and takes the focus past the header
  out.kb_skip_first = (await tabTo(page, 'a.skip', 1)) === 1;
  await tabTo(page, 'a[href="/publish/workshop"]');
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  await tabType(page, '#f-title_1', title);
  await tabType(page, '#f-title_2', 'Workplace learning – training for supervisors');
  await tabDateTime(page, '#f-start', '09152027', '0100P');
  await tabDateTime(page, '#f-end', '09152027', '0400P');
  await tabType(page, '#f-place', 'Lärcentrum, Stationsgatan 2, Östhammar');
  out.kb_start_value = await page.inputValue('#f-start');
  await tabTo(page, '#submit');
  const pub = (await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]))[0];
  out.kb_published = pub.status() === 200 && (await page.locator('#published').count()) === 1 &&
    (await page.textContent('#title')).includes('Workplace learning – training for supervisors');
  // correct it: the place
  await tabTo(page, 'a#edit');
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  await tabType(page, '#f-place', 'Stationsgatan 4, Östhammar');
  await tabTo(page, '#submit');
  const upd = (await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]))[0];
  out.kb_updated = upd.status() === 200 && (await page.locator('#updated').count()) === 1 &&
    (await page.textContent('table.fields')).includes('Stationsgatan 4, Östhammar');
  // and cancel it
  await tabTo(page, 'a#cancel');
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  await tabType(page, '#f-reason', 'Handledarna är upptagna den veckan');
  await tabTo(page, '#submit');
  const can = (await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]))[0];
  out.kb_cancelled = can.status() === 200 && (await page.locator('#cancelled').count()) === 1 &&
    (await page.textContent('#cancelled')).includes('Handledarna är upptagna');
  await ctx.close();
}

// ---- audits ---------------------------------------------------------------

const audited = { pages: 0, axe: [], wide: [], files: [] };

// One page state: its HTML as the server sent it (for vnu), its width on a
// phone, and axe-core's WCAG 2.1 A/AA rules over it.
async function audit(page, name, resp) {
  const html = resp ? await resp.text() : await page.content();
  const file = path.join(cfg.artifacts, 'html', `${String(audited.pages).padStart(2, '0')}-${name}.html`);
  fs.writeFileSync(file, html);
  audited.files.push(file);
  audited.pages++;
  const width = await page.evaluate(() => document.scrollingElement.scrollWidth);
  if (width > PHONE) audited.wide.push({ page: name, width });
  // put in by the context's init script (parsed once per page, not per call)
  if (!(await page.evaluate(() => typeof axe !== 'undefined')))
    await page.addScriptTag({ path: AXE });
  const res = await page.evaluate(() => axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    resultTypes: ['violations'],
  }));
  for (const v of res.violations)
    audited.axe.push({ page: name, rule: v.id, impact: v.impact,
      nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ')) });
}

async function visit(page, name, url) {
  const resp = await page.goto(url);
  await audit(page, name, resp);
}

// The form at url sent back: emptied of what it needs (or given what it
// refuses: fill, selector to value), so that it comes back with its errors.
async function formError(page, name, url, clear, fill = {}) {
  await page.goto(url);
  for (const sel of clear) await page.fill(sel, '');
  for (const [sel, v] of Object.entries(fill)) await page.fill(sel, v);
  const resp = (await Promise.all([page.waitForNavigation(), page.click('#submit')]))[0];
  await audit(page, name, resp);
}

// A reply with a file, through the thread form under A's own workshop:
// the thread it comes back to is audited, and must list the file with its
// download link.
async function threadReplyFile(page, id) {
  await page.goto(`${cfg.a}/event/${id}`);
  await page.fill('form.reply #f-text_1', 'Tack för i dag! Närvarolistan och bilderna finns i filen.');
  await page.setInputFiles('form.reply #f-attachment', {
    name: 'Träffen i Östhammar.pdf', mimeType: 'application/pdf',
    buffer: Buffer.from('%PDF-1.4\n% lernet web_check\n'.repeat(64)),
  });
  const resp = (await Promise.all([page.waitForNavigation(), page.click('#reply-submit')]))[0];
  const link = page.locator('#thread li.reply ul.files a[download]', { hasText: 'Träffen i Östhammar.pdf' });
  out.thread_reply_file = resp.status() === 200 && (await page.locator('#published').count()) === 1 &&
    (await link.count()) === 1 && /\/event\/[0-9a-f]{64}\/file\/0$/.test(await link.getAttribute('href'));
  await audit(page, 'thread-reply-file', resp);
}

async function audits(browser) {
  // bypassCSP: only so that axe-core can be put into the page; the server's
  // policy itself is checked by the raw HTTP tests
  const phone = { viewport: { width: PHONE, height: 740 }, bypassCSP: true };
  fs.mkdirSync(path.join(cfg.artifacts, 'html'), { recursive: true });
  const ctx = await browser.newContext({ ...phone, locale: 'en-GB' });
  await ctx.addInitScript({ path: AXE });
  const page = await ctx.newPage();
  const a = cfg.a, own = out.own_id, far = out.far_id;
  await visit(page, 'calendar', `${a}/`);
  await visit(page, 'calendar-month', `${a}/?from=2027-04-01&span=month`);
  await visit(page, 'calendar-week', `${a}/?from=2027-05-11&span=week&country=SE`);
  await visit(page, 'event-far', `${a}/event/${far}`);
  await visit(page, 'event-own', `${a}/event/${own}?published=1`);
  await threadReplyFile(page, own);
  for (const k of ['workshop', 'meeting', 'experience', 'resource', 'reply'])
    await visit(page, `form-${k}`, `${a}/publish/${k}`);
  await formError(page, 'form-workshop-error', `${a}/publish/workshop`, ['#f-title_1', '#f-start']);
  await formError(page, 'form-meeting-error', `${a}/publish/meeting`, ['#f-title_1', '#f-end']);
  await formError(page, 'form-experience-error', `${a}/publish/experience`, ['#f-title_1']);
  await formError(page, 'form-resource-error', `${a}/publish/resource`, ['#f-title_1']);
  await formError(page, 'form-reply-error', `${a}/publish/reply`, ['#f-text_1']);
  await visit(page, 'edit', `${a}/event/${own}/edit`);
  await formError(page, 'edit-error', `${a}/event/${own}/edit`, ['#f-title_1']);
  await visit(page, 'cancel', `${a}/event/${own}/cancel`);
  await visit(page, 'health', `${a}/health`);
  await visit(page, 'library', `${a}/library`);
  await visit(page, 'goals', `${a}/goals`);
  await visit(page, 'search', `${a}/search`);
  await visit(page, 'search-results', `${a}/search?q=Innovationscamp`);
  await visit(page, 'search-none', `${a}/search?q=zzqxnothingzz`);
  await visit(page, 'publish-goal', `${a}/publish/goal`);
  await formError(page, 'publish-goal-error', `${a}/publish/goal`, ['#f-title_1', '#f-target']);
  await visit(page, 'publish-feedback', `${a}/publish/feedback`);
  // the questionnaire form: drawn, sent back with its errors, then sent
  // whole (its page audited); the feedback form's counts for A's own
  // workshop and that questionnaire, then too few respondents
  await visit(page, 'publish-questionnaire', `${a}/publish/questionnaire`);
  await formError(page, 'publish-questionnaire-error', `${a}/publish/questionnaire`,
    ['#f-title_1', '#f-q1_text_1'], { '#f-q2_text_1': 'Kan du använda det?', '#f-q2_max': '99' });
  await page.goto(`${a}/publish/questionnaire`);
  await page.fill('#f-title_1', 'Deltagarnas utvärdering');
  await page.fill('#f-q1_text_1', 'Hur nöjd är du med aktiviteten?');
  await page.fill('#f-q1_low_1', 'Inte alls');
  await page.fill('#f-q1_high_1', 'Mycket');
  await page.fill('#f-q2_text_1', 'Kan du använda det i ditt arbete?');
  const qr = (await Promise.all([page.waitForNavigation(), page.click('#submit')]))[0];
  await audit(page, 'questionnaire', qr);
  const qid = (page.url().match(/\/event\/([0-9a-f]{64})/) || [])[1];
  out.questionnaire_published = qr.status() === 200 && !!qid;
  const counts = `${a}/publish/feedback?about=${own}&questionnaire=${qid}`;
  await visit(page, 'publish-feedback-counts', counts);
  out.feedback_counts = await page.locator('fieldset.counts input[type=number]').count();
  await formError(page, 'publish-feedback-error', counts, [],
    { '#f-respondents': 'teachers=3', '#f-r1_v4': '3', '#f-r2_v5': '2' });
  out.feedback_errors = await page.evaluate(() => document.querySelectorAll('.field-error').length);
  await visit(page, 'not-found', `${a}/event/0123456789abcdef`);
  // the sign-in page, as a visitor from elsewhere sees it, and after a wrong code
  const b = `http://lernet-b.example:${cfg.b_port}`;
  await visit(page, 'sign-in', `${b}/`);
  await page.fill('#f-token', 'not-the-token-not-the-token-not-the');
  const wrong = (await Promise.all([page.waitForNavigation(), page.click('#submit')]))[0];
  await audit(page, 'sign-in-error', wrong);
  await ctx.close();
  // the other languages, side by side: the pages where their words, dates
  // and lang attributes differ most
  await Promise.all([['sv', 'sv-SE'], ['da', 'da-DK'], ['de', 'de-DE'], ['fi', 'fi-FI']].map(
    async ([lang, loc]) => {
      const c = await browser.newContext({ ...phone, locale: loc });
      await c.addInitScript({ path: AXE });
      const p = await c.newPage();
      await visit(p, `calendar-${lang}`, `${a}/?from=2027-04-01&span=month`);
      await visit(p, `event-${lang}`, `${a}/event/${far}`);
      await visit(p, `goals-${lang}`, `${a}/goals`);
      await visit(p, `search-${lang}`, `${a}/search?q=Innovationscamp`);
      await formError(p, `form-error-${lang}`, `${a}/publish/workshop`, ['#f-title_1']);
      await formError(p, `questionnaire-error-${lang}`, `${a}/publish/questionnaire`,
        ['#f-title_1'], { '#f-q1_text_1': 'Hur nöjd är du?', '#f-q1_max': '20' });
      await c.close();
    }));
  out.audit_pages = audited.pages;
  out.axe_violations = audited.axe;
  out.too_wide = audited.wide;
  const t = Date.now();
  out.vnu = vnu(audited.files);
  out.vnu_ms = Date.now() - t;
}

// The Nu HTML checker over every saved page at once (one JVM start).
function vnu(files) {
  const { spawnSync } = require('child_process');
  const r = spawnSync('java', ['-jar', VNU, '--errors-only', '--format', 'json', '--stdout', ...files],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) return { ran: false, why: String(r.error) };
  let doc;
  try { doc = JSON.parse(r.stdout); } catch (e) { return { ran: false, why: r.stdout + r.stderr }; }
  const errors = doc.messages.filter(m => m.type === 'error' || m.type === 'non-document-error')
    .map(m => ({ file: path.basename(m.url || ''), line: m.lastLine, message: m.message }));
  return { ran: true, files: files.length, errors };
}

// The page in each of its five languages: the browser's language chooses
// it, <html lang> says it, and the menu switches it for the next pages too.
async function languages(browser) {
  const want = { en: 'Node health', sv: 'Nodens status', da: 'Nodens tilstand',
    de: 'Zustand des Knotens', fi: 'Solmun tila' };
  const seen = {};
  for (const [lang, loc] of [['en', 'en-GB'], ['sv', 'sv-SE'], ['da', 'da-DK'], ['de', 'de-DE'], ['fi', 'fi-FI']]) {
    const c = await browser.newContext({ locale: loc });
    const p = await c.newPage();
    await p.goto(`${cfg.a}/`);
    seen[lang] = (await p.getAttribute('html', 'lang')) === lang &&
      (await p.textContent('header nav a[href="/health"]')) === want[lang];
    await c.close();
  }
  out.languages = seen;
  // the menu: German chosen on a Swedish browser, kept on the next page
  const c = await browser.newContext({ locale: 'sv-SE' });
  const p = await c.newPage();
  await p.goto(`${cfg.a}/library`);
  await Promise.all([p.waitForNavigation(), p.click('nav.langs a[hreflang="de"]')]);
  await p.goto(`${cfg.a}/health`);
  out.menu_kept = (await p.getAttribute('html', 'lang')) === 'de' &&
    (await p.textContent('h1')) === 'Zustand des Knotens';
  await c.close();
}

// Screenshots of what staff and operators see, once everything is in.
async function screenshots(ctx) {
  const page = await ctx.newPage();
  await page.goto(`${cfg.a}/`);
  await page.screenshot({ path: path.join(cfg.artifacts, 'calendar.png'), fullPage: true });
  await page.goto(`${cfg.a}/health`);
  out.health_peers_up = await page.locator('#peers tr.peer td.ok').count();
  await page.screenshot({ path: path.join(cfg.artifacts, 'health.png'), fullPage: true });
  const phone = await ctx.browser().newContext({ viewport: { width: PHONE, height: 740 }, locale: 'sv-SE' });
  const pp = await phone.newPage();
  await pp.goto(`${cfg.a}/event/${out.far_id}`);
  await pp.screenshot({ path: path.join(cfg.artifacts, 'event-phone.png'), fullPage: true });
  await phone.close();
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
    const t0 = Date.now(), ms = {};
    const step = async (name, fn) => { const t = Date.now(); await fn(); ms[name] = Date.now() - t; };
    let page;
    await step('calendar', async () => { page = await calendar(ctxSv, ctxDe); });
    await step('publishing', () => publishing(page));
    await step('forgery', () => forgery(ctxSv));
    await step('nonlocal', async () => nonLocal(await browser.newContext(view)));
    await step('keyboard', () => keyboard(browser));
    await step('languages', () => languages(browser));
    await step('audits', () => audits(browser));
    await step('screenshots', () => screenshots(ctxSv));
    ms.total = Date.now() - t0;
    out.ms = ms;
  } catch (e) {
    out.error = String(e && e.stack || e);
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(out));
})();
