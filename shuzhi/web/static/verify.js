// Offline verification of shuzhi health codes (SZ1:) in the browser, with the checks of
// shuzhi.credentials.verifier in the same order: base45 → zlib (DecompressionStream) → COSE_Sign1 (a tiny CBOR
// decoder) → key id in the cached trust list → ES256 signature (WebCrypto) → revoked key → CWT claims →
// issuer → validity with 60 s skew → the key's signing window → revoked token. EU DCCs (HC1:) and anything else
// this file does not know are left to the server (decided: false).
import {fromBase64, toHex} from "./common.js";

const BASE45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
const PREFIX = "SZ1:";
const MAX_INFLATED = 64 * 1024;
const SKEW_S = 60;
const ES256 = -7;
const CLAIM = {iss: 1, sub: 2, exp: 4, nbf: 5, iat: 6, cti: 7, credential: -65537};
const KINDS = ["hc", "t", "v", "r"];
const COLOURS = ["green", "yellow", "red"];

export class Rejected extends Error {
  constructor(reason, detail) {
    super(`${reason}: ${detail}`);
    this.reason = reason;
    this.detail = detail;
  }
}

const malformed = (detail) => new Rejected("malformed", detail);

export function base45Decode(text) {
  const values = Array.from(text, (ch) => {
    const value = BASE45.indexOf(ch);
    if (value < 0) throw malformed(`base45: invalid character ${JSON.stringify(ch)}`);
    return value;
  });
  if (values.length % 3 === 1) throw malformed("base45: invalid length");
  const out = [];
  for (let i = 0; i < values.length; i += 3) {
    const chunk = values.slice(i, i + 3);
    const n = chunk.reduce((sum, v, k) => sum + v * 45 ** k, 0);
    if (n > (chunk.length === 3 ? 0xffff : 0xff)) throw malformed("base45: value out of range");
    if (chunk.length === 3) out.push(n >> 8);
    out.push(n & 0xff);
  }
  return Uint8Array.from(out);
}

// zlib (RFC 1950) is what the Compression Streams API calls "deflate".
export async function inflate(bytes) {
  const reader = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate")).getReader();
  const chunks = [];
  let size = 0;
  try {
    for (let part = await reader.read(); !part.done; part = await reader.read()) {
      size += part.value.length;
      if (size > MAX_INFLATED) throw malformed(`zlib: decompressed data exceeds ${MAX_INFLATED} bytes`);
      chunks.push(part.value);
    }
  } catch (error) {
    reader.cancel().catch(() => {});
    throw error instanceof Rejected ? error : malformed(`zlib: ${error.message}`);
  }
  return concat(chunks);
}

// CBOR (RFC 8949), definite lengths only: integers, byte and text strings, arrays, maps (as Map), tags
// ({tag, value}), simple values and floats. Refuses truncated input and trailing bytes.
export function decodeCbor(bytes) {
  let pos = 0;
  const need = (n) => {
    if (n > bytes.length - pos) throw malformed("CBOR: truncated");
  };
  const take = (n) => {
    need(n);
    pos += n;
    return bytes.subarray(pos - n, pos);
  };
  const argument = (info) => {
    if (info < 24) return info;
    if (info > 27) throw malformed("CBOR: indefinite length or reserved value");
    return take(2 ** (info - 24)).reduce((n, b) => n * 256 + b, 0);
  };
  const item = () => {
    need(1);
    const first = bytes[pos++];
    const major = first >> 5;
    const info = first & 31;
    if (major === 7) return simple(info);
    const n = argument(info);
    if (major === 0) return n;
    if (major === 1) return -1 - n;
    if (major === 2) return take(n);
    if (major === 3) return new TextDecoder("utf-8", {fatal: true}).decode(take(n));
    if (major === 6) return {tag: n, value: item()};
    need(n); // every element takes at least one byte
    if (major === 4) return Array.from({length: n}, () => item());
    const map = new Map();
    for (let i = 0; i < n; i++) map.set(item(), item());
    return map;
  };
  const simple = (info) => {
    const fixed = {20: false, 21: true, 22: null, 23: undefined};
    if (info in fixed) return fixed[info];
    const view = (n) => {
      const b = take(n);
      return new DataView(b.buffer, b.byteOffset, n);
    };
    if (info === 25) return half(view(2).getUint16(0));
    if (info === 26) return view(4).getFloat32(0);
    if (info === 27) return view(8).getFloat64(0);
    throw malformed(`CBOR: unsupported simple value ${info}`);
  };
  const value = item();
  if (pos !== bytes.length) throw malformed("CBOR: bytes after the end of the item");
  return value;
}

function half(bits) {
  const exponent = (bits >> 10) & 31;
  const fraction = bits & 1023;
  const sign = bits & 0x8000 ? -1 : 1;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

// COSE_Sign1 (RFC 9052): tagged 18, untagged, or inside CWT tag 61; the protected kid wins.
export function coseSign1(value) {
  if (value?.tag === 61) value = value.value;
  if (value?.tag === 18) value = value.value;
  if (!Array.isArray(value) || value.length !== 4) throw malformed("COSE_Sign1 must be an array of four");
  const [protectedBytes, unprotected, payload, signature] = value;
  const bytes = [protectedBytes, payload, signature].every((b) => b instanceof Uint8Array);
  if (!bytes || !(unprotected instanceof Map)) throw malformed("COSE_Sign1 fields have the wrong types");
  const header = protectedBytes.length ? decodeCbor(protectedBytes) : new Map();
  if (!(header instanceof Map)) throw malformed("COSE protected header is not a map");
  const pick = (label) => (header.has(label) ? header.get(label) : unprotected.get(label));
  return {protectedBytes, payload, signature, alg: pick(1), kid: pick(4)};
}

// The bytes signed: CBOR ["Signature1", protected, h'', payload].
function toBeSigned(message) {
  const text = new TextEncoder().encode("Signature1");
  const parts = [[0x84], head(3, text.length), text, head(2, message.protectedBytes.length)];
  parts.push(message.protectedBytes, head(2, 0), head(2, message.payload.length), message.payload);
  return concat(parts.map((p) => Uint8Array.from(p)));
}

function head(major, n) {
  if (n < 24) return [(major << 5) | n];
  const size = n < 0x100 ? 1 : n < 0x10000 ? 2 : 4;
  const bytes = Array.from({length: size}, (_, i) => (n >> (8 * (size - 1 - i))) & 0xff);
  return [(major << 5) | (24 + Math.log2(size)), ...bytes];
}

function concat(chunks) {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  chunks.reduce((offset, c) => (out.set(c, offset), offset + c.length), 0);
  return out;
}

// The trust list of /public/trust-list as WebCrypto keys by key id (ES256 keys; others stay with the server).
export async function importTrust(list) {
  const keys = new Map();
  for (const entry of list.keys.filter((k) => k.algorithm === "ES256")) {
    const curve = {name: "ECDSA", namedCurve: "P-256"};
    const key = await crypto.subtle.importKey("spki", fromBase64(entry.spki), curve, false, ["verify"]);
    keys.set(entry.kid, {
      key,
      region: entry.region,
      notBefore: seconds(entry.not_before),
      signingUntil: seconds(entry.signing_until),
      notAfter: seconds(entry.not_after),
    });
  }
  return {keys, revokedKeys: new Set(list.revoked_keys), revokedTokens: new Set(list.revoked_tokens)};
}

const seconds = (iso) => Date.parse(iso) / 1000;

// {valid, decided, reason, detail, kind, colour, issuer, subject, expiresAt}; decided is false when only the
// server can judge (an EU DCC, another algorithm).
export async function verifyPayload(text, trust, now = Date.now() / 1000) {
  const facts = {decided: true};
  try {
    const payload = text.trim();
    if (!payload.startsWith(PREFIX)) {
      const known = payload.startsWith("HC1:");
      throw new Rejected(known ? "server_only" : "malformed", known ? "EU certificates are checked by the server"
        : "the payload does not start with SZ1: or HC1:");
    }
    const message = coseSign1(decodeCbor(await inflate(base45Decode(payload.slice(PREFIX.length)))));
    const key = await authenticate(message, trust);
    const claims = readClaims(message);
    Object.assign(facts, claims.facts);
    checkIssuer(claims, key);
    checkValidity(claims, now);
    checkKeyWindow(claims, key, now);
    await checkNotRevoked(claims, message, trust);
    return {...facts, valid: true, reason: null, detail: "", colour: claims.colour};
  } catch (error) {
    if (!(error instanceof Rejected)) throw error;
    const decided = error.reason !== "server_only";
    return {...facts, valid: false, decided, reason: error.reason, detail: error.detail, colour: null};
  }
}

async function authenticate(message, trust) {
  const kid = message.kid instanceof Uint8Array ? toHex(message.kid) : "none";
  const key = trust.keys.get(kid);
  if (!key) throw new Rejected("unknown_issuer", `key id ${kid} is not in the trust list`);
  if (message.alg !== ES256) throw new Rejected("server_only", `algorithm ${message.alg} is checked by the server`);
  if (message.signature.length !== 64) throw malformed("an ES256 signature is 64 bytes");
  const algorithm = {name: "ECDSA", hash: "SHA-256"};
  if (!(await crypto.subtle.verify(algorithm, key.key, message.signature, toBeSigned(message)))) {
    throw new Rejected("bad_signature", `signature does not verify with key ${kid}`);
  }
  if (trust.revokedKeys.has(kid)) throw new Rejected("revoked", `signing key ${kid} of ${key.region} has been revoked`);
  return key;
}

function readClaims(message) {
  const claims = decodeCbor(message.payload);
  if (!(claims instanceof Map)) throw malformed("CWT claims are not a map");
  const [iss, sub, iat, exp, cti] = ["iss", "sub", "iat", "exp", "cti"].map((name) => claims.get(CLAIM[name]));
  if (typeof iss !== "string" || typeof sub !== "string" || !(cti instanceof Uint8Array)) {
    throw malformed("iss and sub must be text and cti bytes");
  }
  if (typeof iat !== "number" || typeof exp !== "number") throw malformed("iat and exp must be NumericDates");
  const nbf = claims.get(CLAIM.nbf);
  const credential = claims.get(CLAIM.credential);
  const kinds = credential instanceof Map ? KINDS.filter((k) => credential.has(k)) : [];
  if (kinds.length !== 1 || credential.get("ver") !== "1.0") {
    throw malformed("credential claim must hold ver 1.0 and exactly one of hc, t, v, r");
  }
  const kind = kinds[0];
  const colour = kind === "hc" ? credential.get("hc")?.get?.("col") : null;
  if (kind === "hc" && !COLOURS.includes(colour)) throw malformed(`colour ${colour} is not green, yellow or red`);
  const facts = {kind, issuer: iss, subject: sub, issuedAt: iat, expiresAt: exp};
  return {iss, iat, exp, nbf: typeof nbf === "number" ? nbf : null, cti, colour, facts};
}

function checkIssuer(claims, key) {
  if (claims.iss !== key.region) {
    throw new Rejected("unknown_issuer", `a key of ${key.region} cannot issue for ${claims.iss}`);
  }
}

function checkValidity(claims, now) {
  const starts = Math.max(claims.iat, claims.nbf ?? claims.iat);
  if (now + SKEW_S < starts) throw new Rejected("not_yet_valid", `valid from ${iso(starts)}, checked at ${iso(now)}`);
  if (now - SKEW_S > claims.exp) throw new Rejected("expired", `expired at ${iso(claims.exp)}, checked at ${iso(now)}`);
}

function checkKeyWindow(claims, key, now) {
  if (!(key.notBefore - SKEW_S <= claims.iat && claims.iat <= key.signingUntil + SKEW_S)) {
    throw new Rejected("unknown_issuer", `the key could not sign at ${iso(claims.iat)}`);
  }
  if (now - SKEW_S > key.notAfter) throw new Rejected("expired", `signing key trusted until ${iso(key.notAfter)}`);
}

// Revoked by token id (cti) or token hash: the first 16 bytes of SHA-256 of r (ECDSA's s is malleable).
async function checkNotRevoked(claims, message, trust) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", message.signature.subarray(0, 32)));
  if ([toHex(claims.cti), toHex(digest.subarray(0, 16))].some((id) => trust.revokedTokens.has(id))) {
    throw new Rejected("revoked", "token is on the revocation list");
  }
}

const iso = (epochSeconds) => new Date(epochSeconds * 1000).toISOString();
