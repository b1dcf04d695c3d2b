// Drives Swagger UI as a person would: Authorize → the emulator's sign-in page → back, then
// "Try it out" on GET /whoami and on a tool the user may not call. Prints one JSON line.
// Playwright gives every launch a fresh profile directory.
// With `consent` as fourth argument (entra-proxy), toolgate's consent page is approved too.
// Usage: node swagger_login.mjs <docs-url> <user> <screenshot.png> [consent]
import { chromium } from 'playwright-core';

const [docsUrl, user, screenshot, consentArg] = process.argv.slice(2);
const expectConsent = consentArg === 'consent';
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const timeout = 20000;

const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});
const result = {};
try {
  const context = await browser.newContext();
  // Content-Security-Policy refusals Chromium reports, on every page of the run (popups too).
  result.csp_violations = [];
  const watch = (p) => p.on('console', (msg) => {
    if (msg.text().includes('Content Security Policy')) {
      result.csp_violations.push({ url: msg.location().url || p.url(), text: msg.text() });
    }
  });
  context.on('page', watch);
  const page = await context.newPage();
  page.setDefaultTimeout(timeout);
  await page.goto(docsUrl);
  await page.click('button.btn.authorize');
  const modal = page.locator('.modal-ux');
  await modal.waitFor();
  const entra = modal.locator('.auth-container', { hasText: 'EntraAuth' });
  result.client_id_prefilled = await entra.locator('input[type=text]').first().inputValue().catch(() => '');
  const [popup] = await Promise.all([
    page.waitForEvent('popup'),
    entra.locator('button.authorize').first().click(),
  ]);
  await popup.waitForLoadState();
  result.login_page = popup.url();
  await popup.click(`button[name="username"][value="${user}"]`);
  if (expectConsent) {
    // entra-proxy: toolgate's own consent page comes after the sign-in.
    const approve = popup.locator('button[name="decision"][value="approve"]');
    await approve.waitFor();
    // Allow is disabled when the page appears (double-click clickjacking) and armed a second later.
    result.allow_disabled_at_first = await approve.isDisabled();
    result.consent_page = await popup.locator('body').innerText();
    await approve.click();
    result.allow_clicked = true;
  }
  // The redirect page hands the code to Swagger UI, which redeems it (PKCE) and closes the popup.
  await entra.locator('button:has-text("Logout")').first().waitFor();
  result.signed_in = true;
  await page.click('.modal-ux button.btn-done');

  const tryOperation = async (opId, fill) => {
    const op = page.locator(`#operations-${opId}`);
    await op.locator('.opblock-summary').first().click();
    await op.locator('button.try-out__btn').click();
    if (fill) await fill(op);
    await op.locator('button.execute').click();
    const status = op.locator('.live-responses-table .response .response-col_status').first();
    await status.waitFor();
    const body = await op.locator('.live-responses-table .response-col_description pre').first().innerText();
    return { status: Number((await status.innerText()).trim()), body };
  };
  result.whoami = await tryOperation('Caller-whoami');
  result.forbidden = await tryOperation('Caller-callTool', async (op) => {
    await op.locator('input[placeholder="name"]').fill('purge_tasks');
    await op.locator('textarea.body-param__text').fill('{"older_than_days": 1}');
  });
  await page.locator('#operations-Caller-whoami').scrollIntoViewIfNeeded();
  await page.screenshot({ path: screenshot, fullPage: true });
} catch (error) {
  result.error = String(error);
  try {
    const pages = browser.contexts().flatMap((c) => c.pages());
    if (pages[0]) await pages[0].screenshot({ path: screenshot, fullPage: true });
  } catch {}
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
