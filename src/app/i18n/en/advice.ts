/** What the page says when something goes wrong (English). */
import { formatDuration } from '../../lib/format.ts';

export const advice = {
  network: (host: string) =>
    `The browser could not reach the registry${host ? ` at ${host}` : ''}, and browsers do not say why. Either it is down or cannot be reached from here (a wrong name or port, nothing listening, a firewall), or it does not let web pages call it: most registries (Docker Hub, GHCR, Quay, …) send no CORS headers.`,
  networkPlainHttp: (host: string) =>
    `This page spoke HTTPS to ${host}. If it serves plain HTTP, add it under Settings → Registries over plain HTTP.`,
  networkFix:
    'For a registry without CORS, set a relay in Settings → Relay URL. Whoever hosts this page can run one (npm start serves the page with a relay at /relay/); ask your administrator for its address.',
  networkRelay: (relay: string) =>
    `The relay at ${relay} did not answer. Check that it is running and that this browser can reach it.`,
  relayCheckName: (host: string, registries: string[]) =>
    `First check the registry name ${host} for a typo.${registries.length ? ` The registries people usually mean, nearest first: ${registries.join(', ')}.` : ''}`,
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
  relayDnsPublic: (relay: string, host: string) =>
    `The relay at ${relay} could not find ${host}: the name does not resolve (DNS) from the relay, so the registry was never asked. ${host} is a public registry, so the relay’s own network most likely cannot reach the internet or its DNS (a firewall, an air gap). Ask whoever runs the relay.`,
  relayDnsMirror:
    'For Docker Hub images, a mirror inside your network can stand in: set it under Settings → Docker Hub mirror.',
  relayRefused: (relay: string, host: string) =>
    `${host} refused the connection from the relay at ${relay}: nothing is listening on that port, or the registry is down. Check the port and that the registry is running.`,
  relayConnectTimeout: (relay: string, host: string) =>
    `The relay at ${relay} could not connect to ${host}: the connection attempt timed out. A firewall may be dropping it, or the registry is down. The registry never answered.`,
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
  waitNoAnswer: (host: string) =>
    `${host} did not answer: it accepted the connection but sent nothing back, so the page gave up. The registry may be down or overloaded; try again later.`,
  waitTooSlow: (host: string) =>
    `${host} answered far too slowly (under 1 kB a second), so the page gave up. Try again; on a slow network a relay closer to the registry helps.`,
  waitStalling: (host: string) =>
    `${host} kept stalling: its answer stopped midway again and again, so the page gave up. Try again; on a slow network a relay closer to the registry helps.`,
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
  dockerHubQuota:
    'Docker Hub refused with 429 TOOMANYREQUESTS: the pull quota of this network’s address is used up (Docker Hub counts the pulls of anonymous users per address).',
  dockerHubQuotaShared: (relay: string) =>
    `Docker Hub refused with 429 TOOMANYREQUESTS: the pull quota is used up. Everyone whose pages go through the relay at ${relay} shares one anonymous quota, because Docker Hub counts anonymous pulls per address (and holds shared cloud addresses to less).`,
  dockerHubQuotaAccount:
    'Docker Hub refused with 429 TOOMANYREQUESTS: the pull quota of the account you signed in with is used up. Wait until it resets, or sign in with another account.',
  dockerHubQuotaFix:
    'Sign in under “Private registry” with a Docker Hub account or a personal access token: a free account has a quota of its own.',
  quotaLow: (left: number, limit: number | undefined) =>
    `Docker Hub: ${left}${limit ? ` of ${limit}` : ''} pulls left in the anonymous quota of this network’s address.`,
  quotaLowShared: (left: number, limit: number | undefined, relay: string) =>
    `Docker Hub: ${left}${limit ? ` of ${limit}` : ''} pulls left in the one anonymous quota that everyone using the relay at ${relay} shares.`,
  quotaLowAccount: (left: number, limit: number | undefined) =>
    `Docker Hub: ${left}${limit ? ` of ${limit}` : ''} pulls left in the quota of the account you signed in with.`,
  quotaResets: (resetAt: number, now: number) =>
    `The quota resets at ${new Date(resetAt).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' })} (in ${formatDuration((resetAt - now) / 1000, 'en')}).`,
  quotaWindow: (seconds: number) =>
    `The quota counts pulls over ${seconds % 3600 ? formatDuration(seconds, 'en') : `${seconds / 3600} h`}: they free up again within that time.`,
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
  deniedPush:
    'The registry does not let you push to this repository (access denied). Check the project and repository name; sign in under “Private registry” with an account that may push (in Harbor: Developer or higher on the project), or ask for push rights.',
  notFoundPush:
    'The registry has no such project or repository to push to. Check the name; in Harbor, the project must exist before you push into it.',
  fileDamaged:
    'A layer in this file does not match its checksum: the file is damaged or was changed after it was saved. Nothing was tagged. Save the image again and push the new file.',
  notArchive:
    'This file is not an image archive Skiff can read. Choose the .tar that docker save, podman save, skopeo, crane or Skiff wrote (gzip-compressed too), or a Skiff .zip kit.',
  pushTarget: 'That is not a name to push to. Write registry/repository:tag, e.g. harbor.corp/team/app:1.4.',
  fileUnreadable:
    'The browser could not read the chosen file: it was moved, deleted or changed since it was chosen. Choose it again.',
};
