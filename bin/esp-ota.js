#!/usr/bin/env node
// Runs the compiled CLI (`npm run build` creates dist/). During development use `npm run esp-ota -- …`.
const entry = new URL('../dist/main.js', import.meta.url);
let main;
try {
  ({ main } = await import(entry.href));
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('dist/main.js')) throw error;
  console.error(`esp-ota: ${entry.pathname} is missing; run \`npm run build\` in the project folder first`);
  process.exit(2);
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
