/**
 * Every string the page shows, in English. zh.ts must provide the same keys (its type is `Messages`), so a
 * missing translation is a type error. Engine messages (SkiffError.message) stay in English: they are
 * shown as the technical detail under a translated explanation.
 */
import { advice } from './en/advice.ts';
import { list } from './en/list.ts';
import { push } from './en/push.ts';

export const en = {
  langName: 'English',
  title: 'Skiff',
  tagline: 'Pull a container image into a file that docker load reads — in your browser, nothing to install.',
  language: 'Language',
  settings: 'Settings',
  skipToForm: 'Skip to the image field',

  image: 'Image',
  imagePlaceholder: 'nginx:1.27 · ghcr.io/owner/app:tag · registry.corp:5000/team/app@sha256:…',
  imageHint: 'Anything docker pull accepts. Press Enter to download.',
  imageOk: (full: string) => `Reads as ${full}`,
  recent: 'Recent images',
  resolving: 'Looking the image up…',
  platform: 'Platform',
  platformChoose: 'Choose a platform',
  platformOption: (platform: string, size: string) => `${platform} — ${size}`,
  download: 'Download',
  downloadN: (n: number) => (n === 1 ? 'Download 1 image' : `Download ${n} images`),
  saveTo: 'Save to…',
  saveToTitle: 'Choose where the file goes (your browser asks for a location)',
  addToArchive: 'Add to archive',
  addToArchiveTitle: 'Put several images into one archive; layers they share are stored once',
  addToKit: 'Add to kit',
  addToKitTitle: 'Put several images into one offline kit; each gets a tar of its own',
  format: 'File type',
  formatTar: '.tar for docker load',
  formatZip: '.zip offline kit (tars, SHA256SUMS, load scripts)',
  copyLink: 'Copy link',
  linkCopied: 'Link copied (it never contains credentials)',

  method: {
    stream:
      'Streamed to your downloads folder as it arrives (service worker). No size limit; keep this tab open until it finishes.',
    fsaccess: 'Written straight to the file you chose (File System Access). No size limit.',
    blob: 'Held in the browser until complete, then saved (Blob). Large images (over about 2 GB) may fail.',
    blobInsecure:
      'This page is not served over HTTPS, so streaming to disk is not available here; serve it over HTTPS or from localhost to stream.',
    blobBrowser: 'This browser cannot stream a download to disk from a web page.',
  },
  /** Shown while a download runs, by how it is saved: what leaving the page does to it. */
  leaving: {
    stream: 'Leaving or reloading this page ends the download; the browser then shows the unfinished file as failed.',
    fsaccess: 'Leaving or reloading this page ends the download; the unfinished file is discarded.',
    blob: 'Leaving or reloading this page loses the download: nothing is saved until it is complete.',
  },
  methodLabel: 'Saving',

  credentials: 'Private registry',
  credentialsFor: (registry: string) => `Sign in to ${registry}`,
  username: 'Username',
  password: 'Password',
  passwordHint: 'A password or an access token',
  remember: 'Remember on this device',
  credentialsWhereDirect: (registry: string) =>
    `Sent only to ${registry} and the token service it names, straight from this browser.`,
  credentialsWhereRelay: (registry: string, relay: string) =>
    `Sent only to ${registry} and the token service it names, passing through the relay at ${relay}.`,
  credentialsKeptMemory: 'Kept in this tab only; gone when you close it.',
  credentialsKeptDevice: 'Saved in this browser on this device (local storage). Untick to forget them.',
  credentialsNever: 'Never part of a shared link.',
  signedInAs: (registry: string, user: string) => `Signed in to ${registry} as ${user}`,
  signOut: 'Sign out',
  signOutHint: 'Sign out forgets the username and password for this registry, here and on this device.',
  signInRefused: (registry: string, user: string) =>
    `${registry} refused the password or token for ${user}. Correct it and press Sign in.`,

  details: 'About this image',
  configuration: 'Configuration',
  registry: 'Registry',
  repository: 'Repository',
  tag: 'Tag',
  digest: 'Digest',
  manifestType: 'Manifest type',
  indexType: 'Index type',
  imageId: 'Image ID',
  compressed: 'Download size',
  layersCount: 'Layers',
  created: 'Created',
  entrypoint: 'Entrypoint',
  cmd: 'Cmd',
  workdir: 'Working directory',
  user: 'User',
  env: 'Environment',
  ports: 'Exposed ports',
  labels: 'Labels',
  history: 'History',
  historyEmpty: '(no command recorded)',
  emptyLayer: 'no layer',
  layers: 'Layers',
  mediaType: 'Media type',
  size: 'Size',
  none: 'none',
  tags: 'Tags',
  tagsFilter: 'Filter tags',
  tagsCount: (shown: number, total: number) =>
    shown < total ? `${shown} of ${total} tags` : total === 1 ? '1 tag' : `${total} tags`,
  tagsUnavailable: 'This registry does not list the tags of this repository.',
  tagsLoading: 'Loading tags…',
  tagsNearest: (tag: string) => `This repository has no tag “${tag}”. The tags it has that are closest to it:`,
  useTag: (tag: string) => `Use tag ${tag}`,

  queue: 'Archive',
  queueHint: 'These images go into one archive. Layers they share are stored once.',
  queueKit: 'Offline kit',
  queueKitHint: 'Each image goes into the kit as a tar of its own, so layers they share are in each of those tars.',
  queueSaved: (file: string) => `Saved in ${file}`,
  queueSavedHint: 'Add or remove images, or clear the list, to make another file.',
  remove: 'Remove',
  removeItem: (name: string) => `Remove ${name}`,
  clear: 'Clear',

  progress: 'Progress',
  total: 'Total',
  cancel: 'Cancel',
  state: {
    waiting: 'waiting',
    downloading: 'downloading',
    verifying: 'verifying',
    /** All its bytes are in; the layer is being unpacked, checked and written to the file. */
    writing: 'writing',
    done: 'done',
    shared: 'shared',
  },
  /** A layer download that stalled or broke off and is being picked up again (the reason is its tooltip). */
  stalled: 'stalled, retrying',
  stateLabel: 'State',
  received: 'Received',
  speed: 'Speed',
  eta: 'Time left',
  /** `unpacked`: layers are written inflated, so the file grows faster than the download. */
  written: (size: string, unpacked: boolean) =>
    unpacked ? `${size} written to the file (layers unpacked)` : `${size} written to the file`,
  preparing: 'Preparing…',
  waitingForFile: 'Opening the file…',

  done: 'Done',
  fileName: 'File',
  fileSize: 'Size',
  sha256: 'SHA-256',
  runThis: 'Load it on the machine that needs it:',
  runThisZip: 'Unpack the kit, then run its script (it checks every file first):',
  copy: 'Copy',
  copied: 'Copied',
  notes: 'Notes',
  loadedImages: 'Images in the file',
  untagged: '(untagged)',

  cancelled: 'Cancelled. The unfinished file was abandoned; the browser shows it as failed or removes it.',
  cancelledFiles:
    'Firefox may leave an empty file under the final name and a .part file in your Downloads folder: delete both.',

  errorTitle: 'That did not work',
  technical: 'Details',
  /** In languages other than English: the engine's message, labelled as such (for bug reports). */
  technicalOriginal: '',
  /** In languages other than English: what an error code means, told above the engine's message. */
  technicalCode: (_code: string): string | undefined => undefined,
  advice,

  settingsTitle: 'Settings',
  settingsIntro: 'Saved in this browser. Defaults come from whoever hosts this page (config.json).',
  relayUrl: 'Relay URL',
  relayHint: 'Empty: talk to registries directly (they must allow it, CORS). Example: https://skiff.example.com/relay/',
  mirror: 'Docker Hub mirror',
  mirrorHint: 'Host[:port] that serves Docker Hub images, e.g. a mirror inside your network. Empty: Docker Hub itself.',
  plainHttp: 'Registries over plain HTTP',
  plainHttpHint:
    'Hosts to reach with http:// instead of https://, separated by spaces or commas (localhost always is).',
  layerMode: 'Layers',
  layerModeKept: 'Kept as served — digests stay (default)',
  layerModeKeptHint:
    'Layers stay as the registry served them, so pushing the file back gives the same digests; only zstd layers, which Docker before 23 cannot load, are inflated.',
  layerModeUncompressed: 'Uncompressed, like docker save',
  layerModeUncompressedHint: 'The file docker save would make: layers inflated, so it is bigger.',
  layerModeAsPulled: 'As pulled, zstd layers too',
  layerModeAsPulledHint:
    'Layers kept compressed as the registry serves them. docker load and podman load read them (zstd layers need Docker 25 or newer).',
  outputName: 'File name',
  outputNameHint: 'Empty: named after the image (e.g. nginx_1.27.tar).',
  saveMethod: 'Saving method',
  saveMethodAuto: 'Automatic (stream when the browser can)',
  saveMethodStream: 'Always stream (service worker)',
  saveMethodBlob: 'Always in memory (Blob)',
  hashFile: 'Compute the file’s SHA-256',
  hashFileHint:
    'Shown when done, to compare with a copy elsewhere. Costs one more pass over the whole file; every layer is checked against its digest either way. An offline kit always has it.',
  save: 'Save',
  close: 'Close',
  resetDefaults: 'Reset to defaults',
  invalidUrl: 'Enter a full http:// or https:// address, or leave it empty.',
  invalidHost: (host: string) => `“${host}” is not a host name.`,

  viewPull: 'Pull',
  viewPush: 'Push',
  views: 'What to do',
  push,
  list,

  footerDirect:
    'Runs in your browser: it talks to each registry directly and writes images to your disk; nothing passes through the host of this page.',
  footerRelay: (relay: string) =>
    `Runs in your browser, with every registry request — credentials included — going through the relay at ${relay}, which can see them; images are written to your disk. Settings → Relay URL changes this.`,
  footerRelaySelf: 'The relay is run by the host of this page.',
  help: 'How it works',
  leaveWarning: 'A download is still running. Leaving stops it.',
  signIn: 'Sign in',
  signInPending: 'Not sent yet: press Sign in or Enter.',
  fileAbout: (size: string) => `File about ${size}`,
  /** What joins a label to its value ("Speed: 1 MB/s"), items of a list, and two sentences, in this language. */
  colon: ': ',
  comma: ', ',
  /** A count after a heading, with its own leading space where the language has one: "History (3)". */
  count: (n: number | string) => ` (${n})`,
  sentenceGap: ' ',
  progressAnnounce: (percent: number) => `${percent}% downloaded`,
  doneAnnounce: (file: string) => `Done: ${file} is saved.`,
};

export type Messages = typeof en;
