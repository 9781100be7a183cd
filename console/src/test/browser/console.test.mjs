// The console in a real browser (Chromium, headless, driven by playwright-core) against a running platform.
// Run by platform-local's ConsoleBrowserIT; each scenario prints "ok NAME" or "not ok NAME: why" and the exit code
// is the number of failures. Environment: OSFRIA_URL, OSFRIA_ADMIN_KEY, OSFRIA_USER_KEY (reads and writes
// COLLECTION in department "sales" only), CHROMIUM, PDF (a PDF whose text holds the word "remboursement"),
// RECEIVER (a webhook receiver URL), SCREENSHOTS (a folder).
import { chromium } from 'playwright-core';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

const env = (name) => {
  if (!process.env[name]) throw new Error(`${name} is not set`);
  return process.env[name];
};
const URL_ = env('OSFRIA_URL');
const ADMIN = env('OSFRIA_ADMIN_KEY');
const USER = env('OSFRIA_USER_KEY');
const COLLECTION = env('COLLECTION');
const SHOTS = env('SCREENSHOTS');
const HOSTILE = '<img src=x onerror="window.__xss=1">';
const T = 60_000;

let failures = 0;
async function scenario(name, body) {
  const started = Date.now();
  try {
    await body();
    console.log(`ok ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    failures++;
    console.log(`not ok ${name}: ${String(e && e.stack || e).split('\n').slice(0, 4).join(' | ')}`);
  }
}
function check(condition, message) {
  if (!condition) throw new Error(message);
}

/** A document of another department, uploaded through the API with the admin key: the user key must not see it. */
async function apiUpload(name, text, metadata) {
  const form = new FormData();
  form.append('file', new Blob([text], { type: 'text/plain' }), name);
  form.append('collection', COLLECTION);
  form.append('metadata', JSON.stringify(metadata));
  const r = await fetch(`${URL_}/api/v1/documents`, { method: 'POST', headers: { Authorization: `Bearer ${ADMIN}` }, body: form });
  const body = await r.text();
  check(r.status === 202 || r.status === 200, `upload ${name}: ${r.status} ${body}`);
  return JSON.parse(body).document_id;
}

const browser = await chromium.launch({ executablePath: env('CHROMIUM'), headless: true });
const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'en-US' });
const page = await context.newPage();
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(String(e)));
page.on('dialog', (d) => d.accept());
const shot = (name) => page.screenshot({ path: join(SHOTS, `${name}.png`) });
const nav = (name) => page.click(`#nav button[data-page="${name}"]`);

async function signIn(p, key) {
  await p.goto(`${URL_}/console`);
  await p.locator('#key').waitFor();
  // the key field has the focus: typed and sent from the keyboard alone
  await p.keyboard.type(key);
  await p.keyboard.press('Enter');
}

await scenario('a wrong key gets a clear message', async () => {
  await signIn(page, 'sk-osfria-not-a-key-0000000000000000');
  const error = page.locator('#signin-error');
  await error.waitFor({ timeout: T });
  check(/not valid/.test(await error.textContent()), `message: ${await error.textContent()}`);
  check(await page.evaluate(() => sessionStorage.getItem('osfria.key')) === null, 'a refused key was kept');
  await shot('signin');
});

await scenario('the admin signs in and sees every page, Audit included', async () => {
  await page.fill('#key', ADMIN);
  await page.click('#signin');
  await page.locator('#nav').waitFor({ state: 'visible', timeout: T });
  check(await page.isVisible('#nav button[data-page="audit"]'), 'no Audit page for the admin');
  const stored = await page.evaluate(() => ({ session: sessionStorage.getItem('osfria.key'), local: localStorage.length, cookie: document.cookie }));
  check(stored.session === ADMIN && stored.local === 0 && stored.cookie === '', `key kept as ${JSON.stringify(stored)}`);
  check(!page.url().includes('sk-osfria'), 'the key is in the URL');
  // who the key is comes from GET /me
  check(/admin/.test(await page.locator('#whoami').textContent()), `whoami: ${await page.locator('#whoami').textContent()}`);
});

let otherDepartment;
await scenario('a PDF uploaded by drag and drop reaches indexed, with a hostile department shown as text', async () => {
  otherDepartment = await apiUpload('finance-only.txt', 'Budget confidentiel de la finance: remboursement des frais de mission.', { department: 'finance' });
  await nav('documents');
  await page.fill('#documents-collection', COLLECTION);
  await page.fill('#upload-department', 'sales');
  const pdf = await readFile(env('PDF'));
  const transfer = await page.evaluateHandle((bytes) => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(bytes)], 'rapport-frais.pdf', { type: 'application/pdf' }));
    return dt;
  }, [...pdf]);
  await page.dispatchEvent('#drop', 'drop', { dataTransfer: transfer });
  await page.locator('#upload-result .ok').waitFor({ timeout: T });
  check(await page.locator('#upload-progress').evaluate((p) => p.value) === 1, 'the progress bar did not reach the end');
  // the hostile value, through the same form
  await page.fill('#upload-department', HOSTILE);
  await page.setInputFiles('#upload-file', { name: 'hostile.txt', mimeType: 'text/plain',
    buffer: Buffer.from(`Note ${HOSTILE} sur le remboursement.`) });
  await page.click('#upload-submit');
  await page.locator('#upload-result .ok').nth(0).waitFor({ timeout: T });
  const row = page.locator('tr', { hasText: 'rapport-frais.pdf' });
  await row.locator('.doc-status', { hasText: 'indexed' }).waitFor({ timeout: T });
  await page.locator('tr', { hasText: 'hostile.txt' }).waitFor({ timeout: T });
  const shown = await page.locator('#documents').textContent();
  check(shown.includes(HOSTILE), 'the hostile department is not shown as text');
  check(await page.locator('#documents img').count() === 0, 'the hostile department became an element');
  check(await page.evaluate(() => window.__xss === undefined), 'a hostile value ran script');
  await shot('documents');
});

await scenario('search finds the PDF, passage highlighted, with page and score', async () => {
  await nav('search');
  await page.fill('#search-query', 'remboursement');
  await page.fill('#search-collection', COLLECTION);
  await page.selectOption('#search-mode', 'keyword');
  await page.click('#search-submit');
  const hit = page.locator('.hit', { hasText: 'rapport-frais.pdf' }).first();
  await hit.waitFor({ timeout: T });
  check(await hit.locator('mark').count() > 0, 'no highlighted word');
  check(/page 1/.test(await hit.textContent()) && /score/.test(await hit.textContent()), `hit: ${await hit.textContent()}`);
  check(await page.locator('#search-results img').count() === 0 && await page.evaluate(() => window.__xss === undefined),
    'a hostile passage became HTML');
  await shot('search');
});

await scenario('chat streams an answer from my documents with a numbered citation', async () => {
  await nav('chat');
  await page.locator('#chat-model option').first().waitFor({ state: 'attached', timeout: T });
  await page.check('#chat-rag');
  await page.fill('#chat-collections', COLLECTION);
  await page.fill('#chat-prompt', 'Quelle est la procédure de remboursement ?');
  // streamed: the answer is seen growing, piece by piece, before it ends
  await page.evaluate(() => {
    window.__seen = [];
    new MutationObserver(() => {
      const a = document.querySelector('.answer');
      if (a && a.getAttribute('aria-busy') === 'true') window.__seen.push(a.textContent.length);
    }).observe(document.getElementById('chat-log'), { subtree: true, childList: true, characterData: true });
  });
  await page.click('#chat-send');
  await page.locator('.answer[aria-busy="false"]').waitFor({ timeout: T });
  await page.locator('.citations a[href="#hit-1"]').waitFor({ timeout: T });
  check(await page.locator('#hit-1').count() === 1, 'citation [1] links nowhere');
  const seen = await page.evaluate(() => new Set(window.__seen.filter((n) => n > 0)).size);
  check(seen >= 3, `the answer was not streamed (${seen} partial texts seen)`);
  await shot('chat');
});

await scenario('a webhook delivery appears and is replayed', async () => {
  await nav('webhooks');
  await page.fill('#webhook-url', env('RECEIVER'));
  await page.click('#webhook-create');
  const secret = await page.locator('#webhook-secret').textContent({ timeout: T });
  check(secret.startsWith('whsec_'), `secret: ${secret}`);
  const sub = page.locator('.subscription', { hasText: env('RECEIVER') });
  await sub.locator('button.ping').click();
  const delivered = sub.locator('tr[data-delivery]', { has: page.locator('.delivery-status', { hasText: 'delivered' }) });
  for (let i = 0; i < 40 && await delivered.count() === 0; i++) {
    await page.waitForTimeout(500);
    await sub.locator('button.show-deliveries').click();
  }
  check(await delivered.count() > 0, 'no delivered delivery');
  const id = await delivered.first().getAttribute('data-delivery');
  await delivered.first().locator('button.replay').click();
  const attempts = sub.locator(`tr[data-delivery="${id}"] .delivery-attempts`);
  for (let i = 0; i < 40 && Number(await attempts.textContent()) < 2; i++) {
    await page.waitForTimeout(500);
    await sub.locator('button.show-deliveries').click();
  }
  check(Number(await attempts.textContent()) >= 2, `attempts after replay: ${await attempts.textContent()}`);
  await shot('webhooks');
});

await scenario('usage shows tokens per day as a chart', async () => {
  await nav('usage');
  await page.locator('svg.chart rect.bar').first().waitFor({ state: 'attached', timeout: T });
  await shot('usage');
});

await scenario('the admin reads the audit log with filters', async () => {
  await nav('audit');
  await page.selectOption('#audit-action', 'document.upload');
  await page.click('#audit-submit');
  // the page first shows every action; the filtered answer replaces it
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('#audit tbody tr')];
    return rows.length > 0 && rows.every((r) => r.textContent.includes('document.upload'));
  }, null, { timeout: T });
  await shot('audit');
});

await scenario('the console speaks French', async () => {
  await page.selectOption('#lang', 'fr');
  check(await page.locator('#nav button[data-page="search"]').textContent() === 'Recherche', 'not in French');
  check(await page.evaluate(() => document.documentElement.lang) === 'fr', 'lang attribute');
  await shot('audit-fr');
  await page.selectOption('#lang', 'en');
});

await scenario('a user key sees no Audit page and no other department\'s document', async () => {
  const userContext = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'en-US' });
  const p = await userContext.newPage();
  await signIn(p, USER);
  await p.locator('#nav').waitFor({ state: 'visible', timeout: T });
  check(!(await p.isVisible('#nav button[data-page="audit"]')), 'the Audit page is offered to a user key');
  // GET /me: its own name, and its one collection offered (none of the admin's others), already chosen
  check(/console-user/.test(await p.locator('#whoami').textContent()), `whoami: ${await p.locator('#whoami').textContent()}`);
  const offered = await p.locator('#collections-list option').evaluateAll((os) => os.map((o) => o.value));
  check(JSON.stringify(offered) === JSON.stringify([COLLECTION]), `collections offered to the user key: ${offered}`);
  check(await p.inputValue('#documents-collection') === COLLECTION, 'the collection is not chosen for the user');
  const refused = await p.evaluate(async (key) => (await fetch('/api/v1/audit', { headers: { Authorization: `Bearer ${key}` } })).status, USER);
  check(refused === 403, `GET /audit with the user key: ${refused}`);
  await p.fill('#documents-collection', COLLECTION);
  await p.click('#documents-load');
  await p.locator('tr', { hasText: 'rapport-frais.pdf' }).waitFor({ timeout: T });
  const text = await p.locator('#documents').textContent();
  check(!text.includes('finance-only.txt') && !text.includes(otherDepartment), 'the user key sees the finance document');
  await p.screenshot({ path: join(SHOTS, 'documents-user.png') });
  await userContext.close();
});

check(pageErrors.length === 0 || console.log(`not ok no script error in the page: ${pageErrors.join(' | ')}`) || true, '');
if (pageErrors.length) failures++;
await browser.close();
console.log(`${failures} failure(s)`);
process.exit(failures);
