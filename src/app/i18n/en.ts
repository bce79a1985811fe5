/**
 * Every string the page shows, in English. zh.ts must provide the same keys (its type is `Messages`), so a
 * missing translation is a type error. Engine messages (SkiffError.message) stay in English: they are
 * shown as the technical detail under a translated explanation.
 */
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
  useTag: (tag: string) => `Use tag ${tag}`,

  queue: 'Archive',
  queueHint: 'These images go into one archive. Layers they share are stored once.',
  remove: 'Remove',
  removeItem: (name: string) => `Remove ${name}`,
  clear: 'Clear',
  alreadyQueued: 'This image is already in the archive.',

  progress: 'Progress',
  total: 'Total',
  cancel: 'Cancel',
  state: {
    waiting: 'waiting',
    downloading: 'downloading',
    verifying: 'verifying',
    done: 'done',
    shared: 'shared',
  },
  /** A layer download that stalled or broke off and is being picked up again (the reason is its tooltip). */
  stalled: 'stalled, retrying',
  stateLabel: 'State',
  received: 'Received',
  speed: 'Speed',
  eta: 'Time left',
  written: (size: string) => `${size} written to the file`,
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
  advice: {
    network: (host: string) =>
      `The browser could not reach the registry${host ? ` at ${host}` : ''}, and browsers do not say why. Either it is down or cannot be reached from here (a wrong name or port, nothing listening, a firewall), or it does not let web pages call it: most registries (Docker Hub, GHCR, Quay, …) send no CORS headers.`,
    networkPlainHttp: (host: string) =>
      `This page spoke HTTPS to ${host}. If it serves plain HTTP, add it under Settings → Registries over plain HTTP.`,
    networkFix:
      'For a registry without CORS, set a relay in Settings → Relay URL. Whoever hosts this page can run one (npm start serves the page with a relay at /relay/); ask your administrator for its address.',
    networkRelay: (relay: string) =>
      `The relay at ${relay} did not answer. Check that it is running and that this browser can reach it.`,
    relayHostNotAllowed: (relay: string, host: string) =>
      `The relay at ${relay} refused to contact ${host}: it is not on the relay’s allowlist, so the registry was never asked. Ask whoever runs the relay to add ${host} to RELAY_ALLOW.`,
    relayPrivateAddress: (relay: string, host: string) =>
      `The relay at ${relay} refused to contact ${host}: it is a private, loopback or link-local address, which the relay reaches only when told to. Ask whoever runs the relay to add ${host} to RELAY_ALLOW_PRIVATE (and to RELAY_PLAIN_HTTP if it serves plain HTTP).`,
    relayBypass: (host: string) =>
      `If ${host} sends CORS headers itself, clear Relay URL in Settings and the page will reach it directly.`,
    relayRedirect: (relay: string, host: string) =>
      `The registry sent the relay at ${relay} on to ${host} (a redirect or its sign-in service), and the relay does not go there. Ask whoever runs the relay to add ${host} to RELAY_ALLOW, and to RELAY_PLAIN_HTTP if it is plain HTTP.`,
    relayDns: (relay: string, host: string) =>
      `The relay at ${relay} could not find ${host}: the name does not resolve (DNS). Check the registry name; a name only your own network knows cannot be found by a relay outside it.`,
    relayRefused: (relay: string, host: string) =>
      `${host} refused the connection from the relay at ${relay}: nothing is listening on that port, or the registry is down. Check the port and that the registry is running.`,
    relayTls: (relay: string, host: string) =>
      `The relay at ${relay} spoke HTTPS to ${host}, and ${host} did not answer in HTTPS: it most likely serves plain HTTP. Ask whoever runs the relay to add ${host} to RELAY_PLAIN_HTTP.`,
    relayUnreachable: (relay: string, host: string) =>
      `The relay at ${relay} could not reach ${host}: the registry is down, or the network between them blocks it. The registry never answered.`,
    relayTimeout: (relay: string, host: string) =>
      `${host} did not answer the relay at ${relay} in time. Try again; if it keeps happening, the registry is overloaded or the way to it is very slow.`,
    relayRateLimited: (relay: string) =>
      `The relay at ${relay} is limiting requests from this browser (not the registry). Wait a minute and try again; whoever runs the relay can raise RELAY_RATE_LIMIT or RELAY_CONCURRENCY.`,
    relayOrigin: (relay: string) =>
      `The relay at ${relay} does not serve pages from this address. Ask whoever runs it to add this page’s origin to RELAY_ORIGINS.`,
    relayOther: (relay: string) =>
      `The relay at ${relay} refused the request, so the registry was never asked. The details say why.`,
    timeout: 'The registry took too long to answer. Try again; on a slow network a relay closer to the registry helps.',
    unauthorized:
      'The registry refused these credentials. Check the username and the password or access token under “Private registry”.',
    signIn:
      'This registry or repository needs you to sign in: enter a username and a password or access token under “Private registry”.',
    denied:
      'The registry knows you but does not let this account pull this repository. Check the name, or ask for pull access.',
    notFound: 'The registry has no such image. Check the repository name and the tag or digest.',
    dockerHubDenied: (name: string) =>
      `pull access denied for ${name}, repository does not exist or may require 'docker login'`,
    dockerHubDeniedFix:
      'Docker Hub answers this way both for a name that does not exist and for a private repository. Check the spelling (official images have no namespace: nginx, not nginx/nginx), or sign in under “Private registry”.',
    rateLimited:
      'The registry is limiting requests. Wait a while, or sign in (Docker Hub allows more pulls to signed-in users).',
    platformNotFound: 'The image has no build for that platform. Pick one from the Platform list.',
    platformList: (list: string) => `Available: ${list}`,
    corrupt:
      'The data did not match its checksum, so nothing was saved as complete. Try again; if it keeps happening, something between you and the registry is changing the data.',
    malformedLayer:
      'A layer arrived intact (its checksum matched what the registry lists), but the tar archive inside it is malformed, so docker load would fail on it. The image was built or pushed that way: trying again will not help. The details name the entry; tell whoever publishes the image.',
    unsupported: 'This image uses a format Skiff cannot read.',
    badManifest: 'The registry sent an image description that is not valid.',
    tooLarge: 'Something the registry sent is larger than Skiff accepts.',
    auth: 'The registry’s sign-in service answered in a way Skiff could not use. If you use a relay, check that it passes the token service through.',
    http: (status: string) =>
      `The registry answered with an error (HTTP ${status}). Try again later; the details show what it said.`,
    reference: 'That is not a valid image name.',
    saveAborted: 'No file was chosen, so nothing was downloaded.',
    saveFailed: 'The file could not be written: the browser stopped the download, or the disk is full.',
    saveStalled: (seconds: number) =>
      `The browser stopped taking the file (nothing for ${seconds} s), so the download was ended. The file in your Downloads folder is incomplete, even if the browser lists it as finished: delete it and download again.`,
    unknown: 'Something unexpected went wrong.',
  },

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
  layerModeUncompressed: 'Uncompressed, like docker save',
  layerModeUncompressedHint: 'The file docker save would make: layers inflated, so it is bigger.',
  layerModeAsPulled: 'As pulled — smaller and faster',
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
  push: {
    title: 'Push a saved image to a registry',
    intro:
      'Choose a tar made by docker save, podman save, skopeo, crane or Skiff (gzip-compressed too), or a Skiff .zip kit — or drop it on the page. It is read from your disk as it is pushed, never whole in memory.',
    file: 'Tar file',
    reading: 'Reading the archive…',
    holds: (n: number, format: string) => `${n === 1 ? 'One image' : `${n} images`} in this ${format} file`,
    untagged: '(untagged)',
    layers: (n: number) => `${n} layer${n === 1 ? '' : 's'}`,
    imageId: 'Image ID',
    target: 'Push to',
    targetHint: 'registry/repository:tag, e.g. harbor.corp/team/app:1.4',
    compress: 'Compress uncompressed layers with gzip on the way (as docker push does)',
    compressHint: 'Untick to push layers as they are in the file. The image ID stays the same either way.',
    signIn: (registry: string) => `Sign in to ${registry}`,
    start: 'Push',
    pushing: 'Pushing',
    state: {
      waiting: 'waiting',
      checking: 'checking',
      uploading: 'uploading',
      exists: 'already there',
      mounted: 'mounted',
      done: 'done',
      shared: 'shared',
    } as Record<string, string>,
    pushed: 'Pushed',
    digest: 'Manifest digest',
    pullWith: 'Pull it with',
    summary: (uploaded: number, existing: number, mounted: number) =>
      `${uploaded} uploaded, ${existing} already in the registry, ${mounted} mounted`,
    cancelled: 'Cancelled. No tag was created for images whose manifest had not been pushed yet.',
    failed: 'The push failed',
    tampered: 'A layer in this file does not match its digest: the file is damaged or was altered. Nothing was tagged.',
    notArchive: 'This file is not an image archive Skiff can read.',
  },

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
  progressAnnounce: (percent: number) => `${percent}% downloaded`,
  doneAnnounce: (file: string) => `Done: ${file} is saved.`,
};

export type Messages = typeof en;
