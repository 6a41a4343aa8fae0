import { existsSync } from 'node:fs';
import type { Reporter, TestModule, Vitest } from 'vitest/node';

/**
 * Ends `npm test` with why tests were skipped: the summary alone says "N skipped", and the reasons (no PostgreSQL,
 * no Chromium, no firmware corpus) are otherwise buried in suite names scrolled away. Read from the environment the
 * tests themselves check, and counted by the tests that were skipped.
 */
export default class SkipReasonsReporter implements Reporter {
  private vitest: Vitest | undefined;

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const skipped: { name: string; file: string }[] = [];
    for (const module of modules) {
      for (const test of module.children.allTests())
        if (test.result().state === 'skipped') skipped.push({ name: test.fullName, file: module.moduleId });
      // A store's suite skipped as a whole may declare no tests at all (`describe.skip(name, () => undefined)`).
      for (const suite of module.children.allSuites())
        if (suite.state() === 'skipped' && [...suite.children.allTests()].length === 0)
          skipped.push({ name: suite.fullName, file: module.moduleId });
    }
    if (skipped.length === 0) return;

    const reasons: { why: string; applies: (t: { name: string; file: string }) => boolean }[] = [];
    if (!process.env.ESP_OTA_TEST_PG_URL)
      reasons.push({
        why: 'PostgreSQL tests skipped: set ESP_OTA_TEST_PG_URL (e.g. postgres://postgres@127.0.0.1:5432/test)',
        applies: (t) => /postgres/i.test(t.name),
      });
    // The same checks as test/helpers/browser.ts (not imported: it loads playwright).
    const chromium = process.env.ESP_OTA_CHROMIUM ?? '/usr/bin/chromium';
    if (!existsSync(chromium))
      reasons.push({
        why: `browser tests skipped: no Chromium at ${chromium} (apt-get install chromium)`,
        applies: (t) => /[/\\]e2e[/\\]/.test(t.file),
      });
    const corpus = process.env.ESP_OTA_FIRMWARE_DIR;
    reasons.push({
      why: `real-firmware tests skipped: no firmware corpus (MANIFEST.tsv) at ${corpus ?? '../shared/firmware'} (set ESP_OTA_FIRMWARE_DIR)`,
      applies: (t) => /real|corpus|firmware/i.test(t.name),
    });

    const lines = [`\n${skipped.length} tests (or empty suites) skipped:`];
    let left = skipped;
    for (const reason of reasons) {
      const matched = left.filter(reason.applies);
      if (matched.length === 0) continue;
      lines.push(`  ${matched.length} × ${reason.why}`);
      left = left.filter((t) => !reason.applies(t));
    }
    if (left.length)
      lines.push(
        `  ${left.length} × skipped in the test file itself (it.skip, skipIf) or left out by a filter (-t): ${left[0]!.name}…`,
      );
    const log = this.vitest?.logger;
    if (log) log.log(lines.join('\n'));
    else process.stdout.write(`${lines.join('\n')}\n`);
  }
}
