/**
 * The machine's Chromium (the Debian package; .ci/run installs it) driven by playwright-core,
 * headless, one page, for the console's browser tests. Page errors and console errors (but the
 * 403s the console expects: the sign-in probe, a refused operator page) are collected.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

const CHROMIUM = process.env.SHEKARA_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS = path.resolve(import.meta.dirname, '../../test-artifacts/console');
const DOCS = path.resolve(import.meta.dirname, '../../docs/console');

export interface ConsoleBrowser {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  pageErrors: string[];
  /** A screenshot into test-artifacts/console/; with `docs`, also into docs/console/ when SHEKARA_CONSOLE_DOCS=1. */
  shot(name: string, docs?: boolean): Promise<void>;
  /** Opens the console at `baseUrl` and signs in with `key`. */
  signIn(baseUrl: string, key: string): Promise<void>;
}

export async function openConsoleBrowser(viewport = { width: 1280, height: 860 }): Promise<ConsoleBrowser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`no Chromium at ${CHROMIUM}: install the Debian package chromium (.ci/run does)`);
  mkdirSync(ARTIFACTS, { recursive: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 403/.test(m.text())) pageErrors.push(m.text());
  });
  return {
    browser,
    context,
    page,
    pageErrors,
    async shot(name, docs = false) {
      await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
      if (docs && process.env.SHEKARA_CONSOLE_DOCS === '1')
        await page.screenshot({ path: path.join(DOCS, `${name}.png`), fullPage: true });
    },
    async signIn(baseUrl, key) {
      await page.goto(`${baseUrl}/console/`);
      await page.fill('#key', key);
      await page.click('#signin');
    },
  };
}
