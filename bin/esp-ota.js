#!/usr/bin/env node
// Runs the compiled CLI (`npm run build` creates dist/). During development use `npm run esp-ota -- …`.
import { main } from '../dist/main.js';

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
