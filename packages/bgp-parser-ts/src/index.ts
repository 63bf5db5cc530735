/**
 * bgp-parser-ts: a BGP-4 wire codec (RFC 4271 and extensions) with RFC 7606 error handling.
 */
export * from './attributes/index.js';
export * from './capabilities/index.js';
export * from './constants.js';
export * from './context.js';
export * from './errors.js';
export { StreamDecoder } from './framing.js';
export { decodeHeader, type Header, maxLength } from './header.js';
export { isIPv6LinkLocal, isValidIPv4Host, isValidIPv6Host } from './host-address.js';
export { errorToJson, type JsonValue, messageToJson, updateErrorToJson } from './json.js';
export * from './messages/index.js';
export * from './prefix.js';
export { fromHex, toHex, Writer } from './writer.js';
