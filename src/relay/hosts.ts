/**
 * Target hosts: the `<host[:port]>` segment of a relay path, allowlist patterns, and which IP addresses are
 * not on the public internet. Web-standard code only: it runs in Node and in workerd.
 */
import { RelayError } from './errors.ts';

export interface TargetHost {
  /** Lower-case name, dotted IPv4, or `[IPv6]`, exactly as the WHATWG URL parser writes it. */
  hostname: string;
  port?: number;
  /** `hostname[:port]`. */
  host: string;
  /** The address itself (no brackets) when the host is an IP literal. */
  ip?: string;
}

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

function badHost(message: string): RelayError {
  return new RelayError(400, 'bad-host', message);
}

function shown(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text);
}

/**
 * Parses `host[:port]` strictly. Anything a URL parser would rewrite (`127.1`, `0x7f.0.0.1`, `2130706433`,
 * upper case IPv6, a trailing dot) is refused rather than normalised, so the allowlist sees what is dialled.
 */
export function parseHost(text: string): TargetHost {
  if (text === '') throw badHost('The registry host is empty.');
  if (text.includes('@')) throw badHost('A registry host must not carry user information ("@").');
  if (!/^[A-Za-z0-9.:[\]-]+$/.test(text))
    throw badHost(`The registry host ${shown(text)} has characters a host cannot have.`);
  const lower = text.toLowerCase();

  let hostname: string;
  let portText: string | undefined;
  if (lower.startsWith('[')) {
    const close = lower.indexOf(']');
    if (close < 0) throw badHost(`The IPv6 host ${shown(text)} has no closing "]".`);
    hostname = lower.slice(0, close + 1);
    const rest = lower.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) throw badHost(`Unexpected text after the IPv6 host in ${shown(text)}.`);
    portText = rest === '' ? undefined : rest.slice(1);
  } else {
    const parts = lower.split(':');
    if (parts.length > 2)
      throw badHost(`The host ${shown(text)} has more than one ":"; write IPv6 addresses in brackets.`);
    hostname = parts[0]!;
    portText = parts[1];
  }
  if (hostname === '') throw badHost('The registry host is empty.');

  let port: number | undefined;
  if (portText !== undefined) {
    port = /^[0-9]{1,5}$/.test(portText) ? Number(portText) : NaN;
    if (!(port >= 1 && port <= 65535))
      throw new RelayError(400, 'bad-port', `The port in ${shown(text)} is not a number from 1 to 65535.`);
  }

  let canonical: string;
  try {
    canonical = new URL(`http://${hostname}/`).hostname;
  } catch {
    throw badHost(`${shown(hostname)} is not a valid host name or IP address.`);
  }
  if (canonical !== hostname)
    throw badHost(`Write the host ${shown(hostname)} in its usual form: ${shown(canonical)}.`);

  let ip: string | undefined;
  if (hostname.startsWith('[')) {
    ip = hostname.slice(1, -1);
  } else if (parseIPv4(hostname) !== undefined) {
    ip = hostname;
  } else {
    const labels = hostname.split('.');
    if (hostname.length > 253 || !labels.every((label) => LABEL.test(label))) {
      throw badHost(`${shown(hostname)} is not a valid DNS name.`);
    }
  }
  return {
    hostname,
    ...(port !== undefined ? { port } : {}),
    host: port === undefined ? hostname : `${hostname}:${port}`,
    ...(ip ? { ip } : {}),
  };
}

/** Names that mean this machine whatever DNS says (RFC 6761), refused without a lookup where DNS is not ours. */
export function isLocalName(hostname: string): boolean {
  return hostname === 'localhost' || hostname.endsWith('.localhost');
}

function parseIPv4(text: string): number | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!match) return undefined;
  let value = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(match[i]);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

/** The eight 16-bit groups of an IPv6 address (with an optional dotted IPv4 tail), or undefined. */
function parseIPv6(text: string): number[] | undefined {
  let source = text;
  const lastColon = source.lastIndexOf(':');
  if (source.includes('.', lastColon)) {
    const v4 = parseIPv4(source.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    source = `${source.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = source.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string) =>
    part === '' ? [] : part.split(':').map((g) => (/^[0-9a-f]{1,4}$/i.test(g) ? parseInt(g, 16) : NaN));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if ([...head, ...tail].some(Number.isNaN)) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const missing = 8 - head.length - tail.length;
  if (missing < 1) return undefined;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}

function cidr4(text: string): [number, number] {
  const [address, bits] = text.split('/');
  const size = 2 ** (32 - Number(bits));
  return [parseIPv4(address!)!, size];
}

/** IPv4 ranges that are not the public internet: this-network, private, CGNAT, loopback, link-local, documentation, multicast, reserved. */
const NON_PUBLIC_V4 = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.0.2.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/3',
].map(cidr4);

/**
 * True only for addresses on the public internet. IPv6 must be global unicast (2000::/3), which leaves out
 * ::, ::1, IPv4-mapped and -compatible, NAT64, ULA fc00::/7, link-local, site-local and multicast; inside it,
 * Teredo and other 2001::/23 protocol ranges, documentation and 6to4 (which wrap IPv4 addresses) are out too.
 */
export function isPublicAddress(address: string): boolean {
  const text = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const v4 = parseIPv4(text);
  if (v4 !== undefined) return !NON_PUBLIC_V4.some(([start, size]) => v4 >= start && v4 < start + size);
  const g = parseIPv6(text);
  if (!g) return false;
  const [g0, g1] = [g[0]!, g[1]!];
  if ((g0 & 0xe000) !== 0x2000) return false;
  if (g0 === 0x2001 && (g1 < 0x0200 || g1 === 0x0db8)) return false;
  if (g0 === 0x2002) return false;
  if (g0 === 0x3fff && g1 < 0x1000) return false;
  return true;
}

/**
 * A host pattern from the configuration:
 * - `registry.example` or `10.0.0.5:5000` or `[fd00::1]:5000`: that host, on that port (none written = default port);
 * - `*.example.com`: any name under example.com (not example.com itself);
 * - `*` as a later label (`s3.*.amazonaws.com`): exactly one label;
 * - `*` inside a label (`cdn*.quay.io`, `prod-registry-k8s-io-*`): any run of letters, digits and hyphens
 *   within that one label.
 * The last two labels of a wildcard pattern must be literal, so no pattern can cover a whole top-level domain.
 */
export function compileHostPattern(source: string): (host: TargetHost) => boolean {
  const text = source.trim().toLowerCase();
  if (!text.includes('*')) {
    let exact: TargetHost;
    try {
      exact = parseHost(text);
    } catch (error) {
      throw new Error(
        `Invalid host pattern ${shown(source)}: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    return (host) => host.hostname === exact.hostname && host.port === exact.port;
  }
  const match = /^([a-z0-9*.-]+)(?::([0-9]{1,5}))?$/.exec(text);
  const labels = match?.[1]!.split('.') ?? [];
  const port = match?.[2] === undefined ? undefined : Number(match[2]);
  const literalTail = labels.slice(-2);
  const valid =
    match !== null &&
    labels.length >= 3 &&
    literalTail.every((label) => LABEL.test(label)) &&
    labels.every((label) => /^[a-z0-9*-]+$/.test(label) && !label.includes('**')) &&
    (port === undefined || (port >= 1 && port <= 65535));
  if (!valid) {
    throw new Error(
      `Invalid host pattern ${shown(source)}: use "*." at the start or "*" inside a label, keep the last two labels literal (e.g. "*.example.com", "cdn*.example.com").`,
    );
  }
  const body = labels
    .map((label, index) => {
      if (label === '*') return index === 0 ? '(?:[a-z0-9-]+\\.)+' : '[a-z0-9-]+\\.';
      return `${label.replaceAll('*', '[a-z0-9-]*')}\\.`;
    })
    .join('')
    .slice(0, -2);
  const regex = new RegExp(`^${body}$`);
  return (host) => host.ip === undefined && host.port === port && regex.test(host.hostname);
}

/** A list of host patterns (allowlist, private allowlist, plain-http hosts). */
export class HostList {
  private readonly tests: ((host: TargetHost) => boolean)[];

  constructor(readonly patterns: readonly string[]) {
    this.tests = patterns.map(compileHostPattern);
  }

  has(host: TargetHost): boolean {
    return this.tests.some((test) => test(host));
  }
}
