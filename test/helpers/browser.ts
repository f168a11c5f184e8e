// Debian's Chromium driven by playwright-core, the way every browser test starts it.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const chromiumPath = '/usr/bin/chromium';

/** Skips the suite, saying why, on a machine without Debian's chromium (CI installs it: .ci/run). */
export function skipWithoutChromium(suite: Mocha.Context): void {
  if (existsSync(chromiumPath)) return;
  console.log(
    `      skipped: ${chromiumPath} is missing (apt-get install chromium; .ci/run installs it in CI)`,
  );
  suite.skip();
}

/** Headless, unsandboxed (CI runs as root), in a fresh profile, with nothing that reaches out to the network. */
export function launchChromium(timeout: number): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    timeout,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
