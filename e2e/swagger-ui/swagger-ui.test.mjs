// Swagger UI of a real mxspool in headless Chromium: the page shows the project, its version,
// the customer's three steps and the tag groups; a user authorizes with a token and uses
// "Try it out" to create a relay domain and to list domains, and sees the answers on the page.
//
// Runs under e2e/with-server (MXSPOOL_E2E_URL and the operator's credentials). Chromium is
// Debian's (/usr/bin/chromium, or $CHROMIUM); every request that does not go to 127.0.0.1 is
// refused, so the page works from what mxspool serves. The screenshot goes to
// $E2E_ARTIFACTS/swagger-ui.png (default target/artifacts/).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const base = process.env.MXSPOOL_E2E_URL;
const email = process.env.MXSPOOL_E2E_ADMIN_EMAIL;
const password = process.env.MXSPOOL_E2E_ADMIN_PASSWORD;
const artifacts = process.env.E2E_ARTIFACTS ?? resolve(here, '../../target/artifacts');
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const version = process.env.MXSPOOL_VERSION;

let browser;
let page;
const refused = [];
const pageErrors = [];

before(async () => {
  assert.ok(base && email && password, 'run under e2e/with-server');
  mkdirSync(artifacts, { recursive: true });
  browser = await chromium.launch({
    executablePath,
    headless: true,
    // As root in a container Chromium's sandbox cannot start; the page is our own.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--no-first-run'],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1' || url.protocol === 'data:' || url.protocol === 'blob:') {
      return route.continue();
    }
    refused.push(url.href);
    return route.abort('blockedbyclient');
  });
  page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(String(e)));
});

after(async () => {
  await browser?.close();
});

/** Logs in through the API, as a script would before handing the token to a person. */
async function accessToken() {
  const response = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  assert.equal(response.status, 200, await response.clone().text());
  const body = await response.json();
  assert.equal(body.token_type, 'Bearer');
  return body.access_token;
}

/** Opens an operation, presses "Try it out", lets `fill` set its inputs, executes it, and
 * returns the status code and response body that Swagger UI shows. */
async function tryItOut(operationId, fill) {
  const op = page.locator(`[id$="-${operationId}"].opblock`);
  await op.scrollIntoViewIfNeeded();
  if (!(await op.evaluate((el) => el.classList.contains('is-open')))) {
    await op.locator('.opblock-summary').first().click();
  }
  await op.locator('button.try-out__btn').click();
  await fill(op);
  await op.locator('button.execute').click();
  const live = op.locator('.live-responses-table .response').first();
  await live.waitFor({ state: 'visible', timeout: 15000 });
  const status = (await live.locator('.response-col_status').first().innerText()).trim();
  const body = await live.locator('.response-col_description pre').first().innerText();
  return { status, body };
}

test('Swagger UI shows the project, its version, the three steps and the tag groups', async () => {
  await page.goto(`${base}/swagger-ui/`, { waitUntil: 'networkidle' });
  const title = page.locator('.information-container .info .title');
  await title.waitFor({ timeout: 15000 });
  const titleText = await title.innerText();
  assert.match(titleText, /mxspool/);
  const shownVersion = (await title.locator('.version').first().innerText()).trim();
  assert.match(shownVersion, /^\d+\.\d+\.\d+/);
  if (version) assert.equal(shownVersion, version);

  const description = await page.locator('.information-container .info .description').innerText();
  for (const step of ['Add a relay domain', 'Publish the MX record', 'Whitelist the backup MX']) {
    assert.ok(description.includes(step), `the description names the step "${step}": ${description}`);
  }

  const tags = await page.locator('.opblock-tag-section .opblock-tag').evaluateAll((els) =>
    els.map((el) => ({
      name: el.getAttribute('data-tag'),
      description: el.querySelector('small, .markdown')?.textContent?.trim() ?? '',
    })),
  );
  const names = tags.map((t) => t.name);
  for (const name of ['auth', 'accounts', 'api-keys', 'domains', 'queue', 'targets', 'health']) {
    assert.ok(names.includes(name), `tag ${name} is shown; tags: ${names.join(', ')}`);
  }
  for (const tag of tags) {
    assert.ok(tag.description.length > 10, `tag ${tag.name} has a description`);
  }
});

test('a token authorizes Try it out: create a domain, then list domains', async () => {
  const token = await accessToken();

  await page.locator('.scheme-container button.authorize').click();
  const dialog = page.locator('.dialog-ux .modal-ux');
  await dialog.locator('input[type="text"], input[type="password"]').first().fill(token);
  await dialog.locator('button.authorize').click();
  await dialog.locator('button.btn-done, button.close-modal').first().click();
  await page.locator('.scheme-container button.authorize.locked').waitFor({ timeout: 5000 });

  const name = `swagger-${Date.now().toString(36)}.example`;
  const created = await tryItOut('create_domain', async (op) => {
    const body = op.locator('textarea.body-param__text');
    await body.fill(JSON.stringify({ name, target_host: 'mail.example.com' }, null, 2));
  });
  assert.equal(created.status, '201', created.body);
  const domain = JSON.parse(created.body);
  assert.equal(domain.name, name);
  assert.equal(domain.target_host, 'mail.example.com');
  assert.ok(Number.isInteger(domain.id) && domain.id > 0, created.body);

  const listed = await tryItOut('list_domains', async (op) => {
    await op.locator('tr[data-param-name="name"] input').fill(name);
  });
  assert.equal(listed.status, '200', listed.body);
  const page1 = JSON.parse(listed.body);
  assert.deepEqual(
    page1.items.map((d) => [d.id, d.name]),
    [[domain.id, name]],
  );
  assert.equal(page1.next_cursor, null);

  // One picture of what the user saw (the listing's answer), one of the whole page.
  const shot = join(artifacts, 'swagger-ui.png');
  await page.locator('[id$="-list_domains"].opblock .live-responses-table').scrollIntoViewIfNeeded();
  await page.screenshot({ path: shot });
  await page.screenshot({ path: join(artifacts, 'swagger-ui-full.png'), fullPage: true });
  console.log(`screenshots: ${shot}, ${join(artifacts, 'swagger-ui-full.png')}`);
});

test('the page needed nothing but mxspool and raised no script errors', () => {
  assert.deepEqual(pageErrors, []);
  // Requests elsewhere were refused; Swagger UI must work without them, which the tests above
  // show. Say what was refused so a new outside dependency is noticed.
  if (refused.length) console.log(`refused outside requests: ${refused.join(', ')}`);
});
