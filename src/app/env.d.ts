/// <reference types="svelte" />
/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** The installed streamsaver package's version (vite.config.ts). */
  readonly STREAMSAVER_VERSION: string;
}

// StreamSaver ships no types; this is the part we use.
declare module 'streamsaver' {
  const streamSaver: {
    mitm: string;
    createWriteStream(filename: string, options?: { size?: number; pathname?: string }): WritableStream<Uint8Array>;
  };
  export default streamSaver;
}
