export { inspectSignature } from './inspect-signature.js';
export { parsePublicKey, type PublicKey, type ParsedPublicKey, type EcCurve } from './public-key.js';
export { esp8266SigningProblems, gzipLengthTripsCore31 } from './esp8266-rules.js';
export type * from './types.js';
