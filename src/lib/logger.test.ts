import { Writable } from 'node:stream';
import { expect, it } from 'vitest';
import { createLogger } from './logger.js';

it('redacts every header that carries a credential (issue 11.2)', () => {
  let written = '';
  const logger = createLogger(
    'info',
    new Writable({
      write(chunk, _encoding, done) {
        written += String(chunk);
        done();
      },
    }),
  );
  const headers = {
    authorization: 'Bearer secret-one',
    cookie: 'esp_ota_session=secret-two',
    'x-ota-token': 'secret-three',
    'user-agent': 'ESP8266-http-Update',
  };
  logger.info({ req: { headers } }, 'a request');
  logger.info({ headers }, 'some headers');
  expect(written).not.toMatch(/secret-/);
  expect(written.match(/ESP8266-http-Update/g)).toHaveLength(2);
  expect(written.match(/\[Redacted\]/g)).toHaveLength(6);
});
