import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OPTIONS } from './config.js';

describe('docs/configuration.md', () => {
  it('documents every option with its environment variable', () => {
    const doc = readFileSync(new URL('../docs/configuration.md', import.meta.url), 'utf8');
    for (const [name, spec] of Object.entries(OPTIONS)) {
      expect(doc, name).toMatch(new RegExp(`\\|\\s*\`${name}\`\\s*\\|\\s*\`${spec.env}\`\\s*\\|`));
    }
  });
});
