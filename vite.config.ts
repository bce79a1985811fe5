import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { type Plugin, defineConfig } from 'vite';
import { STREAMSAVER_DIR } from './src/app/engine/save.ts';

const require = createRequire(import.meta.url);
const STREAMSAVER_VERSION: string = require('streamsaver/package.json').version;

/**
 * StreamSaver's `mitm.html` and `sw.js`, taken from node_modules at build time (never committed copies) and
 * served by us, so no third-party origin is involved. mitm.html's inline script moves to mitm.js so the
 * page can carry a CSP without 'unsafe-inline'; the script itself is unchanged. Its folder is the service
 * worker's scope, away from anything else on the site.
 */
function streamSaverFiles(): Record<string, string> {
  const html = readFileSync(require.resolve('streamsaver/mitm.html'), 'utf8');
  const match = /<script>([\s\S]*?)<\/script>/.exec(html);
  if (!match) throw new Error('streamsaver/mitm.html changed: no inline <script> found to move out');
  const csp = "default-src 'none'; script-src 'self'; worker-src 'self'; connect-src 'self'";
  const page = `<!doctype html>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="referrer" content="no-referrer">
<title>StreamSaver</title>
<!-- StreamSaver ${STREAMSAVER_VERSION} mitm.html, its script moved to mitm.js. MIT License, Jimmy Wärting. -->
<script src="mitm.js"></script>
`;
  return {
    'mitm.html': page,
    'mitm.js': `/*! From streamsaver/mitm.html. MIT License. Jimmy Wärting <https://jimmy.warting.se/opensource> */\n${match[1]!.trim()}\n`,
    'sw.js': pulledStreams(readFileSync(require.resolve('streamsaver/sw.js'), 'utf8')),
  };
}

/**
 * StreamSaver's sw.js queues every chunk the page posts, as fast as it posts them. Ours is pulled: the
 * download asks for the next chunk only once it has taken the last one, and only then is that chunk
 * acknowledged to the page (its buffer given back to be filled again; src/app/engine/stream-save.ts). So
 * the browser holds one chunk at a time, whatever the file's size.
 */
function pulledStreams(sw: string): string {
  const original = /function createStream \(port\) \{[\s\S]*?\n\}\n/;
  if (!original.test(sw)) throw new Error('streamsaver/sw.js changed: createStream(port) not found to replace');
  return sw.replace(
    original,
    `// Skiff: pulled, each chunk acknowledged (its buffer given back) once the download has taken it.
function createStream (port) {
  const queue = []
  let ended = false
  let taken = null
  let wake = null
  let control = null
  port.onmessage = ({ data }) => {
    if (data === 'abort') return control && control.error('Aborted the download')
    if (data === 'end') ended = true
    else queue.push(data)
    if (wake) wake()
  }
  return new ReadableStream({
    start (controller) {
      control = controller
    },
    pull (controller) {
      // A read for the next chunk means the last one has been taken whole.
      if (taken) port.postMessage({ ack: true, chunk: taken }, [taken.buffer])
      taken = null
      return new Promise(resolve => {
        wake = () => {
          if (queue.length) {
            taken = queue.shift()
            controller.enqueue(taken)
          } else if (ended) {
            controller.close()
          } else return
          wake = null
          resolve()
        }
        wake()
      })
    },
    cancel (reason) {
      console.log('user aborted', reason)
      port.postMessage({ abort: true })
    }
  }, { highWaterMark: 0 })
}
`,
  );
}

function streamSaver(): Plugin {
  const types: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8' };
  return {
    name: 'skiff-streamsaver',
    generateBundle() {
      for (const [name, source] of Object.entries(streamSaverFiles())) {
        this.emitFile({ type: 'asset', fileName: `${STREAMSAVER_DIR}${name}`, source });
      }
    },
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const name = new RegExp(`/${STREAMSAVER_DIR}([a-z.]+)(?:\\?|$)`).exec(req.url ?? '')?.[1];
        const source = name ? streamSaverFiles()[name] : undefined;
        if (!name || source === undefined) return next();
        res.setHeader('content-type', types[name.split('.').pop()!] ?? 'application/octet-stream');
        res.end(source);
      });
    },
  };
}

/** Vite's dev server injects component styles as <style> elements; the built page needs none of that. */
function devCsp(): Plugin {
  return {
    name: 'skiff-dev-csp',
    apply: 'serve',
    transformIndexHtml: (html) => html.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'"),
  };
}

// Rolldown's [PLUGIN_TIMINGS] report (plugins took much of the build time) says nothing about the app, yet on a busy
// machine it printed a yellow block before `npm start`'s address. Only that check is off; every other warning stays.
const quietTimings = { bundlerTimings: false };

// `base: './'` keeps every asset URL relative, so dist/ works from any path of any static server.
export default defineConfig({
  base: './',
  plugins: [svelte(), streamSaver(), devCsp()],
  build: {
    target: 'es2022',
    sourcemap: true,
    rolldownOptions: { checks: quietTimings },
  },
  // The sha256 worker imports modules; the page starts it with { type: 'module' }.
  worker: { format: 'es', rolldownOptions: { checks: quietTimings } },
  // The version of the StreamSaver files copied above; the page asks for mitm.html?version=… so a new one is not
  // served from a stale cache.
  define: { 'import.meta.env.STREAMSAVER_VERSION': JSON.stringify(STREAMSAVER_VERSION) },
});
