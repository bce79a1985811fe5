/// <reference types="svelte" />
/// <reference types="vite/client" />

// StreamSaver ships no types; this is the part we use.
declare module 'streamsaver' {
  const streamSaver: {
    mitm: string;
    createWriteStream(filename: string, options?: { size?: number; pathname?: string }): WritableStream<Uint8Array>;
  };
  export default streamSaver;
}
