/**
 * Image references, read the way `docker pull` reads them (distribution/reference: normalize.go,
 * reference.go, regexp.go), with the few deliberate differences noted where they are made.
 */
import { SkiffError } from '../errors.ts';

export interface ImageReference {
  /** Normalised host[:port]; 'docker.io' for Docker Hub. */
  registry: string;
  /** Path inside the registry; 'library/nginx' for official Hub images. */
  repository: string;
  /** 'latest' is filled in only when neither tag nor digest was given. */
  tag?: string;
  /** 'algorithm:hex'; when present it is what gets fetched, the tag only names the image. */
  digest?: string;
}

const DOCKER_HUB = 'docker.io';
// index.docker.io is Docker's own legacy alias; registry-1.docker.io is the API host people paste from logs.
const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);
const DOCKER_HUB_API_HOST = 'registry-1.docker.io';
const OFFICIAL_PREFIX = 'library/';
const DEFAULT_TAG = 'latest';
const MAX_REPOSITORY_LENGTH = 255;
const MAX_TAG_LENGTH = 128;

// Grammar pieces, named and composed as in regexp.go so the two can be compared side by side.
const alphanumeric = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const domainNameComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domainName = `${domainNameComponent}(?:\\.${domainNameComponent})*`;
const ipv6Chars = '[a-fA-F0-9:]+';
const port = '[0-9]+';
const tagPattern = `[\\w][\\w.-]{0,${MAX_TAG_LENGTH - 1}}`;
// regexp.go allows upper case here, but go-digest then refuses every such algorithm; lower case only is the same outcome.
const digestAlgorithm = '[a-z][a-z0-9]*(?:[-_+.][a-z][a-z0-9]*)*';
const digestHex = '[0-9a-fA-F]{32,}';

const anchored = (pattern: string): RegExp => new RegExp(`^${pattern}$`);
const PATH_COMPONENT_RE = anchored(pathComponent);
const DOMAIN_NAME_RE = anchored(domainName);
const IPV6_CHARS_RE = anchored(ipv6Chars);
const PORT_RE = anchored(port);
const TAG_RE = anchored(tagPattern);
const DIGEST_ALGORITHM_RE = anchored(digestAlgorithm);
const DIGEST_HEX_RE = anchored(digestHex);
const IDENTIFIER_RE = /^[a-f0-9]{64}$/;
const BARE_DIGEST_RE = /^sha(?:256|384|512):[a-f0-9]{32,}$/;
const URL_SCHEME_RE = /^[a-z][a-z0-9+.-]*:\/\//i;
const DOCKER_SCHEME_RE = /^docker:\/\//i;
// go-digest's registered algorithms and their lower-case hex lengths; a Map so that names like
// "constructor" cannot reach Object.prototype.
const DIGEST_HEX_LENGTHS = new Map([
  ['sha256', 64],
  ['sha384', 96],
  ['sha512', 128],
]);

/** Parses an image reference as `docker pull` would; throws SkiffError('invalid-reference') saying what is wrong. */
export function parseReference(input: string): ImageReference {
  let text = input.trim();
  // skopeo-style transport prefix: users paste it from other tools.
  if (DOCKER_SCHEME_RE.test(text)) text = text.slice('docker://'.length);
  if (text === '') fail('empty reference');
  if (/\s/.test(text)) fail(`a reference cannot contain whitespace: ${quote(text)}`);
  const scheme = URL_SCHEME_RE.exec(text);
  if (scheme) fail(`a reference is not a URL: remove ${quote(scheme[0])} (e.g. "ghcr.io/owner/image:tag")`);
  if (IDENTIFIER_RE.test(text)) fail(`a 64-character hex string is an image ID, not a name: ${quote(text)}`);
  // Docker would read this as the image "library/sha256" with a 64-character tag, which is never what was meant.
  if (BARE_DIGEST_RE.test(text)) fail(`${quote(text)} is a digest without a name: write it as name@${text}`);

  const { registry, rest, hostText } = splitRegistry(text);

  const at = rest.indexOf('@');
  const named = at === -1 ? rest : rest.slice(0, at);
  const digest = at === -1 ? undefined : rest.slice(at + 1);
  // Paths cannot hold ':', so the first one after the host starts the tag.
  const colon = named.indexOf(':');
  const path = colon === -1 ? named : named.slice(0, colon);
  const tag = colon === -1 ? undefined : named.slice(colon + 1);

  if (path === '') {
    fail(
      hostText === undefined
        ? `no repository name in ${quote(text)}`
        : `no repository name after ${quote(hostText + '/')}`,
    );
  }
  if (/[A-Z]/.test(path)) fail(`uppercase letters are only allowed in the registry host: ${quote(path)}`);
  for (const component of path.split('/')) {
    if (component === '') fail(`repository name ${quote(path)} has an empty path component (check the "/" characters)`);
    if (!PATH_COMPONENT_RE.test(component)) {
      fail(
        `repository name component ${quote(component)} is invalid: use lowercase letters and digits, ` +
          'joined by ".", "_", "__" or dashes, with no separator at either end',
      );
    }
  }
  // Docker Hub keeps official images under library/; other registries take the path as given.
  const repository = registry === DOCKER_HUB && !path.includes('/') ? OFFICIAL_PREFIX + path : path;
  if (repository.length > MAX_REPOSITORY_LENGTH) {
    fail(
      `repository name is longer than ${MAX_REPOSITORY_LENGTH} characters (${repository.length}): ${quote(repository)}`,
    );
  }
  if (tag !== undefined) checkTag(tag);
  if (digest !== undefined) checkDigest(digest);

  const ref: ImageReference = { registry, repository };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  if (tag === undefined && digest === undefined) ref.tag = DEFAULT_TAG;
  return ref;
}

/** The canonical full form, e.g. 'docker.io/library/nginx:latest' or 'host:5000/a/b@sha256:…'. */
export function formatReference(ref: ImageReference): string {
  let text = `${ref.registry}/${ref.repository}`;
  if (ref.tag !== undefined) text += `:${ref.tag}`;
  if (ref.digest !== undefined) text += `@${ref.digest}`;
  return text;
}

/** Docker's FamiliarName: the short name people type ('nginx', 'user/app', 'ghcr.io/x/y'), without tag or digest. */
export function familiarName(ref: ImageReference): string {
  if (ref.registry !== DOCKER_HUB) return `${ref.registry}/${ref.repository}`;
  let short = ref.repository;
  if (short.startsWith(OFFICIAL_PREFIX) && !short.slice(OFFICIAL_PREFIX.length).includes('/')) {
    short = short.slice(OFFICIAL_PREFIX.length);
  }
  // Unlike Docker, stay qualified when the short form would read back as something else: a host
  // (docker.io/foo.com/bar as registry foo.com) or an image ID (docker.io/library/<64 hex>).
  const slash = short.indexOf('/');
  if ((slash !== -1 && looksLikeHost(short.slice(0, slash))) || IDENTIFIER_RE.test(short)) {
    return `${DOCKER_HUB}/${ref.repository}`;
  }
  return short;
}

/** The host that serves the registry API: Docker Hub's API lives on registry-1.docker.io. */
export function registryApiHost(registry: string): string {
  return DOCKER_HUB_ALIASES.has(registry.toLowerCase()) ? DOCKER_HUB_API_HOST : registry;
}

/** True for localhost, 127.0.0.0/8 and [::1], with or without a port: Docker talks plain http to these. */
export function isLoopbackHost(registry: string): boolean {
  const host = stripPort(registry.toLowerCase());
  if (host === undefined) return false;
  if (host === 'localhost') return true;
  if (host.startsWith('[') && host.endsWith(']')) {
    const groups = ipv6Groups(host.slice(1, -1));
    return groups !== undefined && groups.every((group, index) => group === (index === 7 ? 1 : 0));
  }
  const octets = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  return octets !== null && octets[1] === '127' && octets.slice(2).every((octet) => Number(octet) <= 255);
}

/** Docker's splitDockerDomain: the first component is a registry host only if it could not be a Hub namespace. */
function splitRegistry(text: string): { registry: string; rest: string; hostText?: string } {
  const slash = text.indexOf('/');
  if (slash === -1) {
    if (text.startsWith('[')) fail(`${quote(text)} looks like a registry host without a repository: add "/name"`);
    return { registry: DOCKER_HUB, rest: text };
  }
  const first = text.slice(0, slash);
  if (!looksLikeHost(first)) return { registry: DOCKER_HUB, rest: text };
  checkHost(first);
  // Host names are case-insensitive, so every spelling of the Hub aliases means the Hub.
  const registry = DOCKER_HUB_ALIASES.has(first.toLowerCase()) ? DOCKER_HUB : first;
  return { registry, rest: text.slice(slash + 1), hostText: first };
}

function looksLikeHost(component: string): boolean {
  // Hub namespaces are lower case, so Docker takes an upper-case first component for a host too.
  return component === 'localhost' || /[.:]/.test(component) || component !== component.toLowerCase();
}

function checkHost(host: string): void {
  let portText: string | undefined;
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    if (close === -1) fail(`registry host ${quote(host)} is invalid: "]" is missing after the IPv6 address`);
    const address = host.slice(1, close);
    if (!IPV6_CHARS_RE.test(address) || ipv6Groups(address) === undefined) {
      fail(
        `registry host ${quote(host)} is invalid: ${quote(address)} is not an IPv6 address (zone IDs and embedded IPv4 are not accepted)`,
      );
    }
    const after = host.slice(close + 1);
    if (after !== '') {
      if (!after.startsWith(':')) fail(`registry host ${quote(host)} is invalid: only ":port" may follow "]"`);
      portText = after.slice(1);
    }
  } else {
    const colon = host.indexOf(':');
    if (colon !== -1 && host.includes(':', colon + 1)) {
      fail(
        `registry host ${quote(host)} is invalid: an IPv6 address must be written in brackets, e.g. "[fc00::1]:5000"`,
      );
    }
    const name = colon === -1 ? host : host.slice(0, colon);
    if (!DOMAIN_NAME_RE.test(name)) {
      fail(
        `registry host ${quote(host)} is invalid: a host name is dot-separated labels of letters, digits and "-", ` +
          'each starting and ending with a letter or digit',
      );
    }
    if (colon !== -1) portText = host.slice(colon + 1);
  }
  if (portText !== undefined) {
    if (!PORT_RE.test(portText))
      fail(`registry host ${quote(host)} is invalid: port ${quote(portText)} is not a number`);
    // Docker's grammar takes any digits and fails only when connecting; saying so here is clearer.
    const value = Number(portText);
    if (value < 1 || value > 65535)
      fail(`registry host ${quote(host)} is invalid: port ${portText} is not between 1 and 65535`);
  }
}

function checkTag(tag: string): void {
  if (tag === '') fail('tag "" is invalid: nothing follows ":"');
  if (TAG_RE.test(tag)) return;
  if (tag.length > MAX_TAG_LENGTH) {
    fail(`tag ${quote(tag)} is invalid: it has ${tag.length} characters, at most ${MAX_TAG_LENGTH} are allowed`);
  }
  if (!/^\w/.test(tag)) fail(`tag ${quote(tag)} is invalid: it must start with a letter, a digit or "_"`);
  const bad = /[^\w.-]/.exec(tag)?.[0] ?? '';
  fail(`tag ${quote(tag)} is invalid: ${quote(bad)} is not allowed, only letters, digits, "_", "." and "-"`);
}

function checkDigest(digest: string): void {
  if (digest === '') fail('digest "" is invalid: nothing follows "@"');
  const colon = digest.indexOf(':');
  if (colon === -1)
    fail(`digest ${quote(digest)} is invalid: expected "algorithm:hex", e.g. "sha256:" and 64 hex characters`);
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  if (!DIGEST_ALGORITHM_RE.test(algorithm)) {
    fail(`digest ${quote(digest)} is invalid: ${quote(algorithm)} is not a digest algorithm name (e.g. "sha256")`);
  }
  const length = DIGEST_HEX_LENGTHS.get(algorithm);
  if (length !== undefined) {
    if (!/^[a-f0-9]*$/.test(hex)) fail(`digest ${quote(digest)} is invalid: a ${algorithm} digest is lowercase hex`);
    if (hex.length !== length) {
      fail(
        `digest ${quote(digest)} is invalid: a ${algorithm} digest has ${length} hex characters, this one has ${hex.length}`,
      );
    }
  } else if (!DIGEST_HEX_RE.test(hex)) {
    fail(`digest ${quote(digest)} is invalid: at least 32 hex characters must follow "${algorithm}:"`);
  }
}

/** The eight 16-bit groups of an IPv6 address in hex-and-colons form, or undefined when it is not one. */
function ipv6Groups(address: string): number[] | undefined {
  const halves = address.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string | undefined): string[] => (part === undefined || part === '' ? [] : part.split(':'));
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  if (![...head, ...tail].every((group) => /^[0-9a-f]{1,4}$/i.test(group))) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const toNumbers = (list: string[]): number[] => list.map((group) => parseInt(group, 16));
  return [...toNumbers(head), ...new Array<number>(missing).fill(0), ...toNumbers(tail)];
}

function stripPort(host: string): string | undefined {
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    if (close === -1) return undefined;
    const after = host.slice(close + 1);
    return after === '' || /^:\d+$/.test(after) ? host.slice(0, close + 1) : undefined;
  }
  const parts = host.split(':');
  if (parts.length > 2 || (parts.length === 2 && !/^\d+$/.test(parts[1] ?? ''))) return undefined;
  return parts[0];
}

function quote(text: string): string {
  // Inputs can be pasted blobs; keep messages readable.
  return JSON.stringify(text.length > 100 ? `${text.slice(0, 97)}...` : text);
}

function fail(message: string): never {
  throw new SkiffError('invalid-reference', message);
}
