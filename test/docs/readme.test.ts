import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SETTINGS, settingsMarkdown } from '../../src/config';

const README = readFileSync(resolve(__dirname, '../../README.md'), 'utf8');

describe('README', () => {
  it('opens with the two set-up commands', () => {
    const opening = README.split('\n').slice(0, 5).join('\n');
    expect(opening).toContain('npm install && npm run demo');
    expect(opening).toContain('npm test');
  });

  it("has the configuration table generated from the schema (regenerate: npx otel-perf-agent config --markdown)", () => {
    const match = /<!-- settings:start -->\n([\s\S]*?)\n<!-- settings:end -->/.exec(README);
    expect(match, 'settings markers in README').not.toBeNull();
    expect(match![1].trim()).toBe(settingsMarkdown());
  });

  it('names every variable of the schema', () => {
    for (const setting of SETTINGS) expect(README).toContain(`\`${setting.env}\``);
  });
});
